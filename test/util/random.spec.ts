import assert from 'node:assert/strict'
import { normal, seededRandom } from '../../src/util/random.js'
import { ManualClock, ScaledClock, realDelayMs } from '../../src/util/clock.js'

describe('util/random', () => {
  it('the same seed gives the same sequence, another seed another one', () => {
    const a = seededRandom(7); const b = seededRandom(7); const c = seededRandom(8)
    const xs = Array.from({ length: 5 }, () => a.next())
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()))
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.next()))
    assert.ok(xs.every(x => x >= 0 && x < 1))
  })

  it('normal draws have the requested mean and spread', () => {
    const r = seededRandom(1)
    const xs = Array.from({ length: 20_000 }, () => normal(r, 10, 2))
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length)
    assert.ok(Math.abs(mean - 10) < 0.05, `mean ${mean}`)
    assert.ok(Math.abs(sd - 2) < 0.05, `sd ${sd}`)
  })
})

describe('util/clock', () => {
  it('a scaled clock runs timeScale times faster than its base', () => {
    const base = new ManualClock(1_000)
    const clock = new ScaledClock(50_000, 60, base)
    assert.equal(clock.now(), 50_000)
    base.advance(1_000)
    assert.equal(clock.now(), 110_000)
    assert.equal(realDelayMs(clock, 170_000), 1_000)
    assert.equal(realDelayMs(clock, 0), 0)
  })
})
