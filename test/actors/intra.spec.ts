import assert from 'node:assert/strict'
import { matchIntra, paperCapacityKw, type IntraCustomer, type IntraMatch } from '../../src/actors/intra.js'
import { seededRandom, uniform } from '../../src/util/random.js'

/**
 * Four customers over two intervals. c0 deviates: forecast [10, 4] against setpoint [6, 6], mean error
 * (forecast − measured) 1 kW, σ 2 kW, r 0.5. Candidates by reliability: c1 (0.9), c3 (0.8), c2 (0.6).
 */
function fixture (errorSdKw = 2): IntraCustomer[] {
  const c = (customerId: string, reliability: number, kw: number, setpointKw: number[], flexDown: number, flexUp: number): IntraCustomer => ({
    customerId, reliability, errorMeanKw: 0, errorSdKw: 0, forecastKw: [kw, kw], baselineKw: [kw, kw], setpointKw,
    flexDownKw: [flexDown, flexDown], flexUpKw: [flexUp, flexUp]
  })
  return [
    { customerId: 'c0', reliability: 0.5, errorMeanKw: 1, errorSdKw, forecastKw: [10, 4], baselineKw: [10, 4], setpointKw: [6, 6], flexDownKw: [4, 4], flexUpKw: [0, 0] },
    c('c1', 0.9, 5, [5, 5], 2, 1),
    c('c2', 0.6, 8, [7, 8], 3, 4),
    c('c3', 0.8, 2, [2, 2], 0.5, 3)
  ]
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9
function assertSeries (actual: readonly number[] | undefined, expected: number[], what: string): void {
  assert.ok(actual !== undefined && actual.length === expected.length && actual.every((x, t) => close(x, expected[t]!)),
    `${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`)
}
const setpointOf = (m: IntraMatch, id: string): number[] | undefined => m.changes.find(c => c.customerId === id)?.setpointKw

describe('actors/intra', () => {
  it('corrected: shortage partly covered, excess fully covered, by hand', () => {
    // t0: expected flow 10 − 1 = 9, deviation 9 − 6 = +3 (shortage), cover 3 + 1·σ = 5; others lower their flow.
    //   c1 spare down 5 − (5 − 2) = 2, asked 2 → yields 0.9·2 = 1.8, left 3.2
    //   c3 spare 2 − 1.5 = 0.5, asked 0.5 → 0.4, left 2.8
    //   c2 spare 7 − (8 − 3) = 2 (1 kW already dispatched), asked 2 → 1.2, left 1.6 → covered 3.4, uncovered 1.6
    //   c0 setpoint 6 + min(3, 3.4) = 9
    // t1: expected 4 − 1 = 3, deviation −3 (excess), cover 5; others raise their flow.
    //   c1 spare up 5 + 1 − 5 = 1 → 0.9, left 4.1; c3 spare 3 → 2.4, left 1.7; c2 asked 1.7/0.6 = 2.8333 → 1.7, left 0
    //   c0 setpoint 6 − 3 = 3
    const m = matchIntra(fixture(), 0, { strategy: 'corrected', marginSigmas: 1 })
    assertSeries(m.deviationKw, [3, -3], 'deviation')
    assertSeries(m.requiredKw, [5, -5], 'required')
    assertSeries(m.coveredKw, [3.4, -5], 'covered')
    assertSeries(m.uncoveredKw, [1.6, 0], 'uncovered')
    assert.deepEqual(m.feasible, [false, true])
    assertSeries(setpointOf(m, 'c0'), [9, 3], 'c0')
    assertSeries(setpointOf(m, 'c1'), [3, 6], 'c1')
    assertSeries(setpointOf(m, 'c2'), [5, 8 + 1.7 / 0.6], 'c2')
    assertSeries(setpointOf(m, 'c3'), [1.5, 5], 'c3')
  })

  it('paper: equations (1) and (2) as printed, shortage and excess, by hand', () => {
    // f'₀ = (10 − 1)/2 · 0.5 = 2.25 (shortage: 10 > 6), f'₁ = (4 − 1)/2 · 0.5 = 0.75 (excess: 4 < 6)
    // Σ_{j≠0} fʲ rⱼ = 5·0.9 + 8·0.6 + 2·0.8 = 10.9 ≥ both → feasible; c1 (most reliable, capacity 4.5) takes all.
    // c1: 5 − 2.25 = 2.75 and 5 + 0.75 = 5.75; c0: 6 + min(4, 2.25) = 8.25 and 6 − min(2, 0.75) = 5.25
    const m = matchIntra(fixture(), 0, { strategy: 'paper' })
    assertSeries(m.requiredKw, [2.25, -0.75], 'required')
    assertSeries(m.uncoveredKw, [0, 0], 'uncovered')
    assert.deepEqual(m.feasible, [true, true])
    assertSeries(setpointOf(m, 'c0'), [8.25, 5.25], 'c0')
    assertSeries(setpointOf(m, 'c1'), [2.75, 5.75], 'c1')
    assert.equal(m.changes.length, 2)
  })

  it('paper: equation (2) fails when σ is small, because f\' is a z-score and not kW', () => {
    // σ = 0.25: f'₀ = 9/0.25 · 0.5 = 18 > 10.9 → infeasible; c1 4.5, c3 1.6, c2 4.8 are all taken, 7.1 left.
    // f'₁ = 3/0.25 · 0.5 = 6 ≤ 10.9; c1 4.5 then c3 1.5 → c3 2 + 1.5 = 3.5.
    const m = matchIntra(fixture(0.25), 0, { strategy: 'paper' })
    assert.deepEqual(m.feasible, [false, true])
    assertSeries(m.uncoveredKw, [7.1, 0], 'uncovered')
    assertSeries(setpointOf(m, 'c2'), [7 - 4.8, 8], 'c2')
    assertSeries(setpointOf(m, 'c3'), [2 - 1.6, 3.5], 'c3')
  })

  it('paper: a precomputed pool capacity gives the same match', () => {
    const customers = fixture(0.25)
    // Σ over all four: 10.9 + c0's own 10·0.5 = 15.9 at t0, 10.9 + 4·0.5 = 12.9 at t1
    assertSeries(paperCapacityKw(customers), [15.9, 12.9], 'capacity')
    const pooled = matchIntra(customers, 0, { strategy: 'paper', paperCapacityKw: paperCapacityKw(customers) })
    assert.deepEqual(pooled.feasible, matchIntra(customers, 0, { strategy: 'paper' }).feasible)
    assertSeries(pooled.uncoveredKw, [7.1, 0], 'uncovered')
  })

  it('leaves a customer within the deadband alone', () => {
    const customers = fixture()
    customers[0] = { ...customers[0]!, forecastKw: [7.005, 7.005] }
    const m = matchIntra(customers, 0, { strategy: 'corrected', deadbandKw: 0.01 })
    assert.deepEqual(m.changes, [])
    assertSeries(m.uncoveredKw, [0, 0], 'uncovered')
  })

  it('corrected on random pools: never beyond spare flexibility, cover = Σ r·asked', () => {
    const random = seededRandom(77)
    for (let trial = 0; trial < 50; trial++) {
      const T = 4
      const customers: IntraCustomer[] = Array.from({ length: 30 }, (_, i) => {
        const base = Array.from({ length: T }, () => uniform(random, 1, 10))
        const down = base.map(() => uniform(random, 0, 2)); const up = base.map(() => uniform(random, 0, 2))
        return {
          customerId: `c${i}`, reliability: random.next(), errorMeanKw: uniform(random, -1, 1), errorSdKw: uniform(random, 0, 1),
          forecastKw: base.map(b => b + uniform(random, -6, 6)), baselineKw: base,
          setpointKw: base.map((b, t) => b - uniform(random, 0, down[t]!)), flexDownKw: down, flexUpKw: up
        }
      })
      const m = matchIntra(customers, trial % 30, { strategy: 'corrected' })
      for (let t = 0; t < T; t++) {
        let expected = 0
        for (const ch of m.changes) {
          if (ch.index === trial % 30) continue
          const c = customers[ch.index]!
          const sp = ch.setpointKw[t]!
          assert.ok(sp >= c.baselineKw[t]! - c.flexDownKw[t]! - 1e-9 && sp <= c.baselineKw[t]! + c.flexUpKw[t]! + 1e-9)
          expected += c.reliability * Math.abs(sp - c.setpointKw[t]!)
        }
        assert.ok(close(expected, Math.abs(m.coveredKw[t]!)), `t${t}: ${expected} vs ${m.coveredKw[t]}`)
        assert.ok(Math.abs(m.coveredKw[t]!) <= Math.abs(m.requiredKw[t]!) + 1e-9)
      }
    }
  })

  it('rejects an unknown index and series of the wrong length', () => {
    assert.throws(() => matchIntra(fixture(), 9), { name: 'IntraMatchError' })
    const bad = fixture(); bad[2] = { ...bad[2]!, flexUpKw: [1] }
    assert.throws(() => matchIntra(bad, 0), { name: 'IntraMatchError' })
    assert.throws(() => matchIntra(fixture(), 0, { strategy: 'paper', paperCapacityKw: [1, 2, 3] }), { name: 'IntraMatchError' })
  })
})
