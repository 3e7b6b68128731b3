/**
 * Seeded synthetic dispatch problems (a population of households and small businesses with a daily load
 * shape) for tests, benchmarks and the demo. Same seed, same problem.
 */
import { randomInt, seededRandom, uniform } from '../../util/random.js'
import type { DispatchProblem } from './problem.js'

export interface SyntheticProblemInit {
  customers: number
  intervals: number
  seed: number
  /**
   * Requested reduction as a share of the aggregate downward flexibility (> 1 asks for more than exists).
   * @default 0.6
   */
  reductionShare?: number
  /**
   * Minimum activation as a share of each customer's flexibility in that interval (0 = no binaries).
   * @default 0
   */
  minActivationShare?: number
  /**
   * Number of clusters customers are assigned to (by a random assignment; 0 = none).
   * @default 0
   */
  clusters?: number
  /**
   * Length of one interval (ms).
   * @default 900000
   */
  intervalMs?: number
}

export function syntheticProblem (init: SyntheticProblemInit): DispatchProblem {
  const { customers: n, intervals: t, seed } = init
  const random = seededRandom(seed)
  const share = init.reductionShare ?? 0.6
  const pminShare = init.minActivationShare ?? 0
  const baselineKw = new Float64Array(n * t)
  const flexUpKw = new Float64Array(n * t)
  const flexDownKw = new Float64Array(n * t)
  const costUpPerKwh = new Float64Array(n)
  const costDownPerKwh = new Float64Array(n)
  const minActivationKw = pminShare > 0 ? new Float64Array(n * t) : undefined
  const shape = Float64Array.from({ length: t }, (_, k) => 1 + 0.5 * Math.sin(2 * Math.PI * k / Math.max(t, 1) - Math.PI / 2))
  for (let i = 0; i < n; i++) {
    const size = uniform(random, 0.5, 5)
    const flexibleShare = uniform(random, 0.1, 0.5)
    const upKw = uniform(random, 0, 2)
    costUpPerKwh[i] = uniform(random, 0.02, 0.4)
    costDownPerKwh[i] = uniform(random, 0.05, 0.5)
    for (let k = 0; k < t; k++) {
      const cell = i * t + k
      baselineKw[cell] = size * (shape[k] as number) * uniform(random, 0.8, 1.2)
      flexDownKw[cell] = (baselineKw[cell] as number) * flexibleShare
      flexUpKw[cell] = upKw * uniform(random, 0.5, 1)
      if (minActivationKw !== undefined) {
        minActivationKw[cell] = pminShare * Math.max(flexDownKw[cell] as number, flexUpKw[cell] as number) * uniform(random, 0.5, 1.5)
      }
    }
  }
  const totalDown = new Float64Array(t)
  const totalUp = new Float64Array(t)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < t; k++) {
      totalDown[k] = (totalDown[k] as number) + (flexDownKw[i * t + k] as number)
      totalUp[k] = (totalUp[k] as number) + (flexUpKw[i * t + k] as number)
    }
  }
  // Mostly reductions, with a few absorption intervals (midday PV surplus) and a few quiet ones.
  const deltaKw = new Float64Array(t)
  const pricePerKwh = new Float64Array(t)
  for (let k = 0; k < t; k++) {
    const kind = random.next()
    const jitter = uniform(random, 0.8, 1.2)
    deltaKw[k] = kind < 0.75 ? -share * jitter * (totalDown[k] as number) : kind < 0.9 ? share * jitter * (totalUp[k] as number) : 0
    pricePerKwh[k] = 0.1 + 0.1 * (shape[k] as number) + uniform(random, -0.02, 0.02)
  }
  const clusters = init.clusters ?? 0
  const clusterOf = clusters > 0 ? Int32Array.from({ length: n }, () => randomInt(random, clusters)) : undefined
  return {
    customers: n,
    intervals: t,
    intervalMs: init.intervalMs ?? 900_000,
    request: { kind: 'delta', deltaKw },
    baselineKw,
    flexUpKw,
    flexDownKw,
    costUpPerKwh,
    costDownPerKwh,
    pricePerKwh,
    ...(minActivationKw === undefined ? {} : { minActivationKw }),
    ...(clusterOf === undefined ? {} : { clusterOf })
  }
}
