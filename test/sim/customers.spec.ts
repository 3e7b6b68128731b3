import assert from 'node:assert/strict'
import { generateCustomers, loadShape, profileOf, pvOutputKw, seasonalFactor, type Window } from '../../src/sim/customers.js'

const munich = { lat: 48.14, lon: 11.58 }
const day = (y: number, m: number, d: number): Window => ({ startMs: Date.UTC(y, m, d), intervalMs: 900_000, intervals: 96 })
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length

describe('sim/customers', () => {
  it('the same seed gives the same customers and profiles; another seed other ones', () => {
    const a = generateCustomers({ seed: 3, count: 20 })
    const b = generateCustomers({ seed: 3, count: 20 })
    const c = generateCustomers({ seed: 4, count: 20 })
    assert.deepEqual(a, b)
    assert.notDeepEqual(a, c)
    const w = day(2026, 5, 15)
    assert.deepEqual(profileOf(a[5]!, w, 3), profileOf(b[5]!, w, 3))
  })

  it('a customer is the same whether generated alone or in a batch (streams keyed by index)', () => {
    const batch = generateCustomers({ seed: 9, count: 10 })
    const alone = generateCustomers({ seed: 9, firstIndex: 7, count: 1 })
    assert.deepEqual(alone[0], batch[7])
  })

  it('PV follows the sun: nothing at night, most near solar noon, more in June than in December', () => {
    const at = (m: number, d: number, h: number): number => Date.UTC(2026, m, d, h)
    assert.equal(pvOutputKw(5, munich, at(5, 21, 0), 0), 0)
    assert.ok(pvOutputKw(5, munich, at(5, 21, 11), 0) > pvOutputKw(5, munich, at(5, 21, 6), 0))
    assert.ok(pvOutputKw(5, munich, at(5, 21, 11), 0) > 2 * pvOutputKw(5, munich, at(11, 21, 11), 0))
    assert.ok(pvOutputKw(5, munich, at(5, 21, 11), 1) < 0.5 * pvOutputKw(5, munich, at(5, 21, 11), 0), 'clouds cut output')
  })

  it('household demand peaks in the evening, starts later at weekends, and is higher in winter', () => {
    assert.ok(loadShape(19, false) > 2 * loadShape(3, false))
    assert.ok(loadShape(7.3, false) > loadShape(7.3, true), 'weekday morning peak')
    assert.ok(loadShape(10, true) > loadShape(10, false), 'weekend late morning')
    assert.ok(seasonalFactor(Date.UTC(2026, 0, 15)) > 1.2)
    assert.ok(seasonalFactor(Date.UTC(2026, 6, 15)) < 0.8)
  })

  it('flexibility is never negative, forecast error is realistic, PV owners export at noon in June', () => {
    const customers = generateCustomers({ seed: 1, count: 300 })
    const w = day(2026, 5, 17)
    let errors = 0; let total = 0
    const noonSums = { pv: 0, noPv: 0 }
    for (const c of customers) {
      const p = profileOf(c, w, 1)
      assert.ok([...p.flexUpKw, ...p.flexDownKw, ...p.trueFlexUpKw, ...p.trueFlexDownKw].every(x => x >= 0 && Number.isFinite(x)))
      errors += p.forecastBaselineKw.reduce((s, f, t) => s + Math.abs(f - p.trueBaselineKw[t]!), 0)
      total += p.trueBaselineKw.reduce((s, b, t) => s + Math.abs(b + p.pvKw[t]!), 0)
      if (c.pvKwp > 0) noonSums.pv += p.trueBaselineKw[44]!; else noonSums.noPv += p.trueBaselineKw[44]!
    }
    const wape = errors / total
    assert.ok(wape > 0.04 && wape < 0.2, `household forecast WAPE ${wape}`)
    assert.ok(noonSums.pv < 0 && noonSums.noPv > 0)
  })

  it('a battery adds flexibility in both directions, limited by its state of charge', () => {
    const c = generateCustomers({ seed: 2, count: 50 }).find(x => x.battery !== null)!
    const w = day(2026, 2, 10)
    const full = profileOf(c, w, 2, 0.9)
    const empty = profileOf(c, w, 2, 0.1)
    assert.ok(mean(full.flexDownKw) > mean(empty.flexDownKw))
    assert.ok(mean(empty.flexUpKw) > mean(full.flexUpKw))
  })

  it('the behaviour mix is respected: most comply, some do not', () => {
    const kinds = generateCustomers({ seed: 5, count: 2000 }).map(c => c.behaviour.kind)
    const share = (k: string): number => kinds.filter(x => x === k).length / kinds.length
    assert.ok(Math.abs(share('complies') - 0.7) < 0.04)
    assert.ok(share('ignores') > 0.04 && share('offline') > 0.04)
  })
})
