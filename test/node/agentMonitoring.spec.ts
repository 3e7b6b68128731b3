import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import type { InterMatchmakingPort } from '../../src/node/interMatchmaking.js'
import { acceptingFellows, Community, enrol, get, MARKET, post, removeDir, simCustomers, startNode, Stepper, tempDir, type Running } from './agentFixtures.js'

const INTERVAL = 60_000
const STEP = 7_500

describe('agent monitoring: each event judges what is attributable to it', function () {
  this.timeout(60_000)
  let node: Running | undefined
  let dir = ''
  let stepper: Stepper

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await removeDir(dir)
  })

  async function boot (overrides = {}, port?: InterMatchmakingPort) {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(20)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock, overrides, port === undefined ? {} : { port })
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    stepper = new Stepper(node, clock, STEP)
    return node
  }

  const body = (n: Running, eventId: string, amountsKw: number[], startInMs: number) =>
    ({ eventId, marketContext: MARKET, startMs: n.clock.now() + startInMs, intervalMs: INTERVAL, amountsKw, signalType: 'delta' })
  const finished = async (n: Running, id: string) => await stepper.until(`event ${id} to finish`, async () => {
    const r = await get(n.url, `/api/events/${id}`)
    return r.json.status === 'done' ? r.json : undefined
  })

  it('two overlapping events with compliant customers: neither sees the other\'s dispatch as a deviation', async () => {
    const n = await boot()
    assert.equal((await post(n.url, '/api/events', body(n, 'ev-a', [-12, -12, -12], 10_000))).status, 200)
    assert.equal((await post(n.url, '/api/events', body(n, 'ev-b', [-10, -10], 10_000 + INTERVAL / 2))).status, 200)
    for (const id of ['ev-a', 'ev-b']) {
      const e = await finished(n, id)
      assert.equal(e.state, 'completed')
      assert.equal(e.answer.accept, true)
      for (const r of e.intervals) {
        assert.ok(Math.abs(r.deviationKw) <= 0.5, `${id} interval ${r.index}: deviation ${r.deviationKw}`)
        assert.equal(r.intraCoveredKw, 0, `${id} interval ${r.index} re-dispatched for a deviation that is not its own`)
        assert.equal(r.shortfallKw, 0, `${id} interval ${r.index} reported a shortfall`)
      }
      assert.ok(!e.audit.some((a: { stateAfter: string }) => a.stateAfter === 'active.intra'), `${id} entered intra matchmaking`)
    }
  })

  it('a gap fellows committed to cover is not asked for again at later checkpoints', async () => {
    const fellows = acceptingFellows(['fellow-1'])
    const n = await boot({ matchmaking: 'full' }, fellows)
    const ev = body(n, 'ev-gap', [-38, -38, -38], 5_000)
    assert.equal((await post(n.url, '/api/events', ev)).status, 200)
    // Nearly every kW down is dispatched: a customer drawing 3 kW over its setpoint leaves intra ~1 kW short.
    n.community.deviations.set('ven-00', { fromMs: ev.startMs + STEP, kw: 3 })
    const e = await finished(n, 'ev-gap')
    assert.ok(fellows.asked.length > 0, 'the gap went to the fellows')
    const askedPerInterval = [0, 1, 2].map(t => fellows.asked.reduce((s, a) => s + Math.abs(a.request.amountsKw[t] ?? 0), 0))
    for (const [t, asked] of askedPerInterval.entries()) {
      assert.ok(asked <= 3 + 0.5, `interval ${t}: ${asked.toFixed(2)} kW asked of fellows for a gap of at most 3 kW (asked ${fellows.asked.length} times)`)
    }
    for (const r of e.intervals) assert.ok(Math.abs(r.interCoveredKw) <= 3 + 0.5, `interval ${r.index}: ${r.interCoveredKw} kW of inter cover`)
    const withInter = e.intervals.flatMap((r: { recoveries: Array<{ setpointsSentAtMs: number, interAnsweredAtMs?: number }> }) => r.recoveries)
      .filter((r: { interAnsweredAtMs?: number }) => r.interAnsweredAtMs !== undefined)
    assert.ok(withInter.length > 0 && withInter.every((r: { setpointsSentAtMs: number, interAnsweredAtMs?: number }) => (r.interAnsweredAtMs ?? 0) >= r.setpointsSentAtMs),
      'the recovery that went to the fellows records when they answered')
  })
})
