/**
 * The full customer-level dispatch model for HiGHS (WebAssembly, sparse CSR input): the solver for
 * problems that couple intervals (battery state of charge) and the reference every other dispatch solver
 * is measured against. Minimum activation is modelled exactly with semi-continuous columns: a customer's
 * move in one direction is 0 or within [p_min, flex]. The objective is the one priced by planFromChanges:
 * the imbalance term h·price·(net − target) is written as h·price·net with the constant moved to the offset.
 *
 * Columns: up(i,k) at 2(iT+k), down(i,k) at 2(iT+k)+1, then per interval the two breach slacks
 * (over, under), then per battery its state of charge at the end of each interval.
 * Rows: one balance row per interval, Σ up − down − over + under = target; one row per battery and
 * interval, soc_k − soc_{k−1} − h·up + h·down = 0 (= initial for k = 0).
 */
import highsModule from 'highs'
import type { Highs, ModelData, VariableType } from 'highs'
import { breachPrice, intervalHours, planFromChanges, requestedChangeKw, validateProblem } from './problem.js'
import type { DispatchPlan, DispatchProblem } from './problem.js'

export interface HighsDispatchInit {
  /**
   * Relative MIP gap at which HiGHS stops.
   * @default 0.001
   */
  mipRelGap?: number
  /**
   * Wall-clock limit of one solve (s); the best solution found so far is returned.
   * @default 120
   */
  timeLimitS?: number
  /**
   * HiGHS presolve. Off for the pure LP by default: measured here, presolve takes 29 s of a 30 s solve of
   * 2,000 customers × 96 intervals that solves in 0.7 s without it; the MILP keeps HiGHS's choice.
   * @default 'off' for an LP, 'choose' for a MILP
   */
  presolve?: 'on' | 'off' | 'choose'
}

/** How the HiGHS solve ended, beside the plan. */
export interface HighsDispatchResult {
  plan: DispatchPlan
  /** HiGHS's model status name, e.g. 'optimal' or 'timeLimit'. */
  status: string
  /** Objective as HiGHS reports it (equals plan.cost.total up to its tolerances). */
  objective: number
  /** Relative MIP gap at the end (0 for an LP). */
  mipGap: number
  solveMs: number
}

export class HighsDispatchError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'HighsDispatchError'
  }
}

type HighsLoader = () => Promise<Highs>
let loaded: Promise<Highs> | undefined

/** Loads the HiGHS runtime once per thread (its default export reads as CommonJS under NodeNext). */
export async function loadHighs (): Promise<Highs> {
  const mod = highsModule as unknown as { default?: HighsLoader } & HighsLoader
  loaded ??= (mod.default ?? mod)()
  return await loaded
}

const CONTINUOUS = 0 as VariableType
const SEMI_CONTINUOUS = 2 as VariableType

/** Builds the sparse model of the problem. */
export function buildHighsModel (problem: DispatchProblem, infinity: number): ModelData {
  validateProblem(problem)
  const { customers: n, intervals: t } = problem
  const h = intervalHours(problem)
  const breach = breachPrice(problem) * h
  const target = requestedChangeKw(problem)
  const batteries = problem.batteries ?? []
  const flexCols = 2 * n * t
  const slackCols = 2 * t
  const numCols = flexCols + slackCols + batteries.length * t
  const numRows = t + batteries.length * t
  const colCost = new Float64Array(numCols)
  const colLower = new Float64Array(numCols)
  const colUpper = new Float64Array(numCols)
  const minActivation = problem.minActivationKw
  const integrality = minActivation === undefined ? undefined : new Int32Array(numCols).fill(CONTINUOUS)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < t; k++) {
      const cell = i * t + k
      const price = problem.pricePerKwh[k] as number
      colCost[2 * cell] = ((problem.costUpPerKwh[i] as number) + price) * h
      colCost[2 * cell + 1] = ((problem.costDownPerKwh[i] as number) - price) * h
      setBounds(2 * cell, problem.flexUpKw[cell] as number)
      setBounds(2 * cell + 1, problem.flexDownKw[cell] as number)
    }
  }
  function setBounds (col: number, flex: number): void {
    const pmin = minActivation?.[col >> 1] ?? 0
    if (pmin <= 0 || integrality === undefined) {
      colUpper[col] = flex
    } else if (pmin <= flex) {
      colLower[col] = pmin
      colUpper[col] = flex
      integrality[col] = SEMI_CONTINUOUS
    }
    // pmin > flex: the customer cannot be activated in this direction, so the column stays fixed at 0.
  }
  for (let c = flexCols; c < flexCols + slackCols; c++) {
    colCost[c] = breach
    colUpper[c] = infinity
  }
  const rowLower = new Float64Array(numRows)
  const rowUpper = new Float64Array(numRows)
  batteries.forEach((b, j) => {
    for (let k = 0; k < t; k++) colUpper[flexCols + slackCols + j * t + k] = b.capacityKwh
    rowLower[t + j * t] = rowUpper[t + j * t] = b.initialKwh
  })
  let offset = 0
  for (let k = 0; k < t; k++) {
    rowLower[k] = rowUpper[k] = target[k] as number
    offset -= (problem.pricePerKwh[k] as number) * (target[k] as number) * h
  }

  const nonzeros = t * (2 * n + 2) + batteries.length * (4 * t - 1)
  const starts = new Int32Array(numRows + 1)
  const indices = new Int32Array(nonzeros)
  const values = new Float64Array(nonzeros)
  let p = 0
  for (let k = 0; k < t; k++) {
    starts[k] = p
    for (let i = 0; i < n; i++) {
      indices[p] = 2 * (i * t + k); values[p++] = 1
      indices[p] = 2 * (i * t + k) + 1; values[p++] = -1
    }
    indices[p] = flexCols + 2 * k; values[p++] = -1
    indices[p] = flexCols + 2 * k + 1; values[p++] = 1
  }
  batteries.forEach((b, j) => {
    const socCol = flexCols + slackCols + j * t
    for (let k = 0; k < t; k++) {
      starts[t + j * t + k] = p
      const cell = b.customer * t + k
      indices[p] = 2 * cell; values[p++] = -h
      indices[p] = 2 * cell + 1; values[p++] = h
      if (k > 0) { indices[p] = socCol + k - 1; values[p++] = -1 }
      indices[p] = socCol + k; values[p++] = 1
    }
  })
  starts[numRows] = p
  return {
    numCols,
    numRows,
    offset,
    colCost,
    colLower,
    colUpper,
    rowLower,
    rowUpper,
    matrix: { format: 'csr', numRows, numCols, starts, indices, values },
    ...(integrality === undefined ? {} : { integrality })
  }
}

/** Solves the problem with HiGHS and reads the plan back from its solution. */
export async function dispatchWithHighs (problem: DispatchProblem, init: HighsDispatchInit = {}): Promise<HighsDispatchResult> {
  const highs = await loadHighs()
  const data = buildHighsModel(problem, highs.infinity)
  const started = performance.now()
  return highs.withModel(data, model => {
    model.options.set({
      output_flag: false,
      mip_rel_gap: init.mipRelGap ?? 0.001,
      time_limit: init.timeLimitS ?? 120,
      presolve: init.presolve ?? (data.integrality === undefined ? 'off' : 'choose')
    })
    model.run()
    const code = model.getModelStatus()
    const status = Object.entries(highs.constants.modelStatus).find(([, v]) => v === code)?.[0] ?? String(code)
    if (status !== 'optimal' && status !== 'timeLimit') throw new HighsDispatchError(`HiGHS ended with status ${status}`)
    const colValue = model.getSolution().colValue
    if (colValue.length !== data.numCols) throw new HighsDispatchError(`HiGHS found no solution (status ${status})`)
    const solveMs = performance.now() - started
    const changeKw = new Float64Array(problem.customers * problem.intervals)
    for (let c = 0; c < changeKw.length; c++) changeKw[c] = (colValue[2 * c] as number) - (colValue[2 * c + 1] as number)
    const mipGap = data.integrality === undefined ? 0 : Number(model.info.get('mip_gap'))
    return { plan: planFromChanges(problem, changeKw, 'highs'), status, objective: model.getObjectiveValue(), mipGap, solveMs }
  })
}
