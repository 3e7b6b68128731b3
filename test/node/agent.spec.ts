import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import { WorkerPool } from '../../src/node/workerPool.js'
import type { AgentComponents } from '../../src/node/agent.js'
import { verifyTrail } from '../../src/node/auditChain.js'
import { planOfTrail } from '../../src/node/auditDecision.js'
import { Community, enrol, get, MARKET, post, removeDir, simCustomers, startNode, Stepper, tempDir, type Running } from './agentFixtures.js'

// Stepped time: customers report every 7.5 s of clock time, monitoring checks twice per 60 s interval.
const INTERVAL = 60_000
const STEP = 7_500

describe('agent: a node with 20 customers on real HTTP and LevelDB', function () {
  this.timeout(30_000)
  let node: Running | undefined
  let dir = ''

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await removeDir(dir)
  })

  let stepper: Stepper
  async function boot (overrides = {}, components: Partial<AgentComponents> = {}) {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(20)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock, overrides, components)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    stepper = new Stepper(node, clock, STEP)
    return node
  }

  function eventBody (n: Running, eventId: string, amountsKw: number[], startInMs = 5_000) {
    return { eventId, marketContext: MARKET, startMs: n.clock.now() + startInMs, intervalMs: INTERVAL, amountsKw, signalType: 'delta' }
  }

  const finished = async (n: Running, id: string) => await stepper.until(`event ${id} to finish`, async () => {
    const r = await get(n.url, `/api/events/${id}`)
    return r.json.status === 'done' ? r.json : undefined
  })

  it('answers, dispatches, and the aggregate follows the requested change when customers comply', async () => {
    const n = await boot()
    const submitted = await post(n.url, '/api/events', eventBody(n, 'ev-comply', [-15, -20, -10]))
    assert.equal(submitted.status, 200, JSON.stringify(submitted.json))
    const e = await finished(n, 'ev-comply')
    assert.equal(e.state, 'completed')
    assert.equal(e.answer.accept, true)
    for (const r of e.intervals) {
      assert.ok(r.deliveredKw !== null)
      assert.ok(Math.abs(r.deviationKw) <= 0.5, `interval ${r.index}: delivered ${r.deliveredKw}, deviation ${r.deviationKw}`)
      assert.equal(r.shortfallKw, 0)
    }
    // The dispatch went to the cheapest customers first, within their flexibility.
    const dispatched = [...n.community.dispatches.keys()]
    assert.ok(dispatched.includes('ven-00') && dispatched.length >= 10)
    const states = e.audit.map((a: { stateAfter: string }) => a.stateAfter)
    assert.ok(states.includes('scheduled.notifying') && states.includes('active.monitoring.measuring') && states.at(-1) === 'completed')
    const exported = await get(n.url, '/api/events/ev-comply/audit')
    assert.equal(verifyTrail(exported.json.lines).valid, true)
    const status = await get(n.url, '/api/status')
    assert.equal(status.json.state, 'ready')
    assert.deepEqual(status.json.liveEvents, [])
  })

  it('solves the dispatch on a worker thread when given a pool, with the same result', async () => {
    const pool = new WorkerPool({ size: 1 })
    await pool.start()
    const tasks: string[] = []
    const run = pool.run.bind(pool)
    pool.run = async <T>(task: string, input: unknown) => { tasks.push(task); return await run<T>(task, input) }
    try {
      const n = await boot({}, { pool })
      await post(n.url, '/api/events', eventBody(n, 'ev-pool', [-15, -20, -10]))
      const e = await finished(n, 'ev-pool')
      assert.equal(e.state, 'completed')
      assert.ok(tasks.includes('dispatch'), 'the solve went to the pool')
      for (const r of e.intervals) assert.ok(Math.abs(r.deviationKw) <= 0.5, `interval ${r.index}: deviation ${r.deviationKw}`)
      assert.ok(n.community.dispatches.has('ven-00'))
    } finally {
      await node?.stop()
      node = undefined
      await pool.stop()
    }
  })

  it('covers a customer that stops acting mid-event with intra matchmaking in the same interval', async () => {
    const n = await boot()
    const body = eventBody(n, 'ev-deviate', [-10, -10, -10])
    await post(n.url, '/api/events', body)
    await stepper.until('dispatch', () => n.community.dispatches.size > 0 ? true : undefined)
    const deviator = [...n.community.dispatches.keys()][0] as string
    // From the start of interval 1 the customer ignores its setpoint (stays at its baseline).
    n.community.deviations.set(deviator, { fromMs: body.startMs + INTERVAL, kw: 0, ignoreSetpoint: true })
    const e = await finished(n, 'ev-deviate')
    assert.equal(e.state, 'completed')
    const intra = e.audit.filter((a: { stateBefore: string, stateAfter: string }) => a.stateBefore === 'active.intra')
    assert.ok(intra.length > 0, 'intra matchmaking ran')
    const first = intra[0]
    assert.ok(first.decision.chosen.length > 0, 'other customers were chosen to cover')
    assert.ok(first.timeMs < body.startMs + 2 * INTERVAL, 'covered within interval 1')
    const i1 = e.intervals[1]
    assert.ok(i1.intraCoveredKw > 0)
    assert.ok(Math.abs(i1.deviationKw) <= 0.5, `interval 1 after cover: deviation ${i1.deviationKw}`)
    // The interval's budget is measurable: detected → decided → setpoints sent → picked up by, in order.
    const recovery = i1.recoveries[0]
    assert.ok(recovery !== undefined, `interval 1 lists its recovery: ${JSON.stringify(i1)}`)
    assert.ok(recovery.customersChanged > 0)
    assert.ok(recovery.detectedAtMs > body.startMs + INTERVAL && recovery.detectedAtMs < body.startMs + 2 * INTERVAL)
    assert.ok(recovery.detectedAtMs <= recovery.decidedAtMs && recovery.decidedAtMs <= recovery.setpointsSentAtMs && recovery.setpointsSentAtMs < recovery.pickupByMs,
      JSON.stringify(recovery))
    assert.equal(first.decision.timing.detectedAtMs, recovery.detectedAtMs, 'the audit entry of the intra decision carries the times')
    // An intra decision is recorded as the rows it changed, not the whole plan; the trail still gives the plan:
    // replayed from the planning decision, it is what the customers were last sent.
    assert.equal(first.decision.plan, undefined)
    const changed = Object.keys(first.decision.planChange.setpointsKw).length
    assert.ok(changed > 0 && changed < n.community.dispatches.size, `${changed} rows recorded`)
    const plan = planOfTrail(e.audit)
    const sent = [...n.community.dispatches].flatMap(([venId, byEvent]) => byEvent.has('ev-deviate') ? [venId] : [])
    assert.deepEqual(Object.keys(plan?.setpointsKw ?? {}).sort(), sent.sort())
    for (const venId of sent) assert.deepEqual(plan?.setpointsKw[venId], n.community.dispatches.get(venId)?.get('ev-deviate')?.setpointsKw, venId)
    // Profiling (expected − measured): the deviator drew more than its setpoint; a compliant customer none.
    const customers = (await get(n.url, '/api/customers')).json as Array<{ venId: string, profile?: { meanKw: number, samples: number } }>
    const profileOf = (venId: string) => customers.find(c => c.venId === venId)?.profile
    assert.ok((profileOf(deviator)?.meanKw ?? 0) < -0.1, `deviator profile ${JSON.stringify(profileOf(deviator))}`)
    const compliant = customers.find(c => c.venId !== deviator && !e.audit.some((a: { decision: { chosen?: string[] } | null }) => a.decision?.chosen?.includes(c.venId)))
    assert.ok((compliant?.profile?.samples ?? 0) > 5)
    assert.ok(Math.abs(compliant?.profile?.meanKw ?? 1) < 1e-6, `compliant ${compliant?.venId} profile ${JSON.stringify(compliant?.profile)}`)
  })

  // Energy is settled interval by interval: what an interval delivered beyond its request is not paid.
  for (const [label, kw, madeUp] of [['closed short', 4, true], ['closed beyond its request', -4, false]] as const) {
    it(`make-up: an interval that ${label} ${madeUp ? 'is made up in the next one' : 'is not given back in the next one'}`, async () => {
      const n = await boot()
      const body = eventBody(n, 'ev-makeup', [-10, -10, -10])
      await post(n.url, '/api/events', body)
      await stepper.until('dispatch', () => n.community.dispatches.size > 0 ? true : undefined)
      const customer = [...n.community.dispatches.keys()][0] as string
      // After interval 0's last checkpoint inside it, too late to be corrected within the interval.
      n.community.deviations.set(customer, { fromMs: body.startMs + 40_000, kw })
      const e = await finished(n, 'ev-makeup')
      assert.ok(kw > 0 ? e.intervals[0].deviationKw > 0.5 : e.intervals[0].deviationKw < -0.5, `interval 0: deviation ${e.intervals[0].deviationKw}`)
      type Entry = { stateBefore: string, decision: { planChange: { makeUpKw?: number[] }, timing: { intervalIndex: number, detectedAtMs: number } } }
      const closing = (e.audit as Entry[]).find(a => a.stateBefore === 'active.intra' && a.decision.timing.intervalIndex === 0 && a.decision.timing.detectedAtMs >= body.startMs + INTERVAL)
      assert.ok(closing !== undefined, 'intra ran at the checkpoint closing interval 0')
      const makeUp = closing.decision.planChange.makeUpKw?.[1] ?? 0
      // A reduction made up means a lower target for interval 1.
      if (madeUp) assert.ok(makeUp < 0, `make-up ${makeUp}`)
      else assert.equal(makeUp, 0)
    })
  }

  it('two overlapping events never reserve the same flexibility twice', async () => {
    const n = await boot()
    // 20 customers × 2 kW down = 40 kW: the first takes 30, the second cannot have 30 more.
    await post(n.url, '/api/events', eventBody(n, 'ev-a', [-30, -30], 20_000))
    const second = await post(n.url, '/api/events', eventBody(n, 'ev-b', [-30, -30], 30_000))
    assert.equal(second.status, 200)
    const b = await stepper.until('ev-b decided', async () => {
      const r = await get(n.url, '/api/events/ev-b')
      return r.json.answer !== null ? r.json : undefined
    })
    assert.equal(b.answer.accept, false, 'the second event is declined: its flexibility is reserved')
    const c = await post(n.url, '/api/events', eventBody(n, 'ev-c', [-8, -8], 30_000))
    assert.equal(c.status, 200)
    await stepper.until('ev-c planned', () => n.agent.ledger.byHolder('event:ev-c').length > 0 ? true : undefined)
    const window = { startMs: 0, intervalMs: INTERVAL, intervals: 1 }
    for (const r of n.agent.ledger.all()) {
      const total = n.agent.ledger.reserved(r.customerId, { ...window, startMs: r.window.startMs + INTERVAL })
      assert.ok((total.flexDownKw[0] ?? 0) <= 2 + 1e-9, `${r.customerId} reserved ${total.flexDownKw[0]} kW down of 2`)
    }
    await finished(n, 'ev-a')
    await finished(n, 'ev-c')
    assert.equal(n.agent.ledger.all().length, 0, 'completion releases every reservation')
  })

  it('a graceful restart mid-event restores the event actor, which resumes and completes', async () => {
    const n = await boot()
    const body = eventBody(n, 'ev-restart', [-10, -10, -10], 2_000)
    await post(n.url, '/api/events', body)
    await stepper.until('interval 1', () => n.clock.now() > body.startMs + INTERVAL * 1.2 ? true : undefined)
    const before = n.agent.event('ev-restart')
    assert.equal(before?.status, 'active')
    const community = n.community
    await n.stop()
    const again = await startNode(dir, community, n.clock)
    node = again
    stepper = new Stepper(again, stepper.clock, STEP)
    assert.deepEqual(again.agent.liveEventIds(), ['ev-restart'])
    const e = await finished(again, 'ev-restart')
    assert.equal(e.state, 'completed')
    assert.equal(e.intervals[0].deliveredKw, before?.intervals[0]?.deliveredKw, 'what was measured before the restart is kept')
    assert.equal(verifyTrail((await get(again.url, '/api/events/ev-restart/audit')).json.lines).valid, true)
  })

  it('refuses writes without the admin token and bad requests, storing nothing', async () => {
    const n = await boot()
    const noToken = await post(n.url, '/api/events', eventBody(n, 'ev-x', [-1]), null)
    assert.equal(noToken.status, 401)
    const badJson = await post(n.url, '/api/events', '{not json')
    assert.equal(badJson.status, 400)
    const badBody = await post(n.url, '/api/events', { ...eventBody(n, 'ev-y', [-1]), amountsKw: ['x'] })
    assert.equal(badBody.status, 400)
    assert.match(badBody.json.message, /amountsKw/)
    const unknownCustomer = await post(n.url, '/api/customers/nobody/reports', { readings: [{ atMs: 1, kw: 1 }] })
    assert.equal(unknownCustomer.status, 400)
    assert.equal((await get(n.url, '/api/events')).json.length, 0)
    assert.equal((await get(n.url, '/api/events/ev-x')).status, 404)
  })
})
