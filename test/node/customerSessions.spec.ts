import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import { Community, enrol, get, MARKET, post, removeDir, simCustomers, startNode, Stepper, tempDir, type Running } from './agentFixtures.js'

// The fixture's node lapses a customer after 20 s of clock time without a report.
const GRACE = 20_000

describe('customer sessions: one persisted session actor per customer', function () {
  this.timeout(30_000)
  let node: Running | undefined
  let dir = ''

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await removeDir(dir)
  })

  const sessions = async (n: Running): Promise<Map<string, { state: string, participating: string[] }>> => {
    await n.agent.sessions.settled()
    const r = await get(n.url, '/api/customers')
    return new Map(r.json.map((c: { venId: string, session: { state: string, participating: string[] } }) => [c.venId, c.session]))
  }

  it('a silent customer lapses at its grace deadline, is left out of dispatch, stays lapsed across a restart, and reports its way back', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(4)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    assert.deepEqual([...(await sessions(node)).values()].map(s => s.state), ['reporting', 'reporting', 'reporting', 'reporting'])

    // ven-01 goes silent; the others keep reporting; its deadline is a durable timer.
    community.silent.add('ven-01')
    for (let i = 0; i < 3; i++) {
      clock.advance(GRACE / 2)
      await node.agent.scheduler.runDue()
      await community.reportOnce(node.url, true)
    }
    let s = await sessions(node)
    assert.equal(s.get('ven-01')?.state, 'lapsed')
    assert.equal(s.get('ven-00')?.state, 'reporting')

    // ven-01 is the second cheapest, but lapsed: the dispatch leaves it out.
    const stepper = new Stepper(node, clock, 5_000)
    const r = await post(node.url, '/api/events', { eventId: 'ev-1', marketContext: MARKET, startMs: clock.now() + 5_000, intervalMs: 60_000, amountsKw: [-4, -4], signalType: 'delta' })
    assert.equal(r.status, 200, JSON.stringify(r.json))
    await stepper.until('the dispatch', () => community.dispatches.size > 0 ? true : undefined)
    assert.equal(community.dispatches.has('ven-01'), false)
    assert.ok(community.dispatches.has('ven-00'))
    s = await sessions(node)
    assert.deepEqual(s.get('ven-00')?.participating, ['ev-1'])
    assert.deepEqual(s.get('ven-01')?.participating, [])

    // Restart: the sessions come back from their snapshots, not from scratch.
    await node.stop()
    node = await startNode(dir, community, clock)
    s = await sessions(node)
    assert.equal(s.get('ven-01')?.state, 'lapsed')
    assert.equal(s.get('ven-00')?.state, 'reporting')

    community.silent.delete('ven-01')
    await community.reportOnce(node.url, true)
    assert.equal((await sessions(node)).get('ven-01')?.state, 'reporting')
  })

  it('a session restored after the node was down lapses on its stored deadline', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(2)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    await node.stop()
    clock.advance(GRACE + 1)
    node = await startNode(dir, community, clock)
    await node.agent.scheduler.runDue()
    const s = await sessions(node)
    assert.equal(s.get('ven-00')?.state, 'lapsed')
    assert.equal(s.get('ven-01')?.state, 'lapsed')
  })

  it('a report stores no snapshot, and a restarted node resumes each session from the newest stored reading, not its older snapshot', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(2)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    await node.agent.sessions.settled()
    const stored = async (n: Running): Promise<number> =>
      (await n.agent.store.table<{ snapshot: { context: { lastReportMs: number } } }>('snapshots').get('session:ven-00'))?.snapshot.context.lastReportMs ?? NaN
    const first = await stored(node)
    clock.advance(GRACE / 2)
    await community.reportOnce(node.url, true)
    const second = (await sessions(node)).get('ven-00') as unknown as { lastReportMs: number }
    assert.ok(second.lastReportMs > first, `${second.lastReportMs} > ${first}`)
    assert.equal(await stored(node), first)
    // One durable timer, moved to the earliest deadline, serves every session's lapse.
    assert.deepEqual(node.agent.scheduler.pending().filter(t => t.kind === 'session-wait').map(t => t.dueMs), [second.lastReportMs + GRACE])

    // Down past the stored snapshot's deadline, not past the newest report's.
    await node.stop()
    clock.advance(GRACE / 2 + 1)
    node = await startNode(dir, community, clock)
    await node.agent.scheduler.runDue()
    let s = await sessions(node)
    assert.equal(s.get('ven-00')?.state, 'reporting')
    assert.equal((s.get('ven-00') as unknown as { lastReportMs: number }).lastReportMs, second.lastReportMs)
    // ...and it still lapses on the newest report's deadline.
    clock.advance(GRACE / 2)
    await node.agent.scheduler.runDue()
    s = await sessions(node)
    assert.equal(s.get('ven-00')?.state, 'lapsed')
  })

  it('a new forecast stores no snapshot; reports keep a session reporting through many grace periods', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(2)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    await node.agent.sessions.settled()
    type Stored = { snapshot: { context: { capabilities: { baselineKw: number[] } | null } } }
    const snapshot = async (): Promise<Stored | undefined> => await node?.agent.store.table<Stored>('snapshots').get('session:ven-00')
    const before = await snapshot()
    const caps = node.agent.book.get('ven-00')?.capabilities
    assert.ok(caps != null)
    await node.agent.book.setCapabilities('ven-00', { ...caps, baselineKw: caps.baselineKw.map(kw => kw + 1) }, undefined, { replayable: true })
    await node.agent.sessions.settled()
    assert.deepEqual(await snapshot(), before)
    for (let i = 0; i < 6; i++) {
      clock.advance(GRACE / 2)
      await node.agent.scheduler.runDue()
      await community.reportOnce(node.url, true)
    }
    const s = await sessions(node)
    assert.equal(s.get('ven-00')?.state, 'reporting')
    assert.equal((s.get('ven-00') as unknown as { lastReportMs: number }).lastReportMs, clock.now())
    assert.deepEqual(node.agent.scheduler.pending().filter(t => t.kind === 'session-wait').map(t => t.dueMs), [clock.now() + GRACE])
    // Silent from now on: it lapses at the deadline its last report set.
    community.silent.add('ven-00')
    clock.advance(GRACE - 1)
    await node.agent.scheduler.runDue()
    assert.equal((await sessions(node)).get('ven-00')?.state, 'reporting')
    clock.advance(1)
    await node.agent.scheduler.runDue()
    assert.equal((await sessions(node)).get('ven-00')?.state, 'lapsed')
  })

    it('deregistering ends the session and deletes its snapshot', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
    const customers = simCustomers(2)
    node = await startNode(dir, new Community(customers, clock), clock)
    await enrol(node.url, customers)
    await node.agent.book.deregister('ven-00')
    await node.agent.sessions.settled()
    assert.equal(node.agent.sessions.view('ven-00'), null)
    assert.equal(await node.agent.store.table('snapshots').get('session:ven-00'), undefined)
    assert.ok(await node.agent.store.table('snapshots').get('session:ven-01') !== undefined)
  })
})
