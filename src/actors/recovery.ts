/**
 * Intra matchmaking as the node runs it during an event (the `corrected` strategy at the aggregate): at a
 * checkpoint, from what each customer is expected to draw for the rest of the event (what the node has
 * observed of it, not what it was told), find each interval's gap to the target, and close it by moving the
 * setpoints of the customers that are following theirs, most reliable first. What they cannot close is the
 * residual inter matchmaking asks fellow nodes for.
 *
 * The current interval is judged by its energy, which is what a utility settles: the part already past
 * cannot be changed, so the rest of the interval must make up for it. Its correction is therefore divided by
 * the share of the interval still ahead once the customers have picked up their new setpoints (capped by
 * `maxGain`, so a deviation found at the very end of an interval does not ask for the impossible).
 *
 * A customer asked to move x is expected to move r·x (r its reliability), so it is asked x = need / r, within
 * its range [baseline − flexDown, baseline + flexUp]. Only when every candidate's declared range is used may
 * customers be asked past it, within their stretched range: a declared range is a forecast, and a customer
 * holding its setpoint at the edge of it may well have more. Pure: data in, data out.
 */

export interface RecoveryCustomer {
  customerId: string
  /** Reliability index in [0, 1]. */
  reliability: number
  /** May be asked to move (following its setpoint, reporting, flexible). */
  candidate: boolean
  /** What the customer is currently asked for, kW per interval (its baseline when not dispatched). */
  setpointKw: readonly number[]
  /** Lowest and highest setpoint it can be asked for, kW per interval. */
  minKw: readonly number[]
  maxKw: readonly number[]
  /**
   * Lowest and highest setpoint it may be asked for once every candidate's declared range [minKw, maxKw] is
   * used, kW per interval. @default minKw, maxKw
   */
  stretchMinKw?: readonly number[]
  stretchMaxKw?: readonly number[]
  /** What it is expected to draw from now on, kW per interval (only intervals from `fromInterval` are read). */
  expectedKw: readonly number[]
}

export interface CurrentInterval {
  index: number
  /** Share of the interval already past, in [0, 1). */
  elapsedShare: number
  /** Mean aggregate flow over the part already past (kW). */
  soFarKw: number
  /** Share of the interval the customers take to pick up a new setpoint. */
  pickupShare: number
}

export interface RecoveryInput {
  customers: readonly RecoveryCustomer[]
  /** Aggregate the node's own customers must draw per interval (kW): the request less fellows' commitments. */
  targetKw: readonly number[]
  /** First interval to act on (later intervals in full). */
  fromInterval: number
  /** The interval in progress, when a checkpoint falls inside one (its correction is energy-based). */
  current?: CurrentInterval
}

export interface RecoveryInit {
  /** Gaps no larger than this (kW, interval average) are left alone. @default 0.05 */
  deadbandKw?: number
  /** Largest factor a gap of the current interval is amplified by. @default 4 */
  maxGain?: number
  /** Reliability floor when inflating asks (an r near 0 would ask everything of one customer). @default 0.5 */
  minReliability?: number
}

export interface RecoveryResult {
  /** New setpoint series of the customers moved, by id. */
  setpointsKw: Map<string, number[]>
  /** Per interval, the expected cover obtained (kW of interval average, signed like the gap: + reduces a shortage). */
  coveredKw: number[]
  /** Per interval, the expected gap left (kW of interval average, delivered − target: + a shortage). */
  residualKw: number[]
  /** Per interval, the expected aggregate before the correction (kW of interval average). */
  expectedKw: number[]
}

export function recover (input: RecoveryInput, init: RecoveryInit = {}): RecoveryResult {
  const deadband = init.deadbandKw ?? 0.05
  const maxGain = init.maxGain ?? 4
  const minR = init.minReliability ?? 0.5
  const T = input.targetKw.length
  const coveredKw = new Array<number>(T).fill(0)
  const residualKw = new Array<number>(T).fill(0)
  const expectedKw = new Array<number>(T).fill(0)
  const setpoints = new Map<string, number[]>()
  const order = input.customers
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.candidate)
    .sort((a, b) => b.c.reliability - a.c.reliability || a.i - b.i)
  for (let t = input.fromInterval; t < T; t++) {
    const ahead = input.customers.reduce((s, c) => s + (c.expectedKw[t] ?? 0), 0)
    const cur = input.current?.index === t ? input.current : undefined
    const expected = cur === undefined ? ahead : cur.soFarKw * cur.elapsedShare + ahead * (1 - cur.elapsedShare)
    expectedKw[t] = expected
    const gap = expected - (input.targetKw[t] ?? 0)
    if (Math.abs(gap) <= deadband) { residualKw[t] = gap; continue }
    // Share of the interval the new setpoints still act on: the whole of a later interval.
    const acting = cur === undefined ? 1 : Math.max(1 / maxGain, 1 - cur.elapsedShare - cur.pickupShare)
    let need = -gap / acting
    for (const stretched of [false, true]) {
      for (const { c } of order) {
        if (Math.abs(need) * acting <= deadband / 10) break
        const current = setpoints.get(c.customerId)?.[t] ?? c.setpointKw[t] ?? 0
        const lowest = (stretched ? c.stretchMinKw?.[t] : undefined) ?? c.minKw[t] ?? current
        const highest = (stretched ? c.stretchMaxKw?.[t] : undefined) ?? c.maxKw[t] ?? current
        const room = need < 0 ? current - lowest : highest - current
        if (!(room > 1e-9)) continue
        const r = Math.max(minR, Math.min(1, c.reliability))
        const ask = Math.min(room, Math.abs(need) / r)
        const row = setpoints.get(c.customerId) ?? [...c.setpointKw]
        row[t] = current + Math.sign(need) * ask
        setpoints.set(c.customerId, row)
        need -= Math.sign(need) * ask * r
      }
    }
    const left = -need * acting
    residualKw[t] = left
    coveredKw[t] = gap - left
  }
  return { setpointsKw: setpoints, coveredKw, residualKw, expectedKw }
}
