/**
 * Exact solution of the pure dispatch LP (no minimum activation, nothing coupling intervals) by merit
 * order. Each interval is a one-dimensional convex problem in the net change a of the aggregate:
 *   minimise  price·a + g(a) + breach·|target − a|
 * where g is the cheapest flexibility cost of moving the aggregate by a: piecewise linear with the
 * customers' costs, sorted, as slopes. Walking the sorted customers from a = 0 while the slope is negative
 * reaches the optimum. Moving up on one customer and down on another never pays (costs are ≥ 0), so only
 * one direction is walked per interval. Costs are per customer, so the sort happens once, O(N log N), and
 * each interval is an O(N) walk that stops at the marginal customer.
 */
import { breachPrice, planFromChanges, requestedChangeKw, validateProblem } from './problem.js'
import type { DispatchPlan, DispatchProblem } from './problem.js'

/** Customer indices in ascending order of a per-customer cost (stable on ties). */
export function costOrder (costs: Float64Array): Uint32Array {
  const order = new Uint32Array(costs.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  return order.sort((a, b) => ((costs[a] as number) - (costs[b] as number)) || a - b)
}

/** Solves the LP exactly; ignores minimum activation and batteries (see dispatch() for routing). */
export function dispatchByMeritOrder (problem: DispatchProblem): DispatchPlan {
  validateProblem(problem)
  const { intervals: t } = problem
  const target = requestedChangeKw(problem)
  const breach = breachPrice(problem)
  const upOrder = costOrder(problem.costUpPerKwh)
  const downOrder = costOrder(problem.costDownPerKwh)
  const changeKw = new Float64Array(problem.customers * t)
  for (let k = 0; k < t; k++) {
    const price = problem.pricePerKwh[k] as number
    const goal = target[k] as number
    walk(upOrder, problem.costUpPerKwh, problem.flexUpKw, price, goal, breach, k, t, changeKw, 1)
    walk(downOrder, problem.costDownPerKwh, problem.flexDownKw, -price, -goal, breach, k, t, changeKw, -1)
  }
  return planFromChanges(problem, changeKw, 'merit-order')
}

/**
 * Moves the aggregate in one direction (sign +1 up, −1 down) through the customers in cost order while
 * that lowers the objective. `price` and `goal` are already expressed along the direction walked.
 */
function walk (order: Uint32Array, cost: Float64Array, flex: Float64Array, price: number, goal: number,
  breach: number, k: number, t: number, changeKw: Float64Array, sign: 1 | -1): void {
  let moved = 0
  for (let j = 0; j < order.length; j++) {
    const i = order[j] as number
    const width = flex[i * t + k] as number
    if (width <= 0) continue
    const c = (cost[i] as number) + price
    let take = 0
    if (moved < goal && c - breach < 0) {
      take = Math.min(width, goal - moved)
    }
    if (c + breach < 0) take = width
    else if (take === 0) return
    moved += take
    changeKw[i * t + k] = sign * take
  }
}
