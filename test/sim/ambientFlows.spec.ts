import assert from 'node:assert/strict'
import { AmbientFlows } from '../../src/sim/ambientFlows.js'
import { generateCustomers, profileOf } from '../../src/sim/customers.js'

const intervalMs = 900_000
const forecastSteps = 103

describe('sim/ambientFlows', () => {
  it('forecasts and flows are profileOf\'s to the last digit, report after report, on and off the step grid', () => {
    const seed = 4
    const flows = new AmbientFlows({ seed, intervalMs, forecastSteps })
    const customers = generateCustomers({ seed, count: 12 })
    assert.ok(customers.some(c => c.pvKwp > 0) && customers.some(c => c.battery !== null))
    const from = Date.UTC(2026, 5, 19, 20)
    const starts = [...Array.from({ length: 12 }, (_, j) => from + j * intervalMs), from + 450_000, from + 3 * intervalMs]
    for (const startMs of starts) {
      for (const c of customers) {
        const p = profileOf(c, { startMs, intervalMs, intervals: forecastSteps }, seed)
        assert.deepEqual(flows.forecast(c, startMs), { baselineKw: p.forecastBaselineKw, flexUpKw: p.flexUpKw, flexDownKw: p.flexDownKw })
        const flowAt = (ms: number): number | undefined => profileOf(c, { startMs: ms, intervalMs, intervals: 1 }, seed).trueBaselineKw[0]
        assert.equal(flows.flowKw(c, startMs + intervalMs / 2), flowAt(startMs + intervalMs / 2))
        assert.equal(flows.flowKw(c, startMs), flowAt(startMs))
      }
    }
  })
})
