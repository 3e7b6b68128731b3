/**
 * A strict, small XML parser for OpenADR payloads: text in, a namespace-resolved element tree out. It checks
 * well-formedness (one root, matched tags, quoted unique attributes, bound prefixes, valid references and
 * characters) and refuses any DOCTYPE outright, so no entity can ever be declared or expanded (XXE, billion
 * laughs). It keeps only what the codec reads: elements, attributes and character data (comments and
 * processing instructions are skipped). Hand-written rather than SAX-based because decoding an oadrPoll sits
 * on the VTN's hot path and must cost microseconds.
 */
import { XmlDoctypeError, XmlSyntaxError } from '../errors.js'

export interface XmlAttribute {
  /** Namespace URI ('' when unprefixed). */
  ns: string
  name: string
  value: string
}

export interface XmlElement {
  /** Namespace URI ('' when none is in scope). */
  ns: string
  /** Local name. */
  name: string
  attributes: XmlAttribute[]
  children: XmlElement[]
  /** Character data directly inside this element (entity references resolved). */
  text: string
}

export interface XmlParseOptions {
  /**
   * Longest document accepted, in characters.
   * @default 4_194_304
   */
  maxLength?: number
  /**
   * Deepest element nesting accepted.
   * @default 64
   */
  maxDepth?: number
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'
// eslint-disable-next-line no-control-regex
const forbiddenChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/
const nameStart = /[A-Za-z_\u00C0-\uFFFD]/
const nameRest = /^[A-Za-z_\u00C0-\uFFFD][-.0-9A-Za-z_\u00B7\u00C0-\uFFFD]*$/

/** Prefix to namespace URI ('' is the default namespace); copied, never changed, when an element declares one. */
type Scope = ReadonlyMap<string, string>

/** A start tag already parsed under the same namespace scope: reused when the same tag text comes again. */
interface ParsedTag {
  qname: string
  ns: string
  name: string
  attributes: XmlAttribute[]
  scope: Scope
  selfClosing: boolean
}

/**
 * Clients send the same tags (the root with its namespace declarations, then the vocabulary of the schema)
 * on every request, so each distinct tag text is checked and resolved once per scope. Bounded, so varied input cannot grow it without end.
 */
const tagCache = new WeakMap<Scope, Map<string, ParsedTag>>()
const maxCachedTagsPerScope = 256
const rootScope: Scope = new Map([['xml', XML_NS], ['xmlns', XMLNS_NS]])

interface Open {
  element: XmlElement
  qname: string
  scope: Scope
}

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x0A || c === 0x09 || c === 0x0D
}

function checkName (name: string, at: number): void {
  const colon = name.indexOf(':')
  const ok = colon === -1
    ? nameRest.test(name)
    : colon === name.lastIndexOf(':') && nameRest.test(name.slice(0, colon)) && nameRest.test(name.slice(colon + 1))
  if (!ok) throw new XmlSyntaxError(`invalid name '${name.slice(0, 40)}'`, at)
}

function decodeReferences (raw: string, at: number): string {
  let amp = raw.indexOf('&')
  if (amp === -1) return raw
  let out = ''
  let last = 0
  while (amp !== -1) {
    const semi = raw.indexOf(';', amp + 1)
    if (semi === -1 || semi - amp > 12) throw new XmlSyntaxError('unterminated reference', at + amp)
    const ref = raw.slice(amp + 1, semi)
    let ch: string
    if (ref === 'lt') ch = '<'
    else if (ref === 'gt') ch = '>'
    else if (ref === 'amp') ch = '&'
    else if (ref === 'quot') ch = '"'
    else if (ref === 'apos') ch = '\''
    else if (/^#[0-9]+$/.test(ref) || /^#x[0-9A-Fa-f]+$/.test(ref)) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      const valid = code === 0x9 || code === 0xA || code === 0xD || (code >= 0x20 && code <= 0xD7FF) ||
        (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF)
      if (!valid) throw new XmlSyntaxError(`invalid character reference &${ref};`, at + amp)
      ch = String.fromCodePoint(code)
    } else {
      throw new XmlSyntaxError(`undeclared entity &${ref.slice(0, 20)};`, at + amp)
    }
    out += raw.slice(last, amp) + ch
    last = semi + 1
    amp = raw.indexOf('&', last)
  }
  return out + raw.slice(last)
}

/** Parses one XML document; throws XmlSyntaxError or XmlDoctypeError. */
export function parseXml (xml: string, options: XmlParseOptions = {}): XmlElement {
  const maxLength = options.maxLength ?? 4_194_304
  const maxDepth = options.maxDepth ?? 64
  if (xml.length > maxLength) throw new XmlSyntaxError(`document longer than ${maxLength} characters`)
  if (forbiddenChars.test(xml)) throw new XmlSyntaxError('character not allowed in XML')
  let pos = xml.charCodeAt(0) === 0xFEFF ? 1 : 0
  if (xml.startsWith('<?xml', pos) && isSpace(xml.charCodeAt(pos + 5))) {
    const end = xml.indexOf('?>', pos)
    if (end === -1) throw new XmlSyntaxError('unterminated XML declaration', pos)
    if (!/^<\?xml\s+version\s*=\s*(['"])1\.[0-9]+\1(\s+encoding\s*=\s*(['"])[A-Za-z][-.\w]*\3)?(\s+standalone\s*=\s*(['"])(yes|no)\5)?\s*$/.test(xml.slice(pos, end))) {
      throw new XmlSyntaxError('malformed XML declaration', pos)
    }
    pos = end + 2
  }
  const stack: Open[] = []
  let root: XmlElement | undefined
  const n = xml.length

  while (pos < n) {
    const lt = xml.indexOf('<', pos)
    const textEnd = lt === -1 ? n : lt
    if (textEnd > pos) {
      const raw = xml.slice(pos, textEnd)
      const top = stack[stack.length - 1]
      if (top === undefined) {
        if (raw.trim() !== '') throw new XmlSyntaxError('text outside the root element', pos)
      } else {
        if (raw.includes(']]>')) throw new XmlSyntaxError("']]>' in character data", pos)
        top.element.text += decodeReferences(raw, pos)
      }
    }
    if (lt === -1) break
    pos = lt
    const c1 = xml.charCodeAt(pos + 1)
    if (c1 === 0x21 /* ! */) {
      if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos + 4)
        if (end === -1) throw new XmlSyntaxError('unterminated comment', pos)
        if (xml.slice(pos + 4, end).includes('--')) throw new XmlSyntaxError("'--' inside a comment", pos)
        pos = end + 3
      } else if (xml.startsWith('<![CDATA[', pos)) {
        const top = stack[stack.length - 1]
        if (top === undefined) throw new XmlSyntaxError('CDATA outside the root element', pos)
        const end = xml.indexOf(']]>', pos + 9)
        if (end === -1) throw new XmlSyntaxError('unterminated CDATA section', pos)
        top.element.text += xml.slice(pos + 9, end)
        pos = end + 3
      } else if (xml.startsWith('<!DOCTYPE', pos) || xml.startsWith('<!ENTITY', pos)) {
        throw new XmlDoctypeError()
      } else {
        throw new XmlSyntaxError('markup declaration not allowed', pos)
      }
    } else if (c1 === 0x3F /* ? */) {
      const end = xml.indexOf('?>', pos + 2)
      if (end === -1) throw new XmlSyntaxError('unterminated processing instruction', pos)
      const target = /^[^\s?]+/.exec(xml.slice(pos + 2, end))?.[0] ?? ''
      if (target === '' || target.toLowerCase() === 'xml') throw new XmlSyntaxError('misplaced XML declaration or empty PI', pos)
      pos = end + 2
    } else if (c1 === 0x2F /* / */) {
      const end = xml.indexOf('>', pos + 2)
      if (end === -1) throw new XmlSyntaxError('unterminated end tag', pos)
      const qname = xml.slice(pos + 2, end).trimEnd()
      const top = stack.pop()
      if (top === undefined || top.qname !== qname) {
        throw new XmlSyntaxError(`end tag </${qname.slice(0, 40)}> does not match ${top === undefined ? 'any open element' : `<${top.qname}>`}`, pos)
      }
      pos = end + 1
    } else {
      pos = parseStartTag(pos + 1)
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed element <${stack[stack.length - 1]?.qname ?? ''}>`)
  if (root === undefined) throw new XmlSyntaxError('no root element')
  return root

  function parseStartTag (start: number): number {
    const parent = stack[stack.length - 1]
    if (parent === undefined && root !== undefined) throw new XmlSyntaxError('more than one root element', start - 1)
    if (stack.length >= maxDepth) throw new XmlSyntaxError(`elements nested deeper than ${maxDepth}`, start - 1)
    const parentScope = parent?.scope ?? rootScope
    const gt = xml.indexOf('>', start)
    const tagText = gt === -1 ? '' : xml.slice(start, gt)
    const cached = tagText.length > 0 ? tagCache.get(parentScope)?.get(tagText) : undefined
    if (cached !== undefined) {
      const element: XmlElement = { ns: cached.ns, name: cached.name, attributes: cached.attributes, children: [], text: '' }
      if (parent === undefined) root = element
      else parent.element.children.push(element)
      if (!cached.selfClosing) stack.push({ element, qname: cached.qname, scope: cached.scope })
      return gt + 1
    }
    let p = start
    if (!nameStart.test(xml[p] ?? '')) throw new XmlSyntaxError('invalid start tag', start - 1)
    while (p < n) {
      const c = xml.charCodeAt(p)
      if (isSpace(c) || c === 0x3E || c === 0x2F) break
      p++
    }
    const qname = xml.slice(start, p)
    checkName(qname, start)
    const rawAttrs: Array<[string, string, number]> = []
    let selfClosing = false
    for (;;) {
      const before = p
      while (p < n && isSpace(xml.charCodeAt(p))) p++
      if (p >= n) throw new XmlSyntaxError('unterminated start tag', start - 1)
      const c = xml.charCodeAt(p)
      if (c === 0x3E) { p++; break }
      if (c === 0x2F) {
        if (xml.charCodeAt(p + 1) !== 0x3E) throw new XmlSyntaxError("expected '>' after '/'", p)
        selfClosing = true
        p += 2
        break
      }
      if (p === before) throw new XmlSyntaxError('attributes must be separated by white space', p)
      const eq = xml.indexOf('=', p)
      if (eq === -1) throw new XmlSyntaxError('attribute without value', p)
      const aname = xml.slice(p, eq).trimEnd()
      checkName(aname, p)
      p = eq + 1
      while (p < n && isSpace(xml.charCodeAt(p))) p++
      const quote = xml[p]
      if (quote !== '"' && quote !== '\'') throw new XmlSyntaxError('attribute value must be quoted', p)
      const close = xml.indexOf(quote, p + 1)
      if (close === -1) throw new XmlSyntaxError('unterminated attribute value', p)
      const rawValue = xml.slice(p + 1, close)
      if (rawValue.includes('<')) throw new XmlSyntaxError("'<' in attribute value", p)
      const value = decodeReferences(rawValue, p + 1)
      rawAttrs.push([aname, /[\t\n\r]/.test(value) ? value.replace(/[\t\n\r]/g, ' ') : value, p])
      p = close + 1
    }

    let scope = parentScope
    let plain = 0
    for (let i = 0; i < rawAttrs.length; i++) {
      const [aname, value, at] = rawAttrs[i] as [string, string, number]
      for (let j = 0; j < i; j++) if (rawAttrs[j]?.[0] === aname) throw new XmlSyntaxError(`duplicate attribute '${aname}'`, at)
      if (aname === 'xmlns' || aname.startsWith('xmlns:')) {
        const prefix = aname === 'xmlns' ? '' : aname.slice(6)
        if (prefix === 'xmlns' || (prefix !== '' && value === '') || value === XMLNS_NS ||
          (prefix === 'xml') !== (value === XML_NS)) {
          throw new XmlSyntaxError(`illegal namespace declaration ${aname}`, at)
        }
        const declared = scope === parentScope ? new Map(scope) : scope as Map<string, string>
        declared.set(prefix, value)
        scope = declared
      } else {
        plain++
      }
    }
    const element: XmlElement = { ns: resolve(scope, qname, true, start), name: localName(qname), attributes: [], children: [], text: '' }
    if (plain > 0) {
      for (const [aname, value, at] of rawAttrs) {
        if (aname === 'xmlns' || aname.startsWith('xmlns:')) continue
        const ns = resolve(scope, aname, false, at)
        const name = localName(aname)
        if (element.attributes.some(a => a.ns === ns && a.name === name)) throw new XmlSyntaxError(`duplicate attribute '${aname}'`, at)
        element.attributes.push({ ns, name, value })
      }
    }
    if (parent === undefined) root = element
    else parent.element.children.push(element)
    if (!selfClosing) stack.push({ element, qname, scope })
    // Only a tag whose first '>' is its end can be recognised again by its text.
    if (p === gt + 1) {
      let byText = tagCache.get(parentScope)
      if (byText === undefined) { byText = new Map(); tagCache.set(parentScope, byText) }
      if (byText.size < maxCachedTagsPerScope) {
        Object.freeze(element.attributes)
        byText.set(tagText, { qname, ns: element.ns, name: element.name, attributes: element.attributes, scope, selfClosing })
      }
    }
    return p
  }
}

function localName (qname: string): string {
  const colon = qname.indexOf(':')
  return colon === -1 ? qname : qname.slice(colon + 1)
}

function resolve (scope: Scope, qname: string, isElement: boolean, at: number): string {
  const colon = qname.indexOf(':')
  if (colon === -1) return isElement ? (scope.get('') ?? '') : ''
  const prefix = qname.slice(0, colon)
  const uri = scope.get(prefix)
  if (uri === undefined || uri === '') throw new XmlSyntaxError(`unbound namespace prefix '${prefix}'`, at)
  return uri
}
