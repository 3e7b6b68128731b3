import { strict as assert } from 'node:assert'
import { dispatchWithHighs } from '../../../src/actors/dispatch/highsModel.js'
import { dispatchByMeritOrder } from '../../../src/actors/dispatch/meritOrder.js'
import { dispatch } from '../../../src/actors/dispatch/dispatch.js'
import type { DispatchProblem } from '../../../src/actors/dispatch/problem.js'

/**
 * Customer 0 is a 2 kWh battery (full), ±4 kW, 0.05 per kWh either way; customer 1 can shed 3 kW at 0.3.
 * Three 1-hour intervals ask for −4, +2, −4 kW. Only the battery can absorb the +2 (recharging it), so it
 * can give 2 kWh in interval 0 and 2 kWh in interval 2; customer 1 covers the other 2 kW of each.
 * Cost by hand: battery 6 kWh × 0.05 = 0.3, customer 1 4 kWh × 0.3 = 1.2, total 1.5, nothing short.
 */
const batteryProblem: DispatchProblem = {
  customers: 2, intervals: 3, intervalMs: 3_600_000,
  request: { kind: 'delta', deltaKw: Float64Array.of(-4, 2, -4) },
  baselineKw: Float64Array.of(0, 0, 0, 6, 6, 6),
  flexUpKw: Float64Array.of(4, 4, 4, 0, 0, 0),
  flexDownKw: Float64Array.of(4, 4, 4, 3, 3, 3),
  costUpPerKwh: Float64Array.of(0.05, 0),
  costDownPerKwh: Float64Array.of(0.05, 0.3),
  pricePerKwh: Float64Array.of(0.2, 0.2, 0.2),
  batteries: [{ customer: 0, capacityKwh: 2, initialKwh: 2 }]
}

function stateOfCharge (changeKw: Float64Array, initialKwh: number, hours: number): number[] {
  const soc: number[] = []
  let e = initialKwh
  for (const c of changeKw) { e += c * hours; soc.push(e) }
  return soc
}

describe('dispatch: HiGHS model', () => {
  it('battery coupling: keeps the state of charge within bounds across intervals', async () => {
    const { plan, status } = await dispatchWithHighs(batteryProblem)
    assert.equal(status, 'optimal')
    const soc = stateOfCharge(plan.changeKw.subarray(0, 3), 2, 1)
    for (const e of soc) assert.ok(e >= -1e-7 && e <= 2 + 1e-7, `state of charge ${e} out of [0, 2]`)
    assert.deepEqual(plan.shortIntervals, [])
    assert.ok(Math.abs(plan.cost.total - 1.5) < 1e-6, `cost ${plan.cost.total}`)
  })

  it('the uncoupled merit order would overdraw the battery (so the test above can fail)', () => {
    const plan = dispatchByMeritOrder(batteryProblem)
    const soc = stateOfCharge(plan.changeKw.subarray(0, 3), 2, 1)
    assert.ok(Math.min(...soc) < -1, `merit order keeps the battery at ${soc.join(', ')}`)
  })

  it('dispatch() routes a problem with batteries to HiGHS', async () => {
    const plan = await dispatch(batteryProblem)
    assert.equal(plan.solver, 'highs')
  })

  it('minimum activation is exact: a customer moves 0 or at least p_min', async () => {
    // One interval asks for −5 kW; customer 0 (0.1/kWh) can shed 4 but only from 3 up; customer 1 (0.2/kWh)
    // can shed 4 from 2 up. Cheapest: 3 + 2 (0.7 per h) beats 4 + 1 (not allowed: 1 < 2) and 1 + 4 (1 < 3).
    const { plan } = await dispatchWithHighs({
      customers: 2, intervals: 1, intervalMs: 3_600_000,
      request: { kind: 'delta', deltaKw: Float64Array.of(-5) },
      baselineKw: Float64Array.of(5, 5), flexUpKw: Float64Array.of(0, 0), flexDownKw: Float64Array.of(4, 4),
      costUpPerKwh: Float64Array.of(0, 0), costDownPerKwh: Float64Array.of(0.1, 0.2), pricePerKwh: Float64Array.of(0),
      minActivationKw: Float64Array.of(3, 2)
    })
    assert.deepEqual(Array.from(plan.changeKw, v => Math.round(v * 1e6) / 1e6), [-3, -2])
    assert.ok(Math.abs(plan.cost.total - 0.7) < 1e-6)
  })
})
