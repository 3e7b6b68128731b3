import assert from 'node:assert/strict'
import { seededRandom } from '../../src/util/random.js'
import { clusterCustomers, clusterProfiles, featureMatrix, reclusterCustomers, type ClusterMemberFlex } from '../../src/actors/clustering.js'
import { archetypeCustomers, structurelessCustomers } from './synthetic.js'

/** Share of customers whose cluster's majority archetype is their own. */
function purity (assignment: Int32Array, truth: number[], k: number): number {
  const counts = Array.from({ length: k }, () => [0, 0, 0])
  assignment.forEach((c, i) => { counts[c]![truth[i]!]!++ })
  return counts.reduce((s, row) => s + Math.max(...row), 0) / truth.length
}

describe('actors/clustering', () => {
  it('recovers three well-separated archetypes with a high silhouette', () => {
    const { customers, archetype } = archetypeCustomers(600, seededRandom(11))
    const result = clusterCustomers(customers, seededRandom(5), { k: 3 })
    assert.equal(purity(result.assignment, archetype, 3), 1)
    assert.ok(result.silhouette > 0.6, `silhouette ${result.silhouette}`)
    assert.equal(result.silhouetteSampled, false)
    assert.deepEqual([...result.sizes].sort(), [...[0, 1, 2].map(a => archetype.filter(x => x === a).length)].sort())
  })

  it('structureless customers get a much lower silhouette than archetypes', () => {
    const result = clusterCustomers(structurelessCustomers(600, seededRandom(3)), seededRandom(5), { k: 3 })
    assert.ok(result.silhouette < 0.3, `silhouette ${result.silhouette}`)
  })

  it('is reproducible with the same seed', () => {
    const { customers } = archetypeCustomers(300, seededRandom(2))
    const a = clusterCustomers(customers, seededRandom(9), { k: 4 })
    const b = clusterCustomers(customers, seededRandom(9), { k: 4 })
    assert.deepEqual(a.assignment, b.assignment)
    assert.equal(a.silhouette, b.silhouette)
  })

  it('samples the silhouette above silhouetteSampleSize and says so', () => {
    const { customers } = archetypeCustomers(3000, seededRandom(4))
    const result = clusterCustomers(customers, seededRandom(1), { k: 3, silhouetteSampleSize: 500 })
    assert.equal(result.silhouetteSampled, true)
    const exact = clusterCustomers(customers, seededRandom(1), { k: 3, silhouetteSampleSize: 5000 })
    assert.ok(Math.abs(result.silhouette - exact.silhouette) < 0.05, `${result.silhouette} vs ${exact.silhouette}`)
  })

  it('reclustering keeps labels stable and moves a customer whose data changed', () => {
    const { customers, archetype } = archetypeCustomers(300, seededRandom(6))
    const first = clusterCustomers(customers, seededRandom(2), { k: 3 })
    const moved = archetype.findIndex(a => a === 0)
    const target = archetype.findIndex(a => a === 2)
    const changed = customers.map((c, i) => i === moved ? { ...customers[target]!, customerId: c.customerId } : c)
    const second = reclusterCustomers(changed, first, seededRandom(2))
    const differing = second.assignment.filter((c, i) => c !== first.assignment[i]).length
    assert.equal(differing, 1)
    assert.equal(second.assignment[moved], first.assignment[target])
  })

  it('profiles sum members and give convex cost curves that price whole steps exactly', () => {
    const { customers } = archetypeCustomers(60, seededRandom(8))
    const clustering = clusterCustomers(customers, seededRandom(1), { k: 3 })
    const random = seededRandom(12)
    const flex: ClusterMemberFlex[] = customers.map(() => ({
      baselineKw: [2, 3], flexUpKw: [random.next(), random.next()], flexDownKw: [random.next(), random.next()],
      costUpPerKwh: random.next(), costDownPerKwh: random.next(), reliability: random.next()
    }))
    const profiles = clusterProfiles(clustering, flex, { costSteps: 3 })
    assert.equal(profiles.reduce((s, p) => s + p.members.length, 0), 60)
    for (const p of profiles) {
      assert.equal(p.baselineKw[1], 3 * p.members.length)
      const flexDown0 = p.members.reduce((s, i) => s + flex[i]!.flexDownKw[0]!, 0)
      assert.ok(Math.abs(p.flexDownKw[0]! - flexDown0) < 1e-12)
      const rel = p.members.reduce((s, i) => s + flex[i]!.reliability, 0) / p.members.length
      assert.ok(Math.abs(p.meanReliability - rel) < 1e-12)
      assert.ok(p.downCostCurve.length <= 3)
      for (let s = 1; s < p.downCostCurve.length; s++) assert.ok(p.downCostCurve[s]!.costPerKwh >= p.downCostCurve[s - 1]!.costPerKwh)
      // Cost of using every step in full equals the members' own cost.
      const stepCost = p.downCostCurve.reduce((s, st) => s + st.costPerKwh * (st.capacityKw[0]! + st.capacityKw[1]!), 0)
      const ownCost = p.members.reduce((s, i) => s + flex[i]!.costDownPerKwh * (flex[i]!.flexDownKw[0]! + flex[i]!.flexDownKw[1]!), 0)
      assert.ok(Math.abs(stepCost - ownCost) < 1e-9)
    }
  })

  it('the convergence tolerance stops Lloyd early at the same quality, every customer with its nearest centroid', () => {
    const { customers } = archetypeCustomers(3000, seededRandom(21))
    const exact = clusterCustomers(customers, seededRandom(4), { k: 16, tolerance: 0 })
    const early = clusterCustomers(customers, seededRandom(4), { k: 16 })
    assert.ok(early.iterations < exact.iterations, `${early.iterations} vs ${exact.iterations} iterations`)
    assert.ok(early.inertia <= exact.inertia * 1.01, `inertia ${early.inertia} vs ${exact.inertia}`)
    assert.ok(Math.abs(early.silhouette - exact.silhouette) < 0.02, `silhouette ${early.silhouette} vs ${exact.silhouette}`)
    const { data, dims } = featureMatrix(customers, {}, early.scaling)
    const sq = (i: number, c: number): number => early.centroids[c]!.reduce((s, x, d) => s + (data[i * dims + d]! - x) ** 2, 0)
    for (let i = 0; i < customers.length; i++) {
      const own = sq(i, early.assignment[i]!)
      for (let c = 0; c < early.k; c++) assert.ok(own <= sq(i, c) + 1e-9, `customer ${i} is nearer centroid ${c}`)
    }
  })

  it('with tolerance 0 ends at Lloyd\'s fixed point: every centroid the mean of its members, each member nearest to it', () => {
    const customers = structurelessCustomers(2000, seededRandom(31))
    const result = clusterCustomers(customers, seededRandom(6), { k: 12, tolerance: 0 })
    const { data, dims } = featureMatrix(customers, {}, result.scaling)
    const mean = Array.from({ length: result.k }, () => new Array<number>(dims).fill(0))
    result.assignment.forEach((c, i) => { for (let d = 0; d < dims; d++) mean[c]![d]! += data[i * dims + d]! / result.sizes[c]! })
    for (let c = 0; c < result.k; c++) for (let d = 0; d < dims; d++) assert.ok(Math.abs(mean[c]![d]! - result.centroids[c]![d]!) < 1e-9)
    const sq = (i: number, c: number): number => result.centroids[c]!.reduce((s, x, d) => s + (data[i * dims + d]! - x) ** 2, 0)
    for (let i = 0; i < customers.length; i++) {
      for (let c = 0; c < result.k; c++) assert.ok(sq(i, result.assignment[i]!) <= sq(i, c) + 1e-9, `customer ${i} is nearer centroid ${c}`)
    }
  })

  it('rejects an empty customer list', () => {
    assert.throws(() => clusterCustomers([], seededRandom(1)), { name: 'ClusteringError' })
  })
})
