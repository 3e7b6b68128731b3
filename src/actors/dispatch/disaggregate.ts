/**
 * Disaggregation of a cluster's share to its customers by merit order, honouring minimum activation
 * (a customer moves 0 or at least p_min). Greedy in cost order; when the remainder is below the next
 * customer's p_min, either shift that much away from customers already taken (if they have room above
 * their own p_min) or skip to a later customer whose p_min fits, whichever is cheaper. A final top-up
 * pass over all customers covers what the clusters could not place. A heuristic: the bench and tests
 * measure its gap to HiGHS's exact MILP.
 */

/** One direction of one interval, seen from the customers. */
export interface DirectionSlice {
  /** Customers in ascending cost order (all customers, or one cluster's). */
  order: Uint32Array
  /** Cost of moving each customer (currency/kWh, price included), by customer index. */
  cost: Float64Array
  /** Flexibility in this direction, N×T. */
  flexKw: Float64Array
  /** Minimum activation, N×T (undefined = none). */
  minKw: Float64Array | undefined
  /** Interval and interval count, to index N×T arrays. */
  k: number
  t: number
  /** Breach price: flexibility at least this dear is not worth using. */
  breach: number
}

const EPS_KW = 1e-9

/**
 * Moves customers of `slice.order` (writing magnitudes into `moveKw`, by customer index) until `amountKw`
 * is placed or nothing more fits; returns what is left unplaced. Customers already moving keep their
 * move and may grow.
 */
export function fillByMeritOrder (slice: DirectionSlice, amountKw: number, moveKw: Float64Array): number {
  const { order, cost, flexKw, minKw, k, t, breach } = slice
  let rest = amountKw
  // Customers taken in this pass, in order, so a shift can take back from the dearest first.
  const taken: number[] = []
  for (let j = 0; j < order.length && rest > EPS_KW; j++) {
    const i = order[j] as number
    const c = cost[i] as number
    if (c >= breach) break
    const cell = i * t + k
    const width = flexKw[cell] as number
    const pmin = minKw?.[cell] ?? 0
    const current = moveKw[i] as number
    if (width - current <= EPS_KW || pmin > width) continue
    if (current > 0 || rest >= pmin) {
      const add = Math.min(width - current, rest)
      moveKw[i] = current + add
      rest -= add
      taken.push(i)
      continue
    }
    const need = pmin - rest
    const shiftCost = costOfShift(taken, need, pmin, c, moveKw, slice)
    if (shiftCost === undefined) continue
    const next = nextFitting(slice, j + 1, rest, moveKw)
    if (next !== undefined && (cost[next] as number) * rest < shiftCost) continue
    applyShift(taken, need, moveKw, slice)
    moveKw[i] = pmin
    taken.push(i)
    rest = 0
  }
  return rest
}

/** Cost of activating a customer at `pmin` while taking `need` back from the dearest taken customers. */
function costOfShift (taken: number[], need: number, pmin: number, c: number, moveKw: Float64Array,
  slice: DirectionSlice): number | undefined {
  let left = need
  let saved = 0
  for (let j = taken.length - 1; j >= 0 && left > EPS_KW; j--) {
    const i = taken[j] as number
    const room = (moveKw[i] as number) - (slice.minKw?.[i * slice.t + slice.k] ?? 0)
    const back = Math.min(room, left)
    if (back <= 0) continue
    saved += back * (slice.cost[i] as number)
    left -= back
  }
  return left > EPS_KW ? undefined : c * pmin - saved
}

function applyShift (taken: number[], need: number, moveKw: Float64Array, slice: DirectionSlice): void {
  let left = need
  for (let j = taken.length - 1; j >= 0 && left > EPS_KW; j--) {
    const i = taken[j] as number
    const room = (moveKw[i] as number) - (slice.minKw?.[i * slice.t + slice.k] ?? 0)
    const back = Math.min(room, left)
    if (back <= 0) continue
    moveKw[i] = (moveKw[i] as number) - back
    left -= back
  }
}

/** The first customer from position `from` that could take all of `rest` on its own. */
function nextFitting (slice: DirectionSlice, from: number, rest: number, moveKw: Float64Array): number | undefined {
  for (let j = from; j < slice.order.length; j++) {
    const i = slice.order[j] as number
    if ((slice.cost[i] as number) >= slice.breach) return undefined
    const cell = i * slice.t + slice.k
    const width = slice.flexKw[cell] as number
    if ((moveKw[i] as number) === 0 && (slice.minKw?.[cell] ?? 0) <= rest && width >= rest) return i
  }
  return undefined
}
