import assert from 'node:assert/strict'
import { planFailures, reachable, SimulationError } from '../../src/sim/failures.js'
import { seededRandom } from '../../src/util/random.js'
import { injectedFailures } from '../../src/sim/report.js'

const window = { startMs: 1_000_000, intervalMs: 900_000, intervals: 16 }
const ids = Array.from({ length: 200 }, (_, i) => `v${i}`)

describe('sim/failures', () => {
  it('fails the requested share of dispatched customers, mid-event, independent of input order', () => {
    const plan = planFailures(seededRandom(1), { failureRate: 0.25 }, ids, window, 4)
    assert.equal(plan.customers.size, 50)
    const span = window.intervals * window.intervalMs
    for (const f of plan.customers.values()) {
      assert.ok(f.atMs >= window.startMs + 0.1 * span && f.atMs <= window.startMs + 0.6 * span)
    }
    const dark = [...plan.customers.values()].filter(f => f.dark).length
    assert.ok(dark > 10 && dark < 40)
    const shuffled = planFailures(seededRandom(1), { failureRate: 0.25 }, [...ids].reverse(), window, 4)
    assert.deepEqual([...shuffled.customers.keys()].sort(), [...plan.customers.keys()].sort())
  })

  it('a bad rate or an unknown node is refused with a named error', () => {
    assert.throws(() => planFailures(seededRandom(1), { failureRate: 1.5 }, ids, window, 4), SimulationError)
    assert.throws(() => planFailures(seededRandom(1), { killNode: { agentIndex: 4, atFraction: 0.5 } }, ids, window, 4), SimulationError)
  })

  it('a partition separates even from odd nodes only while it lasts', () => {
    const plan = planFailures(seededRandom(1), { partition: { fromFraction: 0.25, toFraction: 0.5 } }, ids, window, 4)
    const during = window.startMs + 0.3 * window.intervals * window.intervalMs
    assert.equal(reachable(plan, 0, 1, during), false)
    assert.equal(reachable(plan, 0, 2, during), true)
    assert.equal(reachable(plan, 0, 1, window.startMs), true)
  })

  it('the summary names the node killed and the partition a run had, and nothing when it had neither', () => {
    assert.equal(injectedFailures({ killNode: '1@0.6', partition: '0.25-0.5' }),
      'injected: agent-1 killed at 0.6 of the event; mesh cut between even and odd agents over 0.25-0.5 of each event')
    assert.equal(injectedFailures({ agents: 4 }), '')
  })
})
