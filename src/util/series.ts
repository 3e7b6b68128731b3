/**
 * Comparing series of numbers (setpoints, forecasts) without serialising them: the hot paths compare a plan's
 * rows per customer, and `JSON.stringify` of both sides cost more than the decisions around it.
 */

/** Whether two series hold the same values element by element; NaN equals NaN (their JSON would say so too). */
export function sameSeries (a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false
  }
  return true
}
