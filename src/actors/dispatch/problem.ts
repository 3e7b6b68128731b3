/**
 * The dispatch problem and its answer as plain, structured-clone friendly data (typed arrays, plain
 * objects), so a plan can be computed in a worker thread. Owns validation of a problem, the requested
 * aggregate per interval, and the one place that prices a plan (flexibility cost, deviation settled at the system
 * marginal price, breach of the request), so every solver reports objectives on the same scale.
 *
 * Signs follow docs/design.md: `upKw` raises a customer's flow above its baseline, `downKw` lowers it.
 * Per-customer arrays are customer-major: customer i, interval t is at index `i * intervals + t`.
 */

/** The aggregate the node is asked for: a setpoint of its flow, or a change from its aggregate baseline. */
export type DispatchRequest =
  | { kind: 'setpoint', setpointKw: Float64Array }
  | { kind: 'delta', deltaKw: Float64Array }

/** A battery behind a customer's flexibility: the plan must keep its state of charge within bounds. */
export interface DispatchBattery {
  /** Index of the customer whose flexibility this battery provides. */
  customer: number
  /** Usable energy. */
  capacityKwh: number
  /** State of charge at the start of the first interval. */
  initialKwh: number
}

export interface DispatchProblem {
  customers: number
  intervals: number
  /** Length of one interval (ms). */
  intervalMs: number
  request: DispatchRequest
  /** Forecast flow without DR, N×T. */
  baselineKw: Float64Array
  /** How far each customer can raise its flow, N×T, ≥ 0. */
  flexUpKw: Float64Array
  /** How far each customer can lower its flow, N×T, ≥ 0. */
  flexDownKw: Float64Array
  /** Virtual cost of raising the flow, per customer (currency/kWh), ≥ 0. */
  costUpPerKwh: Float64Array
  /** Virtual cost of lowering the flow, per customer (currency/kWh), ≥ 0. */
  costDownPerKwh: Float64Array
  /**
   * System marginal price per interval (currency/kWh): the node's deviation from the request is settled
   * at this price (on top of the breach price), so it tips the balance between shortfall and flexibility.
   */
  pricePerKwh: Float64Array
  /**
   * Cost of each kWh by which the plan misses the request, either way (currency/kWh). It turns the request
   * into a soft constraint: a plan always exists, and flexibility dearer than this is left unused.
   * @default 1000
   */
  breachPricePerKwh?: number
  /** Minimum activation, N×T: a customer activated in an interval moves at least this far (0 = none). */
  minActivationKw?: Float64Array
  /** Cluster of each customer (0..K-1), for the cluster-profile MILP. */
  clusterOf?: Int32Array
  /** Batteries whose state of charge couples intervals (solved by HiGHS). */
  batteries?: DispatchBattery[]
}

export interface DispatchPlan {
  /** Planned flow per customer, N×T. */
  setpointKw: Float64Array
  /** Planned change from baseline per customer, N×T (positive = up). */
  changeKw: Float64Array
  /** Expected aggregate flow per interval. */
  expectedKw: Float64Array
  /** Requested aggregate flow per interval. */
  targetKw: Float64Array
  /**
   * Expected aggregate minus target per interval (the planned deviation): positive when the flow stays
   * above the setpoint (reduction falls short), negative when below. 0 where the request is met.
   */
  shortfallKw: Float64Array
  /** Intervals whose |shortfall| exceeds the tolerance, in order. */
  shortIntervals: number[]
  cost: DispatchCost
  /** Which solver produced the plan. */
  solver: 'merit-order' | 'cluster-milp' | 'highs'
}

export interface DispatchCost {
  /** flexibility + imbalance + breach: the objective every solver minimises. */
  total: number
  flexibility: number
  /** Planned deviation from the request settled at the system marginal price (0 when the request is met). */
  imbalance: number
  breach: number
}

export const DEFAULT_BREACH_PRICE_PER_KWH = 1000
/** Below this many kW a shortfall is rounding, not a miss. */
export const SHORTFALL_TOLERANCE_KW = 1e-6
const MS_PER_HOUR = 3_600_000

export class DispatchInputError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DispatchInputError'
  }
}

export function intervalHours (problem: DispatchProblem): number {
  return problem.intervalMs / MS_PER_HOUR
}

export function breachPrice (problem: DispatchProblem): number {
  return problem.breachPricePerKwh ?? DEFAULT_BREACH_PRICE_PER_KWH
}

/** Requested change of the aggregate flow from the aggregate baseline, per interval. */
export function requestedChangeKw (problem: DispatchProblem): Float64Array {
  const { customers: n, intervals: t } = problem
  if (problem.request.kind === 'delta') return Float64Array.from(problem.request.deltaKw)
  const change = Float64Array.from(problem.request.setpointKw)
  const base = problem.baselineKw
  for (let i = 0; i < n; i++) {
    const row = i * t
    for (let k = 0; k < t; k++) change[k] = (change[k] as number) - (base[row + k] as number)
  }
  return change
}

/** Throws DispatchInputError naming the first thing wrong with the problem; returns it unchanged. */
export function validateProblem (problem: DispatchProblem): DispatchProblem {
  const { customers: n, intervals: t } = problem
  if (!Number.isInteger(n) || n < 0) throw new DispatchInputError(`customers must be a non-negative integer, got ${n}`)
  if (!Number.isInteger(t) || t < 1) throw new DispatchInputError(`intervals must be a positive integer, got ${t}`)
  if (!(problem.intervalMs > 0)) throw new DispatchInputError(`intervalMs must be > 0, got ${problem.intervalMs}`)
  const request = problem.request.kind === 'setpoint' ? problem.request.setpointKw : problem.request.deltaKw
  checkArray(request, t, `request.${problem.request.kind === 'setpoint' ? 'setpointKw' : 'deltaKw'}`, false)
  checkArray(problem.baselineKw, n * t, 'baselineKw', false)
  checkArray(problem.flexUpKw, n * t, 'flexUpKw', true)
  checkArray(problem.flexDownKw, n * t, 'flexDownKw', true)
  checkArray(problem.costUpPerKwh, n, 'costUpPerKwh', true)
  checkArray(problem.costDownPerKwh, n, 'costDownPerKwh', true)
  checkArray(problem.pricePerKwh, t, 'pricePerKwh', false)
  if (problem.minActivationKw !== undefined) checkArray(problem.minActivationKw, n * t, 'minActivationKw', true)
  const breach = breachPrice(problem)
  if (!(breach > 0) || !Number.isFinite(breach)) throw new DispatchInputError(`breachPricePerKwh must be finite and > 0, got ${breach}`)
  if (problem.clusterOf !== undefined) {
    if (problem.clusterOf.length !== n) throw new DispatchInputError(`clusterOf has ${problem.clusterOf.length} entries, expected ${n}`)
    for (const k of problem.clusterOf) if (k < 0) throw new DispatchInputError(`clusterOf holds a negative cluster ${k}`)
  }
  for (const b of problem.batteries ?? []) {
    if (!Number.isInteger(b.customer) || b.customer < 0 || b.customer >= n) throw new DispatchInputError(`battery customer ${b.customer} is out of range`)
    if (!(b.capacityKwh >= 0) || !(b.initialKwh >= 0) || b.initialKwh > b.capacityKwh) {
      throw new DispatchInputError(`battery of customer ${b.customer}: need 0 ≤ initialKwh ≤ capacityKwh, got ${b.initialKwh} / ${b.capacityKwh}`)
    }
  }
  return problem
}

function checkArray (a: ArrayLike<number> | undefined, length: number, name: string, nonNegative: boolean): void {
  if (a === undefined || a.length !== length) throw new DispatchInputError(`${name} has ${a?.length ?? 'no'} entries, expected ${length}`)
  for (let i = 0; i < length; i++) {
    const v = a[i] as number
    if (!Number.isFinite(v)) throw new DispatchInputError(`${name}[${i}] is not a finite number`)
    if (nonNegative && v < 0) throw new DispatchInputError(`${name}[${i}] is negative (${v})`)
  }
}

/**
 * Builds the plan from per-customer changes (positive = up), pricing it with the one objective all
 * solvers share: Σ h·(costUp·up + costDown·down) + Σ_t h·(price·shortfall + breach·|shortfall|).
 */
export function planFromChanges (problem: DispatchProblem, changeKw: Float64Array, solver: DispatchPlan['solver']): DispatchPlan {
  const { customers: n, intervals: t } = problem
  const h = intervalHours(problem)
  const target = requestedChangeKw(problem)
  const setpointKw = new Float64Array(n * t)
  const expectedKw = new Float64Array(t)
  const targetKw = new Float64Array(t)
  const netChange = new Float64Array(t)
  let flexibility = 0
  for (let i = 0; i < n; i++) {
    const row = i * t
    const cu = problem.costUpPerKwh[i] as number
    const cd = problem.costDownPerKwh[i] as number
    for (let k = 0; k < t; k++) {
      const base = problem.baselineKw[row + k] as number
      const c = changeKw[row + k] as number
      setpointKw[row + k] = base + c
      expectedKw[k] = (expectedKw[k] as number) + base + c
      targetKw[k] = (targetKw[k] as number) + base
      netChange[k] = (netChange[k] as number) + c
      flexibility += c > 0 ? cu * c : -cd * c
    }
  }
  flexibility *= h
  const shortfallKw = new Float64Array(t)
  const shortIntervals: number[] = []
  let imbalance = 0
  let breach = 0
  for (let k = 0; k < t; k++) {
    targetKw[k] = (targetKw[k] as number) + (target[k] as number)
    const miss = (netChange[k] as number) - (target[k] as number)
    imbalance += (problem.pricePerKwh[k] as number) * miss * h
    breach += Math.abs(miss) * h * breachPrice(problem)
    if (Math.abs(miss) > SHORTFALL_TOLERANCE_KW) {
      shortfallKw[k] = miss
      shortIntervals.push(k)
    }
  }
  return {
    setpointKw,
    changeKw,
    expectedKw,
    targetKw,
    shortfallKw,
    shortIntervals,
    cost: { total: flexibility + imbalance + breach, flexibility, imbalance, breach },
    solver
  }
}
