import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import type { UpstreamChannel } from '../../src/node/agentChannels.js'
import type { CompletionSummary, FailureNotice, OptAnswer, ShortfallNotice } from '../../src/machines/drEventTypes.js'
import { Community, enrol, MARKET, post, removeDir, simCustomers, startNode, Stepper, tempDir, type Running } from './agentFixtures.js'

const INTERVAL = 60_000

/** An upstream that records what it is sent, and can be down. */
class RecordingUpstream implements UpstreamChannel {
  down = false
  readonly answers: OptAnswer[] = []
  readonly shortfalls: ShortfallNotice[] = []
  readonly completions: CompletionSummary[] = []
  private check (): void { if (this.down) throw new Error('upstream unreachable') }
  async answer (a: OptAnswer): Promise<void> { this.check(); this.answers.push(a) }
  async shortfall (n: ShortfallNotice): Promise<void> { this.check(); this.shortfalls.push(n) }
  async failure (_: FailureNotice): Promise<void> { this.check() }
  async complete (s: CompletionSummary): Promise<void> { this.completions.push(s) }
}

describe('agent outbox: effects are stored with their transition and sent at least once', function () {
  this.timeout(30_000)
  let node: Running | undefined
  let dir = ''
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await removeDir(dir)
  })

  it('an opt answer and shortfall reports the upstream did not take are sent on the next start, once each', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(4)
    const community = new Community(customers, clock)
    const down = new RecordingUpstream()
    down.down = true
    node = await startNode(dir, community, clock, { matchmaking: 'none' }, { upstream: down })
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    const stepper = new Stepper(node, clock, 7_500)
    const startMs = clock.now() + 5_000
    const submitted = await post(node.url, '/api/events', { eventId: 'ev-out', marketContext: MARKET, startMs, intervalMs: INTERVAL, amountsKw: [-4, -4], signalType: 'delta' })
    assert.equal(submitted.status, 200)
    await stepper.until('dispatch', () => community.dispatches.size > 0 ? true : undefined)
    // Every dispatched customer ignores its setpoint: with no matchmaking the whole request is shortfall.
    for (const venId of community.dispatches.keys()) community.deviations.set(venId, { fromMs: startMs, kw: 0, ignoreSetpoint: true })
    const n = node
    await stepper.until('event done', () => n.agent.event('ev-out')?.status === 'done' ? true : undefined)
    assert.equal(down.answers.length + down.shortfalls.length, 0, 'nothing reached the upstream while it was down')
    await node.stop()

    const up = new RecordingUpstream()
    node = await startNode(dir, community, clock, { matchmaking: 'none' }, { upstream: up })
    assert.equal(up.answers.length, 1, 'the opt answer is sent on restart')
    assert.equal(up.answers[0]?.eventId, 'ev-out')
    assert.equal(up.answers[0]?.decision.accept, true)
    assert.ok(up.shortfalls.length >= 2, `a shortfall report per interval at least (${up.shortfalls.length})`)
    assert.ok(up.shortfalls.every(s => s.eventId === 'ev-out' && s.residualKw.some(r => r > 1)), JSON.stringify(up.shortfalls))
    const sent = up.answers.length + up.shortfalls.length
    await node.stop()

    // Sent effects are not sent again.
    const again = new RecordingUpstream()
    node = await startNode(dir, community, clock, { matchmaking: 'none' }, { upstream: again })
    assert.equal(again.answers.length + again.shortfalls.length, 0)
    assert.ok(sent > 0)
  })
})
