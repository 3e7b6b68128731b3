import assert from 'node:assert/strict'
import { seededRandom } from '../../src/util/random.js'
import { backoffDelayMs } from '../../src/xmpp/backoff.js'

describe('xmpp: backoff delays', () => {
  it('grow exponentially within [ceiling/2, ceiling] up to the maximum, reproducibly for a seed', () => {
    const init = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 }
    const delays = (seed: number): number[] => { const r = seededRandom(seed); return Array.from({ length: 8 }, (_, i) => backoffDelayMs(i, r, init)) }
    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]
    const d = delays(5)
    d.forEach((ms, i) => {
      const ceiling = ceilings[i] ?? 0
      assert.ok(ms >= ceiling / 2 && ms <= ceiling, `attempt ${i}: ${ms} not in [${ceiling / 2}, ${ceiling}]`)
    })
    assert.deepEqual(delays(5), d)
    assert.notDeepEqual(delays(6), d, 'jitter spreads clients with different seeds')
  })
})
