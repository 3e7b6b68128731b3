/**
 * Intra matchmaking (paper section V): when customer i is forecast to deviate from its setpoint, cover the
 * deviation with the node's other customers, most reliable first, and output their new setpoints. What is
 * left uncovered (signed, kW per interval) is what inter matchmaking asks fellow nodes for.
 *
 * Two strategies:
 * - `paper`, exactly as printed. Equation (1) adjusts i's forecast series, f'ᵢₜ = (fᵢₜ − mean errorᵢ) / σᵢ × rᵢ,
 *   and equation (2) calls interval t feasible when f'ᵢₜ ≤ Σ_{j≠i} fʲₜ × rⱼ. Candidates j, by decreasing rⱼ,
 *   each take up to max(0, fʲₜ rⱼ) of f'ᵢₜ. The direction (shortage or excess) is the sign of fᵢₜ − setpointᵢₜ;
 *   intervals where f'ᵢₜ ≤ 0 need nothing.
 * - `corrected`, in physical units. i's expected flow is fᵢₜ − mean errorᵢ (the error is forecast −
 *   measured), its deviation dₜ = that − setpointᵢₜ (> 0 a shortage of reduction, < 0 an excess), and the
 *   cover sought is |dₜ| + k·σᵢ. Each candidate j offers its spare flexibility in the needed direction
 *   (what is left of flexDown / flexUp after what it is already dispatched), and asking xⱼ of it is
 *   expected to yield rⱼ·xⱼ: candidates are asked, most reliable first, until Σ rⱼ xⱼ reaches the cover.
 *
 * Why they differ: equation (1) divides a power (kW) by a standard deviation (kW), so f' is dimensionless
 * (a z-score scaled by r), yet equation (2) compares it with a sum of powers in kW; and it standardises the
 * whole forecast, not the gap between forecast and setpoint, so a customer that is on target still gets a
 * large f'. The `paper` output is therefore not a quantity of energy: it is kept to reproduce the paper, and
 * `corrected` is what the node dispatches. In both, the deviating customer's setpoint moves by the cover
 * obtained (at most its own deviation), so its remaining deviation is exactly what stays uncovered.
 *
 * Speed: candidates come from a heap keyed on reliability and are popped lazily, shared by all intervals,
 * so a deviation covered by the first m candidates costs O(N + m log N) for the order, not a full sort.
 * Equation (2) needs Σ_{j≠i} fʲₜ rⱼ, an O(N·T) sum (8–35 ms at 10,000 customers): callers pass
 * `paperCapacityKw(pool)` (the sum over all j, computed once per pool; it depends only on forecasts and
 * reliabilities, not on setpoints, so it stays valid while deviations are covered one after another) and it
 * becomes the total minus i's own term. The node's intra pass (src/node/agentDecisions.ts) does so.
 */
import { DescendingIndexHeap } from './stats.js'

export interface IntraCustomer {
  customerId: string
  /** Reliability index in [0, 1]. */
  reliability: number
  /** Mean of forecast − measured, kW (see profiling). */
  errorMeanKw: number
  /** Standard deviation of forecast − measured, kW. */
  errorSdKw: number
  /** fₜ: the forecast flow per interval, kW (load convention). */
  forecastKw: ArrayLike<number>
  baselineKw: ArrayLike<number>
  /** What the customer is currently dispatched to, kW per interval. */
  setpointKw: ArrayLike<number>
  flexUpKw: ArrayLike<number>
  flexDownKw: ArrayLike<number>
}

export type IntraStrategy = 'paper' | 'corrected'

export interface IntraInit {
  /** @default 'corrected' */
  strategy?: IntraStrategy
  /** k in the k·σ safety margin of `corrected`. @default 1 */
  marginSigmas?: number
  /** Deviations no larger than this (kW) are left alone. @default 0.01 */
  deadbandKw?: number
  /** Floor on σᵢ in equation (1), which is undefined at σ = 0. @default 0.01 */
  minSdKw?: number
  /**
   * Σ over all customers of fʲₜ rⱼ (`paperCapacityKw`), for `paper` when several deviations share one pool:
   * equation (2) then costs O(T) per deviation instead of O(N·T). @default computed on each call
   */
  paperCapacityKw?: readonly number[]
}

export interface SetpointChange {
  customerId: string
  index: number
  /** The customer's whole new setpoint series, kW. */
  setpointKw: number[]
}

export interface IntraMatch {
  strategy: IntraStrategy
  deviatingId: string
  /** Per interval: + shortage (flow above setpoint), − excess; 0 inside the deadband. */
  deviationKw: number[]
  /** Cover sought, same sign as the deviation (`paper`: f'ₜ, dimensionless as printed). */
  requiredKw: number[]
  /** Expected cover obtained, same sign. */
  coveredKw: number[]
  /** requiredKw − coveredKw: what is left for inter matchmaking. */
  uncoveredKw: number[]
  /** `paper`: equation (2) holds; `corrected`: the cover was met in full. */
  feasible: boolean[]
  /** New setpoints of every customer touched, the deviating one included. */
  changes: SetpointChange[]
}

export class IntraMatchError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'IntraMatchError'
  }
}

/** Lazily extended list of candidate indices by decreasing reliability, the deviating customer left out. */
class CandidateOrder {
  readonly order: number[] = []
  private readonly heap: DescendingIndexHeap
  constructor (reliability: Float64Array, private readonly skip: number) {
    this.heap = new DescendingIndexHeap(reliability)
  }

  /** Candidate at position p, or -1 when there are no more. */
  at (p: number): number {
    while (this.order.length <= p) {
      const next = this.heap.pop()
      if (next === -1) return -1
      if (next !== this.skip) this.order.push(next)
    }
    return this.order[p] as number
  }
}

/** Σ_j fʲₜ rⱼ over every customer, per interval: the right side of equation (2) before leaving i out. */
export function paperCapacityKw (customers: readonly IntraCustomer[]): number[] {
  const T = customers[0]?.forecastKw.length ?? 0
  const sum = new Float64Array(T)
  for (const c of customers) {
    for (let t = 0; t < T; t++) sum[t] = (sum[t] as number) + (c.forecastKw[t] as number) * c.reliability
  }
  return Array.from(sum)
}

/** Covers the deviation of `customers[deviating]`; inputs are left untouched. */
export function matchIntra (customers: readonly IntraCustomer[], deviating: number, init: IntraInit = {}): IntraMatch {
  const me = customers[deviating]
  if (me === undefined) throw new IntraMatchError(`no customer at index ${deviating}`)
  const strategy = init.strategy ?? 'corrected'
  const k = init.marginSigmas ?? 1
  const deadband = init.deadbandKw ?? 0.01
  const sd = Math.max(me.errorSdKw, init.minSdKw ?? 0.01)
  const T = me.forecastKw.length
  for (const c of customers) {
    if (c.forecastKw.length !== T || c.setpointKw.length !== T || c.flexUpKw.length !== T || c.flexDownKw.length !== T || c.baselineKw.length !== T) {
      throw new IntraMatchError(`customer ${c.customerId}: every series must have ${T} intervals`)
    }
  }
  if (init.paperCapacityKw !== undefined && init.paperCapacityKw.length !== T) {
    throw new IntraMatchError(`paperCapacityKw has ${init.paperCapacityKw.length} intervals, the pool has ${T}`)
  }
  const reliability = new Float64Array(customers.length)
  customers.forEach((c, j) => { reliability[j] = c.reliability })
  const candidates = new CandidateOrder(reliability, deviating)
  const capacityAll = strategy === 'paper' ? (init.paperCapacityKw ?? paperCapacityKw(customers)) : []

  const deviationKw = new Array<number>(T).fill(0)
  const requiredKw = new Array<number>(T).fill(0)
  const coveredKw = new Array<number>(T).fill(0)
  const feasible = new Array<boolean>(T).fill(true)
  const deltas = new Map<number, Float64Array>()
  const shift = (j: number, t: number, kw: number): void => {
    let d = deltas.get(j)
    if (d === undefined) { d = new Float64Array(T); deltas.set(j, d) }
    d[t] = (d[t] as number) + kw
  }

  for (let t = 0; t < T; t++) {
    const forecast = me.forecastKw[t] as number
    const raw = (strategy === 'paper' ? forecast : forecast - me.errorMeanKw) - (me.setpointKw[t] as number)
    if (!(Math.abs(raw) > deadband)) continue
    const sign = raw > 0 ? 1 : -1
    deviationKw[t] = raw
    let need: number
    if (strategy === 'paper') {
      need = (forecast - me.errorMeanKw) / sd * me.reliability
      feasible[t] = need <= (capacityAll[t] as number) - forecast * me.reliability
      if (need <= 0) continue
    } else {
      need = Math.abs(raw) + k * sd
    }
    requiredKw[t] = sign * need
    let remaining = need
    for (let p = 0; remaining > 1e-12; p++) {
      const j = candidates.at(p)
      if (j === -1) break
      const r = reliability[j] as number
      if (r <= 0) break
      const c = customers[j] as IntraCustomer
      if (strategy === 'paper') {
        const take = Math.min(remaining, Math.max(0, (c.forecastKw[t] as number) * r))
        if (take > 0) { shift(j, t, -sign * take); remaining -= take }
      } else {
        const setpoint = c.setpointKw[t] as number; const base = c.baselineKw[t] as number
        const spare = sign > 0
          ? Math.max(0, setpoint - (base - (c.flexDownKw[t] as number)))
          : Math.max(0, base + (c.flexUpKw[t] as number) - setpoint)
        const ask = Math.min(spare, remaining / r)
        if (ask > 0) { shift(j, t, -sign * ask); remaining -= ask * r }
      }
    }
    const covered = Math.max(0, need - remaining)
    coveredKw[t] = sign * covered
    if (strategy === 'corrected') feasible[t] = remaining <= 1e-9
    shift(deviating, t, sign * Math.min(Math.abs(raw), covered))
  }

  const changes: SetpointChange[] = [...deltas.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([j, d]) => {
      const c = customers[j] as IntraCustomer
      return { customerId: c.customerId, index: j, setpointKw: Array.from(d, (x, t) => (c.setpointKw[t] as number) + x) }
    })
  return {
    strategy,
    deviatingId: me.customerId,
    deviationKw,
    requiredKw,
    coveredKw,
    uncoveredKw: requiredKw.map((r, t) => r - (coveredKw[t] as number)),
    feasible,
    changes
  }
}
