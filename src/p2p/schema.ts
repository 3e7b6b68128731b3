/**
 * Shape checks for what arrives from peers. Everything from the network is `unknown` until one of these
 * accepts it; each throws `MeshProtocolError` naming the first field that is wrong.
 */
import { MeshProtocolError } from './errors.js'

export type Json = Record<string, unknown>

export function asObject (value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MeshProtocolError(`${what} is not an object`)
  return value as Json
}

export function str (o: Json, field: string, maxLength = 256): string {
  const v = o[field]
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw new MeshProtocolError(`${field} must be a string of 1..${maxLength} characters`)
  return v
}

export function optionalStr (o: Json, field: string, maxLength = 256): string | undefined {
  return o[field] === undefined ? undefined : str(o, field, maxLength)
}

export function num (o: Json, field: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new MeshProtocolError(`${field} must be a finite number in [${min}, ${max}]`)
  return v
}

export function int (o: Json, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = num(o, field, min, max)
  if (!Number.isInteger(v)) throw new MeshProtocolError(`${field} must be an integer`)
  return v
}

export function bool (o: Json, field: string): boolean {
  const v = o[field]
  if (typeof v !== 'boolean') throw new MeshProtocolError(`${field} must be a boolean`)
  return v
}

export function numbers (o: Json, field: string, maxLength: number, min = -Number.MAX_VALUE): number[] {
  const v = o[field]
  if (!Array.isArray(v) || v.length > maxLength) throw new MeshProtocolError(`${field} must be an array of at most ${maxLength} numbers`)
  for (const x of v) {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new MeshProtocolError(`${field} must hold finite numbers >= ${min}`)
  }
  return v as number[]
}

export function strings (o: Json, field: string, maxLength: number, maxItemLength = 256): string[] {
  const v = o[field]
  if (!Array.isArray(v) || v.length > maxLength) throw new MeshProtocolError(`${field} must be an array of at most ${maxLength} strings`)
  for (const x of v) {
    if (typeof x !== 'string' || x.length === 0 || x.length > maxItemLength) throw new MeshProtocolError(`${field} must hold strings of 1..${maxItemLength} characters`)
  }
  return v as string[]
}
