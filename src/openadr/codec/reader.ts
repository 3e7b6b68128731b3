/**
 * Reading the element tree the way the schema reads it: `Seq` walks an element's children as an
 * `xs:sequence` (required, optional and repeated particles, in order, nothing left over), and the value
 * readers check the simple types (xs:boolean, xs:unsignedInt, xs:float, xcal dateTime and duration,
 * enumerations). Every violation is a SchemaViolationError (response code 459).
 */
import { SchemaViolationError } from '../errors.js'
import type { XmlElement } from './xml.js'
import { parseDateTime, parseDuration } from './time.js'

const wsOnly = /^[ \t\r\n]*$/
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'
const EI = 'http://docs.oasis-open.org/ns/energyinterop/201110'
const OADR = 'http://openadr.org/oadr-2.0b/2012/07'

/**
 * Attributes the 2.0b schema allows somewhere: xsi:*, ei:schemaVersion (messages), oadr:Id (signed object).
 * An unqualified `Id` on oadrSignedObject is schema-invalid but common in signed payloads of other
 * implementations, so it is accepted there.
 */
function checkAttributes (element: XmlElement): void {
  for (const a of element.attributes) {
    if (a.ns === XSI || (a.ns === EI && a.name === 'schemaVersion')) continue
    if (a.name === 'Id' && (a.ns === OADR || a.ns === '') && element.name === 'oadrSignedObject' && element.ns === OADR) continue
    throw new SchemaViolationError(`<${element.name}>: attribute '${a.name}' not allowed`)
  }
}

function describe (ns: string, name: string): string {
  return `${name}${ns === '' ? '' : ` {${ns}}`}`
}

/** Cursor over an element's children, read as an xs:sequence. */
export class Seq {
  private index = 0
  constructor (readonly element: XmlElement) {
    if (!wsOnly.test(element.text)) throw new SchemaViolationError(`<${element.name}> must not contain text`)
    if (element.attributes.length > 0) checkAttributes(element)
  }

  private peek (): XmlElement | undefined {
    return this.element.children[this.index]
  }

  /** The next child, which must be `name` in `ns`. */
  one (ns: string, name: string): XmlElement {
    const next = this.peek()
    if (next === undefined || next.name !== name || next.ns !== ns) {
      throw new SchemaViolationError(`<${this.element.name}>: expected ${describe(ns, name)}${next === undefined ? '' : `, found ${describe(next.ns, next.name)}`}`)
    }
    this.index++
    return next
  }

  opt (ns: string, name: string): XmlElement | undefined {
    const next = this.peek()
    if (next === undefined || next.name !== name || next.ns !== ns) return undefined
    this.index++
    return next
  }

  many (ns: string, name: string, min = 0): XmlElement[] {
    const out: XmlElement[] = []
    for (let e = this.opt(ns, name); e !== undefined; e = this.opt(ns, name)) out.push(e)
    if (out.length < min) throw new SchemaViolationError(`<${this.element.name}>: expected at least ${min} ${describe(ns, name)}`)
    return out
  }

  /** The next child if it is one of `names` in `ns` (a substitution group or choice). */
  optAny (ns: string, names: readonly string[]): XmlElement | undefined {
    const next = this.peek()
    if (next === undefined || next.ns !== ns || !names.includes(next.name)) return undefined
    this.index++
    return next
  }

  /** Nothing may follow what was read. */
  end (): void {
    const next = this.peek()
    if (next !== undefined) throw new SchemaViolationError(`<${this.element.name}>: unexpected ${describe(next.ns, next.name)}`)
  }
}

/** Reads a sequence and checks nothing is left over. */
export function readSeq<T> (element: XmlElement, read: (seq: Seq) => T): T {
  const seq = new Seq(element)
  const value = read(seq)
  seq.end()
  return value
}

/** Character content of a simple-typed element. */
export function text (element: XmlElement): string {
  if (element.children.length > 0) throw new SchemaViolationError(`<${element.name}> must contain text only`)
  if (element.attributes.length > 0) checkAttributes(element)
  return element.text
}

/** xs:token-style content (whitespace collapsed), as the schema compares enumerations. */
export function token (element: XmlElement): string {
  return text(element).replace(/[ \t\r\n]+/g, ' ').trim()
}

export function enumeration<T extends string> (element: XmlElement, allowed: readonly T[], extensible = false): T {
  const value = token(element)
  if ((allowed as readonly string[]).includes(value)) return value as T
  if (extensible && /^x-\S/.test(value)) return value as T
  throw new SchemaViolationError(`<${element.name}>: '${value.slice(0, 60)}' is not one of ${allowed.join(', ')}${extensible ? ' or x-…' : ''}`)
}

export function bool (element: XmlElement): boolean {
  const value = token(element)
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new SchemaViolationError(`<${element.name}>: '${value.slice(0, 60)}' is not an xs:boolean`)
}

export function unsignedInt (element: XmlElement): number {
  const value = token(element)
  if (!/^\+?[0-9]+$/.test(value)) throw new SchemaViolationError(`<${element.name}>: '${value.slice(0, 60)}' is not an xs:unsignedInt`)
  const n = Number(value)
  if (n > 4294967295) throw new SchemaViolationError(`<${element.name}>: ${value} exceeds xs:unsignedInt`)
  return n
}

export function float (element: XmlElement): number {
  const value = token(element)
  if (value === 'INF') return Infinity
  if (value === '-INF') return -Infinity
  if (value === 'NaN') return NaN
  if (!/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(value)) {
    throw new SchemaViolationError(`<${element.name}>: '${value.slice(0, 60)}' is not an xs:float`)
  }
  return Number(value)
}

export function dateTime (element: XmlElement): number {
  const ms = parseDateTime(token(element))
  if (ms === undefined) throw new SchemaViolationError(`<${element.name}>: '${token(element).slice(0, 60)}' is not an xcal date-time`)
  return ms
}

export function duration (element: XmlElement): number {
  const ms = parseDuration(token(element))
  if (ms === undefined) throw new SchemaViolationError(`<${element.name}>: '${token(element).slice(0, 60)}' is not an xcal duration`)
  return ms
}

/** The value of an attribute, if present. */
export function attribute (element: XmlElement, ns: string, name: string): string | undefined {
  for (const a of element.attributes) if (a.name === name && a.ns === ns) return a.value
  return undefined
}
