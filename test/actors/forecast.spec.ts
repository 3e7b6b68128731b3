import assert from 'node:assert/strict'
import {
  ForecastError, forecastBaseline, forecastSkill, seasonalNaive, trainForecaster, updateForecaster, type ForecastModel
} from '../../src/actors/forecast.js'
import { wape } from '../../src/actors/stats.js'
import { seededRandom } from '../../src/util/random.js'
import { DAY_MS, syntheticLoad, WEEK_MS } from './synthetic.js'

const START = Date.UTC(2024, 0, 1) // a Monday
const STEP = 15 * 60_000
const PER_DAY = DAY_MS / STEP

describe('actors/forecast', () => {
  it('beats the seasonal-naive forecast by ≥ 10 % in WAPE, day ahead, on held-out synthetic load', () => {
    const random = seededRandom(31)
    const trainWeeks = 8; const testDays = 14
    const actual: number[] = []; const model: number[] = []; const naive: number[] = []
    for (let c = 0; c < 5; c++) {
      const load = syntheticLoad(START, (trainWeeks * 7 + testDays) * PER_DAY, STEP, random)
      const history = { startMs: START, intervalMs: STEP, valuesKw: load }
      let fitted: ForecastModel = trainForecaster({ ...history, valuesKw: load.slice(0, trainWeeks * 7 * PER_DAY) })
      for (let d = 0; d < testDays; d++) {
        const from = (trainWeeks * 7 + d) * PER_DAY
        const dayStart = START + from * STEP
        const truth = load.slice(from, from + PER_DAY)
        model.push(...forecastBaseline(fitted, dayStart, PER_DAY))
        naive.push(...seasonalNaive(history, dayStart, PER_DAY))
        actual.push(...truth)
        // The day is reported, and the timer retrains on it before the next day-ahead forecast.
        fitted = JSON.parse(JSON.stringify(updateForecaster(fitted, { startMs: dayStart, intervalMs: STEP, valuesKw: truth })))
      }
    }
    const wModel = wape(actual, model); const wNaive = wape(actual, naive)
    assert.ok(wModel <= 0.9 * wNaive, `WAPE model ${wModel.toFixed(4)} vs seasonal-naive ${wNaive.toFixed(4)}`)
    assert.ok(forecastSkill(actual, model) > forecastSkill(actual, naive))
  })

  it('learns an exact weekly pattern exactly, and skips missing readings', () => {
    const pattern = Array.from({ length: 7 * 24 }, (_, h) => 2 + Math.sin(h / 5) + (h >= 120 ? 1 : 0))
    const values = [...pattern, ...pattern, ...pattern]
    values[200] = NaN
    const m = trainForecaster({ startMs: START, intervalMs: 3_600_000, valuesKw: values })
    const f = forecastBaseline(m, START + 3 * WEEK_MS, 7 * 24)
    f.forEach((x, h) => assert.ok(Math.abs(x - pattern[h]!) < 1e-9, `hour ${h}: ${x} vs ${pattern[h]}`))
    assert.equal(m.samples, 3 * 7 * 24 - 1)
  })

  it('updating with already trained intervals changes nothing', () => {
    const load = syntheticLoad(START, 3 * 7 * 24, 3_600_000, seededRandom(2))
    const m = trainForecaster({ startMs: START, intervalMs: 3_600_000, valuesKw: load })
    assert.deepEqual(updateForecaster(m, { startMs: START, intervalMs: 3_600_000, valuesKw: load }), m)
  })

  it('refuses a history shorter than one season', () => {
    assert.throws(() => trainForecaster({ startMs: START, intervalMs: 3_600_000, valuesKw: [1, 2, 3] }), ForecastError)
  })
})
