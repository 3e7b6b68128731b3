/**
 * Times and durations at the protocol edge. Inside adrmesh a time is epoch ms and a duration is ms; on the
 * wire they are xcal date-times (UTC, `2026-01-01T00:00:00Z`) and ISO 8601 durations (`PT15M`). Calendar
 * units have no fixed length, so a received `P1M` is read as 30 days and `P1Y` as 365 days; this codec
 * never writes them.
 */
// The schema's own patterns: no zone offsets, whole seconds in durations, and weeks only as a bare `nW`.
const dateTimePattern = /^([-+]?\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d*)?(Z)?$/
const durationPattern = /^(?:([-+])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?|(\d+)W)$/

const second = 1000
const minute = 60 * second
const hour = 60 * minute
const day = 24 * hour

/** Epoch ms of an xcal date-time; a time without zone is read as UTC. Undefined when malformed. */
export function parseDateTime (value: string): number | undefined {
  const m = dateTimePattern.exec(value)
  if (m === null) return undefined
  const ms = Date.parse(m[8] === undefined ? `${value}Z` : value)
  return Number.isNaN(ms) ? undefined : ms
}

/** Milliseconds of an ISO 8601 duration; undefined when malformed. */
export function parseDuration (value: string): number | undefined {
  const m = durationPattern.exec(value)
  if (m === null) return undefined
  const num = (i: number): number => m[i] === undefined ? 0 : Number(m[i])
  const ms = num(2) * 365 * day + num(3) * 30 * day + num(4) * day +
    num(5) * hour + num(6) * minute + num(7) * second + num(8) * 7 * day
  return m[1] === '-' ? -ms : ms
}

/** xcal date-time in UTC with milliseconds. */
export function formatDateTime (ms: number): string {
  return new Date(ms).toISOString()
}

/** ISO 8601 duration in whole hours, minutes and seconds (`PT0S` for zero); the schema has no fractions. */
export function formatDuration (ms: number): string {
  const sign = ms < 0 ? '-' : ''
  let rest = Math.round(Math.abs(ms) / second) * second
  const h = Math.floor(rest / hour)
  rest -= h * hour
  const m = Math.floor(rest / minute)
  rest -= m * minute
  const s = rest / second
  let out = `${sign}PT`
  if (h > 0) out += `${h}H`
  if (m > 0) out += `${m}M`
  if (s > 0 || (h === 0 && m === 0)) out += `${s}S`
  return out
}
