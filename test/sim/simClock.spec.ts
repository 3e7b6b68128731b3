import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import { SimClock } from '../../src/sim/simClock.js'

describe('sim/simClock', () => {
  it('starts paused, runs timeScale times faster once resumed, and holds still while paused', () => {
    const base = new ManualClock(0)
    const clock = new SimClock(1_000_000, 100, base)
    base.advance(50)
    assert.equal(clock.now(), 1_000_000)
    clock.resume()
    base.advance(10)
    assert.equal(clock.now(), 1_001_000)
    clock.pause()
    base.advance(1_000)
    assert.equal(clock.now(), 1_001_000)
    assert.equal(clock.paused, true)
    clock.resume()
    base.advance(1)
    assert.equal(clock.now(), 1_001_100)
  })
})
