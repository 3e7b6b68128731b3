import { strict as assert } from 'node:assert'
import { dispatchByClusterMilp } from '../../../src/actors/dispatch/clusterMilp.js'
import { dispatchWithHighs } from '../../../src/actors/dispatch/highsModel.js'
import { dispatchByMeritOrder } from '../../../src/actors/dispatch/meritOrder.js'
import { syntheticProblem } from '../../../src/actors/dispatch/syntheticProblem.js'
import type { DispatchPlan, DispatchProblem } from '../../../src/actors/dispatch/problem.js'
import { clusterCustomers } from '../../../src/actors/clustering.js'
import type { ClusterFeatures } from '../../../src/actors/clustering.js'
import { seededRandom, uniform } from '../../../src/util/random.js'

function relativeGap (plan: DispatchPlan, reference: number): number {
  return (plan.cost.total - reference) / Math.abs(reference)
}

function assertMinimumActivation (problem: DispatchProblem, plan: DispatchPlan): void {
  const min = problem.minActivationKw as Float64Array
  plan.changeKw.forEach((change, cell) => {
    if (change !== 0) assert.ok(Math.abs(change) >= (min[cell] as number) - 1e-9, `cell ${cell} moves ${change} < p_min ${min[cell]}`)
  })
}

/** D's k-means++ clustering on features read off the problem (flexible load, load shape, a location). */
function clusterWithKMeans (problem: DispatchProblem, k: number, seed: number): Int32Array {
  const random = seededRandom(seed)
  const { customers: n, intervals: t } = problem
  const features: ClusterFeatures[] = Array.from({ length: n }, (_, i) => {
    const row = problem.baselineKw.subarray(i * t, (i + 1) * t)
    const flex = problem.flexDownKw.subarray(i * t, (i + 1) * t)
    return {
      customerId: `c${i}`,
      type: 'consumer',
      pvKw: 0,
      batteryKwh: 0,
      flexibleLoadKw: flex.reduce((a, b) => a + b, 0) / t,
      latitude: uniform(random, 45, 46),
      longitude: uniform(random, 7, 8),
      loadShapeKw: row
    }
  })
  return clusterCustomers(features, random, { k }).assignment
}

describe('dispatch: cluster-profile MILP', () => {
  it('stays within 1 % of HiGHS\'s MILP optimum (0.1 % gap) with minimum activation, seeded instances', async () => {
    for (const seed of [1, 2, 3]) {
      const problem = syntheticProblem({ customers: 40, intervals: 8, seed, minActivationShare: 0.3, clusters: 4 })
      const plan = dispatchByClusterMilp(problem)
      const reference = await dispatchWithHighs(problem, { mipRelGap: 0.001, timeLimitS: 60 })
      assert.equal(reference.status, 'optimal')
      const gap = relativeGap(plan, reference.objective)
      assert.ok(gap <= 0.01, `seed ${seed}: cluster MILP ${plan.cost.total} vs HiGHS ${reference.objective} (gap ${gap})`)
      assertMinimumActivation(problem, plan)
    }
  })

  it('with D\'s k-means clusters, stays within 1 % of the per-customer optimum, seeded instances', async () => {
    // Per-customer optimum: HiGHS on the customer-level MILP to a 0.01 % gap. The cluster profiles alone
    // (no customer-level pass) measured 0.35–0.91 % above it on seeds 1–8; the pass brings it to < 0.01 %.
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const base = syntheticProblem({ customers: 80, intervals: 8, seed, minActivationShare: 0.3 })
      const problem = { ...base, clusterOf: clusterWithKMeans(base, 5, 11) }
      const reference = await dispatchWithHighs(problem, { mipRelGap: 0.0001, timeLimitS: 60 })
      assert.equal(reference.status, 'optimal')
      const profilesOnly = dispatchByClusterMilp(problem, { customerPass: false })
      const plan = dispatchByClusterMilp(problem)
      const profilesGap = relativeGap(profilesOnly, reference.objective)
      assert.ok(profilesGap <= 0.01, `seed ${seed}: profiles only ${profilesOnly.cost.total} vs ${reference.objective} (gap ${profilesGap})`)
      assert.ok(plan.cost.total <= profilesOnly.cost.total + 1e-9, `seed ${seed}: the customer pass made it worse`)
      assert.ok(relativeGap(plan, reference.objective) <= 0.01, `seed ${seed}: ${plan.cost.total} vs ${reference.objective}`)
      assertMinimumActivation(problem, profilesOnly)
      assertMinimumActivation(problem, plan)
    }
  })

  it('without minimum activation, cluster profiles stay within 1 % of the exact merit-order optimum at 2,000 customers', () => {
    const base = syntheticProblem({ customers: 2000, intervals: 24, seed: 5 })
    const problem = { ...base, clusterOf: clusterWithKMeans(base, 8, 3) }
    const plan = dispatchByClusterMilp(problem)
    const exact = dispatchByMeritOrder(problem)
    const gap = relativeGap(plan, exact.cost.total)
    assert.ok(gap >= -1e-9 && gap <= 0.01, `cluster ${plan.cost.total} vs exact ${exact.cost.total}`)
  })

  it('soft constraint: a request beyond all flexibility is placed as far as it goes and the rest reported', () => {
    const problem = syntheticProblem({ customers: 40, intervals: 6, seed: 9, minActivationShare: 0.2, reductionShare: 1.5, clusters: 3 })
    const plan = dispatchByClusterMilp(problem)
    const request = problem.request.kind === 'delta' ? problem.request.deltaKw : new Float64Array()
    for (let k = 0; k < problem.intervals; k++) {
      const goal = request[k] as number
      if (goal >= 0) continue
      let available = 0
      for (let i = 0; i < problem.customers; i++) {
        const cell = i * problem.intervals + k
        const flex = problem.flexDownKw[cell] as number
        if ((problem.minActivationKw?.[cell] ?? 0) <= flex) available += flex
      }
      // Asked for 1.5× what exists: every customer that can be activated sheds all it can, the rest is the
      // reported shortfall (positive: the flow stays above the setpoint).
      assert.ok(plan.shortIntervals.includes(k))
      assert.ok(Math.abs((plan.shortfallKw[k] as number) - (-available - goal)) < 1e-6)
    }
  })
})
