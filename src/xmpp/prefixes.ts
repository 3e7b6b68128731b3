/**
 * Gives a payload that crossed an XMPP server back its conventional namespace prefixes. Servers re-serialise
 * stanzas (Prosody writes `<venID xmlns="…energyinterop…">` for `ei:venID` and `ns1:schemaVersion` for
 * `ei:schemaVersion`): namespace-equivalent, but an XML signature's exclusive canonicalisation covers the
 * prefixes, so a signed payload would no longer verify. Rewriting every name to the prefix the OpenADR
 * encoder and signer use (oadr, ei, pyld, emix, xcal, strm, power, scale, ds, dsp) restores the signed form
 * of documents written with those prefixes; names in other namespaces keep a default-namespace form.
 */
import { xml, type XmlElement } from '@xmpp/client'
import { NS } from '../openadr/codec/namespaces.js'

const xmlNs = 'http://www.w3.org/XML/1998/namespace'

/** Namespace URI → the prefix OpenADR documents are written with. */
export const conventionalPrefixes: ReadonlyMap<string, string> = new Map([
  ...Object.entries(NS).map(([prefix, uri]) => [uri, prefix] as [string, string]),
  ['http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties', 'dsp'],
  ['http://www.w3.org/2001/XMLSchema-instance', 'xsi']
])

type Scope = ReadonlyMap<string, string>

/** A copy of `element` (a stanza child) with conventional prefixes, declared on the copy's root. */
export function withConventionalPrefixes (element: XmlElement): XmlElement {
  const used = new Set<string>()
  const root = rewrite(element, scopeOf(element), '', used)
  for (const prefix of [...used].sort()) {
    const uri = [...conventionalPrefixes].find(([, p]) => p === prefix)?.[0]
    if (uri !== undefined) root.attrs[`xmlns:${prefix}`] = uri
  }
  return root
}

/** The namespace declarations in scope at `element`, from its ancestors and itself. */
function scopeOf (element: XmlElement): Scope {
  const chain: XmlElement[] = []
  for (let e: XmlElement | null | undefined = element.parent; e !== null && e !== undefined; e = e.parent) chain.unshift(e)
  let scope: Scope = new Map([['xml', xmlNs]])
  for (const ancestor of chain) scope = declare(scope, ancestor)
  return scope
}

function declare (scope: Scope, element: XmlElement): Scope {
  let next: Map<string, string> | undefined
  for (const [name, value] of Object.entries(element.attrs)) {
    if (value === undefined) continue
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      next ??= new Map(scope)
      next.set(name === 'xmlns' ? '' : name.slice(6), value)
    }
  }
  return next ?? scope
}

function split (qualified: string): [prefix: string, local: string] {
  const colon = qualified.indexOf(':')
  return colon === -1 ? ['', qualified] : [qualified.slice(0, colon), qualified.slice(colon + 1)]
}

function rewrite (element: XmlElement, outer: Scope, outputDefault: string, used: Set<string>): XmlElement {
  const scope = declare(outer, element)
  const [prefix, local] = split(element.name)
  const uri = scope.get(prefix) ?? ''
  const attrs: Record<string, string> = {}
  let name = local
  let childDefault = outputDefault
  const conventional = conventionalPrefixes.get(uri)
  if (conventional !== undefined) {
    name = `${conventional}:${local}`
    used.add(conventional)
  } else if (uri !== outputDefault) {
    attrs.xmlns = uri
    childDefault = uri
  }
  let generated = 0
  for (const [attrName, value] of Object.entries(element.attrs)) {
    if (value === undefined || attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue
    const [attrPrefix, attrLocal] = split(attrName)
    // An unprefixed attribute is in no namespace, whatever the default namespace.
    if (attrPrefix === '' || attrPrefix === 'xml') { attrs[attrName] = value; continue }
    const attrUri = scope.get(attrPrefix) ?? ''
    const attrConventional = conventionalPrefixes.get(attrUri)
    if (attrConventional !== undefined) {
      attrs[`${attrConventional}:${attrLocal}`] = value
      used.add(attrConventional)
    } else {
      const fresh = `ns${++generated}`
      attrs[`xmlns:${fresh}`] = attrUri
      attrs[`${fresh}:${attrLocal}`] = value
    }
  }
  const copy = xml(name, attrs)
  for (const child of element.children) {
    copy.append(typeof child === 'string' ? child : rewrite(child, scope, childDefault, used))
  }
  return copy
}
