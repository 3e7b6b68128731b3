/**
 * Building payload text. Elements are written with the fixed prefixes declared once on the root (see
 * namespaces.ts), so encoding is string concatenation: no DOM, no serializer.
 */
import { formatDateTime, formatDuration } from './time.js'

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;' }
const needsEscape = /[&<>"\r]/
// Characters XML 1.0 cannot carry even as references (C0 controls but tab and newline, U+FFFE/U+FFFF, lone
// surrogates): an error description that quotes hostile input must still give a parseable answer.
const notXmlChar = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu

export function esc (value: string): string {
  const text = notXmlChar.test(value) ? value.replace(notXmlChar, '\uFFFD') : value
  return needsEscape.test(text) ? text.replace(/[&<>"\r]/g, c => escapes[c] ?? c) : text
}

/** `<q>content</q>` where content is already markup. */
export function el (qname: string, content: string): string {
  return `<${qname}>${content}</${qname}>`
}

/** `<q>escaped text</q>`. */
export function leaf (qname: string, value: string): string {
  return `<${qname}>${esc(value)}</${qname}>`
}

export function optLeaf (qname: string, value: string | undefined): string {
  return value === undefined ? '' : leaf(qname, value)
}

export function each<T> (items: readonly T[] | undefined, write: (item: T) => string): string {
  if (items === undefined) return ''
  let out = ''
  for (const item of items) out += write(item)
  return out
}

/** xs:float lexical form. */
export function floatText (n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'INF'
  if (n === -Infinity) return '-INF'
  return String(n)
}

export function boolText (b: boolean): string {
  return b ? 'true' : 'false'
}

export function dtstart (ms: number): string {
  return `<xcal:dtstart><xcal:date-time>${formatDateTime(ms)}</xcal:date-time></xcal:dtstart>`
}

/** A DurationPropType element (`xcal:duration`, `ei:x-eiRampUp`, `xcal:granularity`, …). */
export function durationProp (qname: string, ms: number): string {
  return `<${qname}><xcal:duration>${formatDuration(ms)}</xcal:duration></${qname}>`
}
