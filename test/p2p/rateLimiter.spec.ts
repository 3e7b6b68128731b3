import { strict as assert } from 'node:assert'
import { RateLimiter } from '../../src/p2p/rateLimiter.js'

describe('p2p RateLimiter', () => {
  it('lets a quiet peer burst, then holds it to the sustained rate, each peer on its own bucket', () => {
    let now = 0
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 5 }, () => now)
    const burst = Array.from({ length: 8 }, () => limiter.take('a'))
    assert.deepEqual(burst, [true, true, true, true, true, false, false, false])
    assert.equal(limiter.take('b'), true, 'another peer is not affected')
    now += 100
    assert.equal(limiter.take('a'), true, 'one token back after 100 ms at 10/s')
    assert.equal(limiter.take('a'), false)
    now += 10_000
    assert.deepEqual(Array.from({ length: 6 }, () => limiter.take('a')), [true, true, true, true, true, false], 'refill caps at the burst')
  })
})
