import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { dispatchByMeritOrder } from '../../../src/actors/dispatch/meritOrder.js'
import { dispatchWithHighs } from '../../../src/actors/dispatch/highsModel.js'
import { DispatchInputError } from '../../../src/actors/dispatch/problem.js'
import type { DispatchProblem } from '../../../src/actors/dispatch/problem.js'

const f64 = (n: number, min: number, max: number): fc.Arbitrary<Float64Array> =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }).map(a => Float64Array.from(a))

/** Small random problems, including prices beyond the breach price and requests beyond all flexibility. */
const smallProblem: fc.Arbitrary<DispatchProblem> = fc.record({ n: fc.integer({ min: 1, max: 8 }), t: fc.integer({ min: 1, max: 4 }) })
  .chain(({ n, t }) => fc.record({
    customers: fc.constant(n),
    intervals: fc.constant(t),
    intervalMs: fc.constantFrom(900_000, 3_600_000),
    request: f64(t, -30, 30).map(deltaKw => ({ kind: 'delta' as const, deltaKw })),
    baselineKw: f64(n * t, -5, 10),
    flexUpKw: f64(n * t, 0, 5),
    flexDownKw: f64(n * t, 0, 5),
    costUpPerKwh: f64(n, 0, 3),
    costDownPerKwh: f64(n, 0, 3),
    pricePerKwh: f64(t, -4, 4),
    breachPricePerKwh: fc.double({ min: 0.5, max: 10, noNaN: true })
  }))

describe('dispatch: merit order (pure LP)', () => {
  it('reaches HiGHS\'s optimum within 1e-6 relative on random seeded instances', async () => {
    await fc.assert(fc.asyncProperty(smallProblem, async problem => {
      const plan = dispatchByMeritOrder(problem)
      const reference = await dispatchWithHighs(problem)
      assert.equal(reference.status, 'optimal')
      const scale = Math.max(1, Math.abs(reference.objective))
      assert.ok(Math.abs(plan.cost.total - reference.objective) <= 1e-6 * scale,
        `merit order ${plan.cost.total} vs HiGHS ${reference.objective}`)
      for (let c = 0; c < plan.changeKw.length; c++) {
        const change = plan.changeKw[c] as number
        assert.ok(change <= (problem.flexUpKw[c] as number) + 1e-12 && -change <= (problem.flexDownKw[c] as number) + 1e-12)
      }
    }), { seed: 20240601, numRuns: 40 })
  })

  it('meets an attainable setpoint exactly, and at the cheapest customers', () => {
    // Three customers, one interval, baseline 10 kW each, 4 kW of shed each at 0.1, 0.3 and 0.2 per kWh.
    // Setpoint 24 kW: shed 6 kW, all 4 kW of the cheapest (0), then 2 kW of the next (2): 0.1·4 + 0.2·2 = 0.8 per h.
    const plan = dispatchByMeritOrder({
      customers: 3, intervals: 1, intervalMs: 3_600_000,
      request: { kind: 'setpoint', setpointKw: Float64Array.of(24) },
      baselineKw: Float64Array.of(10, 10, 10),
      flexUpKw: Float64Array.of(0, 0, 0),
      flexDownKw: Float64Array.of(4, 4, 4),
      costUpPerKwh: Float64Array.of(0, 0, 0),
      costDownPerKwh: Float64Array.of(0.1, 0.3, 0.2),
      pricePerKwh: Float64Array.of(0.25)
    })
    assert.deepEqual(Array.from(plan.setpointKw), [6, 10, 8])
    assert.deepEqual(plan.shortIntervals, [])
    assert.ok(Math.abs(plan.cost.total - 0.8) < 1e-12)
  })

  it('soft constraint: a request beyond all flexibility is met as far as possible and the shortfall reported', () => {
    // Two customers can shed 3 + 2 kW; interval 0 asks for −8 kW (3 kW short), interval 1 for −4 kW (met).
    const plan = dispatchByMeritOrder({
      customers: 2, intervals: 2, intervalMs: 900_000,
      request: { kind: 'delta', deltaKw: Float64Array.of(-8, -4) },
      baselineKw: Float64Array.of(5, 5, 4, 4),
      flexUpKw: new Float64Array(4),
      flexDownKw: Float64Array.of(3, 3, 2, 2),
      costUpPerKwh: Float64Array.of(0, 0),
      costDownPerKwh: Float64Array.of(0.2, 0.1),
      pricePerKwh: Float64Array.of(0.3, 0.3),
      breachPricePerKwh: 5
    })
    assert.deepEqual(plan.shortIntervals, [0])
    assert.ok(Math.abs((plan.shortfallKw[0] as number) - 3) < 1e-12, 'flow stays 3 kW above the setpoint')
    assert.equal(plan.shortfallKw[1], 0)
    assert.deepEqual(Array.from(plan.changeKw), [-3, -2, -2, -2])
    // Breach: 3 kW × 0.25 h × 5 = 3.75; imbalance 3 kW × 0.25 h × 0.3 = 0.225.
    assert.ok(Math.abs(plan.cost.breach - 3.75) < 1e-12)
    assert.ok(Math.abs(plan.cost.imbalance - 0.225) < 1e-12)
  })

  it('leaves flexibility dearer than the breach price unused', () => {
    const plan = dispatchByMeritOrder({
      customers: 1, intervals: 1, intervalMs: 3_600_000,
      request: { kind: 'delta', deltaKw: Float64Array.of(-2) },
      baselineKw: Float64Array.of(5), flexUpKw: Float64Array.of(0), flexDownKw: Float64Array.of(5),
      costUpPerKwh: Float64Array.of(0), costDownPerKwh: Float64Array.of(50), pricePerKwh: Float64Array.of(0),
      breachPricePerKwh: 10
    })
    assert.equal(plan.changeKw[0], 0)
    assert.deepEqual(plan.shortIntervals, [0])
  })

  it('rejects malformed input with a named error', () => {
    assert.throws(() => dispatchByMeritOrder({
      customers: 2, intervals: 1, intervalMs: 900_000,
      request: { kind: 'delta', deltaKw: Float64Array.of(-1) },
      baselineKw: Float64Array.of(1, 1), flexUpKw: Float64Array.of(0, 0), flexDownKw: Float64Array.of(1, -1),
      costUpPerKwh: Float64Array.of(0, 0), costDownPerKwh: Float64Array.of(0, 0), pricePerKwh: Float64Array.of(0)
    }), (e: Error) => e instanceof DispatchInputError && /flexDownKw\[1\] is negative/.test(e.message))
  })
})
