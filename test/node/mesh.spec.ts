/**
 * Inter matchmaking between real agents over real libp2p mesh nodes on loopback: three virtual nodes, each
 * with its LevelDB store, customers posting readings to its JSON API over HTTP, and an AgentMesh joined
 * through node A's address. A's only customer stops acting; fellows cover the deviation.
 */
import { strict as assert } from 'node:assert'
import { join } from 'node:path'
import { Agent, type EventSummary } from '../../src/node/agent.js'
import { ApiServer } from '../../src/node/apiServer.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import { AgentMesh, type AgentMeshInit, type PeerStatus } from '../../src/node/mesh.js'
import type { CoverObserver } from '../../src/node/meshRating.js'
import type { DrRequest } from '../../src/machines/drEventTypes.js'
import { advertTopic } from '../../src/p2p/constants.js'
import { reliabilityOf } from '../../src/actors/reliability.js'
import { reliabilityPrior } from '../../src/node/agentDecisions.js'
import { ScaledClock } from '../../src/util/clock.js'
import { Community, MARKET, TOKEN, enrol, get, removeDir, tempDir, waitFor, type SimCustomer } from './agentFixtures.js'
import { recordingLog, waitUntil } from '../helpers/mesh.js'

const INTERVAL_MS = 60_000
/** 3 s of real time per interval: room for a cover round trip under a loaded machine. */
const TIME_SCALE = 20

interface MeshedNode {
  name: string
  agent: Agent
  mesh: AgentMesh
  server: ApiServer
  community: Community
  dataDir: string
  stop: () => Promise<void>
}

function customers (prefix: string, n: number, flexDownKw: number): SimCustomer[] {
  return Array.from({ length: n }, (_, i) => ({ venId: `${prefix}-ven-${i}`, baselineKw: 5, flexDownKw, flexUpKw: 1, cost: 0.1 + i * 0.01 }))
}

async function startMeshed (name: string, list: SimCustomer[], clock: ScaledClock, bootstrap: string[], observer?: CoverObserver,
  extra: Partial<AgentMeshInit> = {}): Promise<MeshedNode> {
  const dataDir = await tempDir()
  // The community's customers take a new setpoint at once and report every 2 s of clock time (100 ms real): a
  // 5 s poll period keeps the pickup short against the 30 s between checkpoints, and a customer is judged silent
  // (not offered to fellows) only after two of them without a report, which a loaded test machine does not fake.
  const config: NodeConfig = {
    ...defaultConfig, nodeId: name, venName: name, dataDir, port: 0, adminToken: TOKEN, checksPerInterval: 2, customerPollMs: 5_000, reportGraceMs: 60_000, toleranceKw: 0.5, logLevel: 'silent'
  }
  const community = new Community(list, clock)
  const mesh = new AgentMesh({
    dataDir: join(dataDir, 'mesh'), marketContexts: [MARKET], listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, region: 'test',
    advertEveryMs: 20_000, advertIntervalMs: INTERVAL_MS, requestTimeoutMs: 1500, ...extra
  }, { clock, log: recordingLog(), ...(observer === undefined ? {} : { observer }) })
  const agent = new Agent(config, { clock, customers: community, port: mesh.port })
  mesh.bind(agent)
  await agent.start()
  const server = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent, peers: mesh })
  await server.start()
  await enrol(server.url, list)
  await mesh.start()
  community.startReporting(server.url, 100)
  let stopped = false
  return {
    name, agent, mesh, server, community, dataDir,
    stop: async () => {
      if (stopped) return
      stopped = true
      community.stopReporting()
      await mesh.stop().catch(() => {})
      await server.stop()
      await agent.stop()
      await removeDir(dataDir)
    }
  }
}

/** A meter on the fellows' customers (what a utility sees of their flow): the change from baseline at mid-interval. */
function meterOn (nodes: () => MeshedNode[]): CoverObserver {
  return async cover => {
    const node = nodes().find(n => n.mesh.peerId === cover.peerId)
    if (node === undefined) return null
    return cover.committedKw.map((_, t) => {
      const at = cover.startMs + (t + 0.5) * cover.intervalMs
      return node.community.customers.reduce((s, c) => s + node.community.flowKw(c, at) - c.baselineKw, 0)
    })
  }
}

function nextStart (clock: ScaledClock): number {
  return (Math.floor(clock.now() / INTERVAL_MS) + 2) * INTERVAL_MS
}

function upstreamRequest (eventId: string, startMs: number): DrRequest {
  return { eventId, modificationNumber: 0, origin: 'upstream', marketContext: MARKET, startMs, intervalMs: INTERVAL_MS, amountsKw: [-2, -2, -2], signalType: 'delta' }
}

describe('node mesh: inter matchmaking between virtual nodes on libp2p', function () {
  this.timeout(120_000)
  const clock = new ScaledClock(Date.UTC(2026, 0, 1), TIME_SCALE)
  let nodes: MeshedNode[] = []
  let a: MeshedNode

  before(async () => {
    a = await startMeshed('node-a', customers('a', 1, 2), clock, [], meterOn(() => nodes))
    nodes.push(a)
    const bootstrap = a.mesh.node.multiaddrs[0]?.toString() as string
    nodes.push(...await Promise.all([
      startMeshed('node-b', customers('b', 2, 2), clock, [bootstrap]),
      startMeshed('node-c', customers('c', 2, 2), clock, [bootstrap])
    ]))
    await waitUntil('every node subscribed to by the others', () => nodes.every(n =>
      n.mesh.node.libp2p.services.pubsub.getSubscribers(advertTopic(MARKET)).length >= 2), 30_000)
  })

  after(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    nodes = []
  })

  it('joined through one bootstrap address: every node finds every directory record, and /api/peers lists the fellows with reliability', async () => {
    for (const n of nodes) {
      await waitUntil(`${n.name} finds its fellows in the DHT`, async () => (await n.mesh.node.fellows(MARKET)).length >= 2, 30_000, 250)
      const found = (await n.mesh.node.fellows(MARKET)).map(r => r.peerId).sort()
      assert.deepEqual(found, nodes.filter(x => x !== n).map(x => x.mesh.peerId).sort())
    }
    const res = await get(a.server.url, '/api/peers')
    assert.equal(res.status, 200)
    const peers = res.json as PeerStatus[]
    for (const fellow of nodes.slice(1)) {
      const p = peers.find(x => x.peerId === fellow.mesh.peerId)
      assert.ok(p !== undefined, `${fellow.name} listed`)
      assert.equal(p.connected, true)
      assert.equal(p.record?.region, 'test')
      const market = p.markets.find(m => m.marketContext === MARKET)
      assert.ok(market !== undefined)
      assert.equal(market.reliability.source, 'prior')
      assert.ok(market.reliability.lower < market.reliability.r && market.reliability.r < market.reliability.upper)
    }
  })

  it('advertises flexibility net of the ledger, and answers a pre-event query from it', async () => {
    const b = nodes[1] as MeshedNode
    const window = { marketContext: MARKET, startMs: nextStart(clock), intervalMs: INTERVAL_MS, intervals: 3 }
    const offers = await waitFor('B and C advertise to A', () => {
      const o = a.mesh.port.advertisedOffers(MARKET, clock.now(), window)
      return o.length === 2 ? o : undefined
    }, 30_000)
    for (const o of offers) assert.deepEqual(o.flexDownKw, [4, 4, 4])
    const asked = await a.mesh.port.queryFlexibility(window, [b.mesh.peerId])
    assert.equal(asked.length, 1)
    assert.deepEqual(asked[0]?.flexDownKw, [4, 4, 4])
    // A reservation in B's ledger shows at once in its answer.
    await b.agent.ledger.reserve('test:hold', [{ customerId: 'b-ven-0', window, upKw: [0, 0, 0], downKw: [1.5, 1.5, 1.5] }])
    try {
      const after = await a.mesh.port.queryFlexibility(window, [b.mesh.peerId])
      assert.deepEqual(after[0]?.flexDownKw, [2.5, 2.5, 2.5])
    } finally {
      await b.agent.ledger.release('test:hold')
    }
  })

  it('a deviation A cannot cover is covered by a fellow, which runs it through its chart and reports; A rates it from the meter; both audits show it', async () => {
    const startMs = nextStart(clock)
    await waitFor('offers over the event window', () => a.mesh.port.advertisedOffers(MARKET, clock.now(), { marketContext: MARKET, startMs, intervalMs: INTERVAL_MS, intervals: 3 }).length === 2 ? true : undefined, 30_000)
    a.community.deviations.set('a-ven-0', { fromMs: startMs, kw: 0, ignoreSetpoint: true })
    await a.agent.submit(upstreamRequest('ev-1', startMs))
    const done = await waitFor('A completes ev-1', () => a.agent.event('ev-1')?.status === 'done' ? a.agent.event('ev-1') : undefined, 60_000)
    assert.ok(Math.abs((done.intervals[0]?.interCoveredKw ?? 0) - 2) < 0.1, `inter cover in the first interval: ${JSON.stringify(done.intervals)}`)
    const accepted = (n: MeshedNode): EventSummary | undefined => n.agent.events().find(e => e.eventId.startsWith('peer:node-a:ev-1:') && e.answer?.accept === true)
    const helper = nodes.slice(1).find(n => accepted(n) !== undefined)
    assert.ok(helper !== undefined, 'a fellow accepted and ran the request as an event of its own')
    const peerEvent = accepted(helper)
    assert.equal(peerEvent?.request.origin, 'peer')
    const peerDone = await waitFor('the fellow completes its event', () => helper.agent.event(peerEvent?.eventId as string)?.status === 'done' ? true : undefined, 30_000)
    assert.ok(peerDone)
    const peerAudit = await helper.agent.audit.entries(peerEvent?.eventId as string)
    assert.ok(peerAudit.some(e => e.stateAfter.includes('completed')), 'the fellow audited its event to completion')
    assert.ok([...helper.community.dispatches.values()].some(m => m.has(peerEvent?.eventId as string)), 'the fellow dispatched its own customers')

    const rated = await waitFor('A rates the fellow on its outcome', async () => {
      const entries = await a.agent.audit.entries('ev-1')
      return entries.find(e => e.event === 'PEER_OUTCOME')
    }, 30_000)
    const decision = rated.decision as { peerId: string, basis: string, observedKw: number[], reliability: { r: number, events: number } }
    assert.equal(decision.peerId, helper.mesh.peerId)
    assert.equal(decision.basis, 'observed')
    assert.ok(decision.reliability.events >= 1 && decision.reliability.r > 0.9, `reliability moved up from the 0.9 prior: ${JSON.stringify(decision)}`)
    const audit = await a.agent.audit.entries('ev-1')
    assert.ok(audit.some(e => e.stateBefore.includes('inter')), 'A audited its inter matchmaking')
    const res = await get(a.server.url, '/api/peers')
    const listed = (res.json as PeerStatus[]).find(p => p.peerId === helper.mesh.peerId)
    assert.equal(listed?.markets[0]?.reliability.source, 'context')
    assert.ok((listed?.markets[0]?.reliability.events ?? 0) >= 1)
  })

  it('a fellow forwards what it cannot cover with one hop less; with no hop left it forwards nothing', async () => {
    const [b, c] = [nodes[1], nodes[2]] as [MeshedNode, MeshedNode]
    const startMs = nextStart(clock)
    const window = { marketContext: MARKET, startMs, intervalMs: INTERVAL_MS, intervals: 3 }
    await waitFor('B advertises over the window to C', () => c.mesh.port.advertisedOffers(MARKET, clock.now(), window).some(o => o.peerId === b.mesh.peerId) ? true : undefined, 30_000)
    // B's customers will not act: the part B takes on must make B look for cover, which its hop limit forbids.
    for (const cust of b.community.customers) b.community.deviations.set(cust.venId, { fromMs: startMs, kw: 0, ignoreSetpoint: true })
    try {
      const commitment = await a.mesh.node.port.requestCover(c.mesh.peerId, {
        requestId: 'hop-test', eventRef: { nodeId: 'node-a', eventId: 'hop-test' }, marketContext: MARKET, startMs, intervalMs: INTERVAL_MS,
        amountsKw: [-6, -6, -6], signalType: 'delta', deadlineMs: startMs, hopLimit: 1, path: [a.mesh.peerId]
      })
      assert.deepEqual(commitment.committedKw, [-4, -4, -4], 'C commits what its customers can do')
      const forwarded = await waitFor('C forwards the rest to B, and B answers', () => b.agent.events().find(e => e.eventId.startsWith('peer:node-c:peer:hop-test:') && e.answer !== null), 30_000)
      assert.equal(forwarded.request.peer?.hopLimit, 0)
      assert.equal(forwarded.answer?.accept, true)
      await waitFor('B and C complete', () => b.agent.event(forwarded.eventId)?.status === 'done' && c.agent.liveEventIds().length === 0 ? true : undefined, 40_000)
      const audit = await b.agent.audit.entries(forwarded.eventId)
      const done = b.agent.event(forwarded.eventId)
      assert.ok(done?.intervals.every(r => r.deliveredKw !== null && Math.abs(r.deliveredKw - 10) < 0.5), `B's customers stayed at baseline: ${JSON.stringify(done?.intervals)}`)
      assert.ok(!audit.some(e => e.stateAfter.includes('inter')), 'with no hop left, B\'s chart never went to inter matchmaking')
      for (const n of [a, c]) assert.ok(!n.agent.events().some(e => e.eventId.startsWith('peer:node-b:')), `${n.name} got nothing forwarded by B`)
    } finally {
      b.community.deviations.clear()
    }
  })

  it('a fellow killed mid-request: A falls back to the next fellow within the same interval', async () => {
    // A asks the most reliable fellow first (ties by peer id), as allocateToPeers orders them.
    const book = a.agent.reliabilityBook()
    const r = (n: MeshedNode): number => reliabilityOf(book, n.mesh.peerId, MARKET, reliabilityPrior).r
    const [first, second] = nodes.slice(1).sort((x, y) => (r(y) - r(x)) || (x.mesh.peerId < y.mesh.peerId ? -1 : 1)) as [MeshedNode, MeshedNode]
    let killed = false
    first.mesh.port.onCoverRequest(async () => {
      killed = true
      void first.mesh.stop()
      return await new Promise(() => {})
    })
    await waitFor('earlier events over', () => nodes.every(n => n.agent.liveEventIds().length === 0) ? true : undefined, 40_000)
    const startMs = nextStart(clock)
    await waitFor('offers over the event window', () => a.mesh.port.advertisedOffers(MARKET, clock.now(), { marketContext: MARKET, startMs, intervalMs: INTERVAL_MS, intervals: 3 }).length === 2 ? true : undefined, 30_000)
    await a.agent.submit(upstreamRequest('ev-2', startMs))
    const covered = await waitFor('A records an inter cover', () => {
      const e = a.agent.event('ev-2')
      return e?.intervals.find(r => r.interCoveredKw !== 0)
    }, 60_000)
    assert.ok(killed, 'the first fellow asked was killed while answering')
    assert.equal(covered.index, 0, 'covered in the interval where the deviation was seen')
    assert.ok(Math.abs(covered.interCoveredKw - 2) < 0.1)
    assert.ok(second.agent.events().some(e => e.eventId.startsWith('peer:node-a:ev-2:') && e.answer?.accept === true), 'the next fellow took it')
    const inter = (await a.agent.audit.entries('ev-2')).find(e => e.stateBefore.includes('inter') && e.event.includes('done'))
    assert.ok(inter !== undefined && inter.timeMs < startMs + INTERVAL_MS, 'the fallback answered within the interval')
  })
})
