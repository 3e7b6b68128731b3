/**
 * The stores' value encoding: JSON, except that a long array of numbers is stored as the base64 of its
 * float64 values (little-endian), in a string marked by a leading NUL (one value and the length when all are
 * the same: a reservation's unused direction, a constant flexibility), and a long array of objects with the
 * same fields (an event's interval results) as its columns, behind a marked string. The node's values are mostly such
 * series (a customer's forecast and error profile, a plan's setpoint rows, reservations), and writing a
 * double as decimal text costs about 100 ns: a customer's record with its 103-step forecast took 34 µs to
 * stringify and is rewritten every interval. Packed, it takes a few µs and half the bytes.
 *
 * A value decodes to exactly what plain JSON would have given: only arrays of finite numbers other than -0
 * are packed (JSON writes NaN and ±Infinity as null and -0 as 0), and a string of the value that starts
 * with NUL is stored with a second NUL in front. Values stored as plain JSON before (no marked string)
 * decode as they were.
 */
import { endianness } from 'node:os'

/** Shorter arrays stay JSON: the marker and base64 would cost more than they save. */
const packFrom = 8
const mark = '\u0000'
const packedMark = '\u0000f64:'
/** `<mark><length>:<base64 of the one value>`. */
const constantMark = '\u0000f64c:'
/** `[rowsMark, fields, column of field 0, column of field 1, …]`. */
const rowsMark = '\u0000rows'
const bigEndian = endianness() === 'BE'

export const packedJson = {
  name: 'adrmesh-packed-json',
  format: 'utf8' as const,
  encode: (value: unknown): string => JSON.stringify(pack(value)),
  decode: (text: string): unknown => {
    const value: unknown = JSON.parse(text)
    // JSON.stringify escapes NUL, so a value with no marked string has no `\u0000` in its text.
    return text.includes('\\u0000') ? unpack(value) : value
  }
}

/**
 * A deep copy of the value as JSON would give it back (what a stored value reads as), without writing it as
 * text: plain objects and arrays are copied as JSON.stringify walks them (a number series at once), anything
 * else (a date, a class instance, a value JSON refuses) goes through JSON itself.
 */
export function jsonCopy (value: unknown): unknown {
  const copied = copyAsJson(value)
  return copied === omitted ? JSON.parse(JSON.stringify(value) as string) : copied
}

/** What JSON leaves out of an object and writes as null in an array. */
const omitted = Symbol('omitted')

function copyAsJson (value: unknown): unknown {
  switch (typeof value) {
    case 'number': return Number.isFinite(value) ? value + 0 : null
    case 'string': case 'boolean': return value
    case 'undefined': case 'function': case 'symbol': return omitted
    case 'bigint': return JSON.stringify(value)
  }
  if (value === null) return null
  if (Array.isArray(value)) {
    if (finiteNumbers(value)) return value.slice()
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      const v = copyAsJson(value[i])
      out[i] = v === omitted ? null : v
    }
    return out
  }
  const proto = Object.getPrototypeOf(value) as unknown
  if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    const text = JSON.stringify(value) as string | undefined
    return text === undefined ? omitted : JSON.parse(text)
  }
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(record)) {
    const v = copyAsJson(record[key])
    if (v === omitted) continue
    // JSON.parse makes `__proto__` an own property; an assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    else out[key] = v
  }
  return out
}

/** The value with its long number arrays packed; the value itself when nothing is (it is never mutated). */
function pack (value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(mark) ? mark + value : value
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    if (value.length >= packFrom && finiteNumbers(value)) {
      const first = value[0] as number
      return value.every(v => v === first) ? `${constantMark}${value.length}:${toBase64([first])}` : packedMark + toBase64(value as number[])
    }
    const fields = value.length >= packFrom ? sameFields(value) : undefined
    if (fields !== undefined) return [rowsMark, fields, ...fields.map(f => pack(value.map(row => (row as Record<string, unknown>)[f])))]
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const packed = pack(value[i])
      if (packed !== value[i]) (copy ??= value.slice())[i] = packed
    }
    return copy ?? value
  }
  // Objects JSON writes through toJSON (dates) or as empty (maps, typed arrays) are left to JSON.
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return value
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key]
    const packed = pack(v)
    if (packed !== v) (copy ??= { ...(value as Record<string, unknown>) })[key] = packed
  }
  return copy ?? value
}

/** Every element a finite number other than -0; holes (which `every` would skip) are not. */
function finiteNumbers (values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number' || !Number.isFinite(v) || Object.is(v, -0)) return false
  }
  return true
}

/**
 * The fields of rows that are all plain objects with the same fields in the same order, each value one JSON
 * writes in place (so that a column gives each row back as JSON would); undefined for any other array.
 */
function sameFields (rows: unknown[]): string[] | undefined {
  let fields: string[] | undefined
  for (const row of rows) {
    if (!plainObject(row)) return undefined
    const keys = Object.keys(row)
    if (fields === undefined) {
      if (keys.length === 0) return undefined
      fields = keys
    } else if (keys.length !== fields.length || keys.some((k, i) => k !== (fields as string[])[i])) return undefined
    for (const k of keys) if (!inPlace((row as Record<string, unknown>)[k])) return undefined
  }
  return fields
}

function plainObject (v: unknown): v is object {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype && typeof (v as { toJSON?: unknown }).toJSON !== 'function'
}

/** A value JSON writes the same in an object's field as in an array (where it would write null for what a field leaves out). */
function inPlace (v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || Array.isArray(v) || plainObject(v)
}

function unpack (value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(packedMark)) return fromBase64(value.slice(packedMark.length))
    if (value.startsWith(constantMark)) {
      const at = value.indexOf(':', constantMark.length)
      return new Array<number>(Number(value.slice(constantMark.length, at))).fill(fromBase64(value.slice(at + 1))[0] as number)
    }
    return value.startsWith(mark) ? value.slice(1) : value
  }
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    if (value[0] === rowsMark) return rowsOf(value[1] as string[], value.slice(2).map(c => unpack(c) as unknown[]))
    for (let i = 0; i < value.length; i++) value[i] = unpack(value[i])
    return value
  }
  const record = value as Record<string, unknown>
  for (const key in record) record[key] = unpack(record[key])
  return record
}

function rowsOf (fields: string[], columns: unknown[][]): Array<Record<string, unknown>> {
  const n = columns[0]?.length ?? 0
  const rows = new Array<Record<string, unknown>>(n)
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {}
    for (let f = 0; f < fields.length; f++) {
      const key = fields[f] as string
      const v = (columns[f] as unknown[])[i]
      // JSON.parse makes `__proto__` an own property; an assignment would set the prototype.
      if (key === '__proto__') Object.defineProperty(row, key, { value: v, enumerable: true, writable: true, configurable: true })
      else row[key] = v
    }
    rows[i] = row
  }
  return rows
}

function toBase64 (values: number[]): string {
  const bytes = Buffer.from(Float64Array.from(values).buffer)
  if (bigEndian) bytes.swap64()
  return bytes.toString('base64')
}

function fromBase64 (text: string): number[] {
  const bytes = Buffer.from(text, 'base64')
  // A copy into a buffer of its own: the decoded bytes may sit at any offset of a shared pool.
  const aligned = Buffer.from(new ArrayBuffer(bytes.length))
  bytes.copy(aligned)
  if (bigEndian) aligned.swap64()
  return Array.from(new Float64Array(aligned.buffer, 0, aligned.length / 8))
}
