import { strict as assert } from 'node:assert'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { CoverRequest, Commitment, CoverOutcome } from '../../src/node/interMatchmaking.js'
import { COVER_PROTOCOL } from '../../src/p2p/constants.js'
import { askPeersInOrder } from '../../src/p2p/askInOrder.js'
import { forwardRequest } from '../../src/p2p/matchmaking.js'
import { startMesh, MARKET_CONTEXT, recordingLog, waitUntil, type Mesh } from '../helpers/mesh.js'

const SLOT = 15 * 60_000
// Long enough for a first request's stream negotiation on a loaded host (1 s was not), short enough for the tests that wait it out.
const TIMEOUT_MS = 3000

function coverRequest (requester: string, amountsKw: number[], over: Partial<CoverRequest> = {}): CoverRequest {
  const now = Date.now()
  return {
    requestId: `req-${Math.floor(now)}-${amountsKw.join('_')}-${Object.keys(over).join('')}`,
    eventRef: { nodeId: requester, eventId: 'evt-1' },
    marketContext: MARKET_CONTEXT,
    startMs: now + SLOT,
    intervalMs: SLOT,
    amountsKw,
    signalType: 'delta',
    deadlineMs: now + 60_000,
    hopLimit: 1,
    path: [requester],
    ...over
  }
}

describe('p2p inter matchmaking', function () {
  this.timeout(60_000)
  let mesh: Mesh
  const log = recordingLog()
  let a: string, b: string, c: string

  before(async () => {
    mesh = await startMesh({ n: 4, components: { log }, init: { requestTimeoutMs: TIMEOUT_MS, requestBurst: 30, requestRatePerSecond: 10 } })
    ;[a, b, c] = mesh.nodes.map(n => n.peerId.toString()) as [string, string, string]
  })
  after(async () => { await mesh?.stop() })

  it('a cover request is accepted with the handler\'s amounts, clamped to what was asked', async () => {
    const calls: Array<{ req: CoverRequest, from: string }> = []
    mesh.nodes[1]!.port.onCoverRequest(async (req, from) => {
      calls.push({ req, from })
      return { requestId: req.requestId, peerId: 'ignored', accepted: true, committedKw: [-3, -50, 2] }
    })
    const req = coverRequest(a, [-5, -10, -4])
    const commitment = await mesh.nodes[0]!.port.requestCover(b, req)
    assert.deepEqual(commitment, { requestId: req.requestId, peerId: b, accepted: true, committedKw: [-3, -10, 0] })
    assert.equal(calls.length, 1)
    assert.equal(calls[0]!.from, a)
    assert.deepEqual(calls[0]!.req, req)

    const again = await mesh.nodes[0]!.port.requestCover(b, req)
    assert.deepEqual(again, commitment, 'a duplicate request id is answered the same way')
    assert.equal(calls.length, 1, 'and the handler is not asked twice')
  })

  it('a cover request is rejected per the handler, with zeros and its reason', async () => {
    mesh.nodes[2]!.port.onCoverRequest(async req => ({ requestId: req.requestId, peerId: c, accepted: false, committedKw: [9, 9], reason: 'no spare flexibility' }))
    const req = coverRequest(a, [4, 4])
    assert.deepEqual(await mesh.nodes[0]!.port.requestCover(c, req),
      { requestId: req.requestId, peerId: c, accepted: false, committedKw: [0, 0], reason: 'no spare flexibility' })
  })

  it('a node without a handler, a past deadline and a looping path are refused', async () => {
    const requester = mesh.nodes[0]!.port
    const noHandler = await requester.requestCover(mesh.nodes[3]!.peerId.toString(), coverRequest(a, [1]))
    assert.equal(noHandler.accepted, false)
    assert.match(noHandler.reason ?? '', /not accepting/)
    const late = await requester.requestCover(b, coverRequest(a, [1], { deadlineMs: Date.now() - 1 }))
    assert.equal(late.accepted, false)
    assert.match(late.reason ?? '', /deadline/)
    await assert.rejects(requester.requestCover(b, coverRequest(a, [1], { path: [a, b] })), { name: 'MeshProtocolError' })
  })

  it('hop limit: a request is forwarded only while hops remain, never back through the path', () => {
    const req = coverRequest(a, [1], { hopLimit: 1 })
    const once = forwardRequest(req, b)
    assert.deepEqual(once && { hopLimit: once.hopLimit, path: once.path }, { hopLimit: 0, path: [a, b] })
    assert.equal(forwardRequest(once!, c), null, 'hop limit spent')
    assert.equal(forwardRequest(req, a), null, 'loop back to the requester')
  })

  it('pre-event query: peers answer with their advertised flexibility over the window', async () => {
    const start = Math.floor(Date.now() / SLOT) * SLOT
    await mesh.nodes[1]!.publishAdvert({ marketContext: MARKET_CONTEXT, validUntilMs: start + 4 * SLOT, startMs: start, intervalMs: SLOT, flexUpKw: [1, 2, 3, 4], flexDownKw: [5, 6, 7, 8] })
    mesh.nodes[2]!.port.onFlexQuery(async window => ({ peerId: c, flexUpKw: Array(window.intervals).fill(10), flexDownKw: Array(window.intervals).fill(0), expiresAtMs: window.startMs }))
    const offers = await mesh.nodes[0]!.port.queryFlexibility({ marketContext: MARKET_CONTEXT, startMs: start + SLOT, intervalMs: SLOT, intervals: 2 })
    const byPeer = new Map(offers.map(o => [o.peerId, o]))
    assert.deepEqual(byPeer.get(b), { peerId: b, flexUpKw: [2, 3], flexDownKw: [6, 7], expiresAtMs: start + 4 * SLOT })
    assert.deepEqual(byPeer.get(c)?.flexUpKw, [10, 10])
    assert.equal(byPeer.has(mesh.nodes[3]!.peerId.toString()), false, 'a node with nothing to offer gives no offer')
  })

  it('an outcome report reaches the requester\'s handler', async () => {
    const got: Array<{ outcome: CoverOutcome, from: string }> = []
    mesh.nodes[0]!.port.onOutcome(async (outcome, from) => { got.push({ outcome, from }) })
    const outcome: CoverOutcome = { requestId: 'r1', peerId: b, committedKw: [-3, -10], deliveredKw: [-2.5, -10] }
    await mesh.nodes[1]!.port.reportOutcome(a, outcome)
    assert.deepEqual(got, [{ outcome, from: b }])
    await assert.rejects(mesh.nodes[2]!.port.reportOutcome(a, outcome), 'an outcome for another peer is refused')
    assert.equal(got.length, 1)
  })

  it('malformed and oversized requests are dropped and logged; the node keeps answering', async () => {
    const target = mesh.nodes[1]!
    const before = log.entries.length
    for (const bytes of [new TextEncoder().encode('{"v":1,"request":{"requestId":7}}'), new TextEncoder().encode('not json'), new Uint8Array(70_000)]) {
      const stream = await mesh.nodes[3]!.libp2p.dialProtocol(target.peerId, COVER_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: 100_000 })
      await lp.write(bytes).catch(() => {})
      await assert.rejects(lp.read({ signal: AbortSignal.timeout(2000) }))
    }
    await waitUntil('three drops logged', () => log.entries.slice(before).filter(e => e.msg === 'inbound request dropped').length >= 3)
    const ok = await mesh.nodes[0]!.port.requestCover(b, coverRequest(a, [-1, -1, -1], { requestId: 'after-garbage' }))
    assert.equal(ok.accepted, true)
  })

  it('a peer over its request rate is cut off', async () => {
    // The target's rate-limit clock stands still: no refill, so exactly its burst of 5 gets through.
    const target = await mesh.addNode({ requestBurst: 5, requestRatePerSecond: 10 }, { log, realNowMs: () => 0 })
    target.port.onCoverRequest(async req => ({ requestId: req.requestId, peerId: '', accepted: true, committedKw: req.amountsKw }))
    const targetId = target.peerId.toString()
    await waitUntil('target connected', () => mesh.nodes[0]!.libp2p.getPeers().some(p => p.toString() === targetId))
    const before = log.entries.length
    const outcomes: string[] = []
    for (let i = 0; i < 8; i++) {
      const r = await mesh.nodes[0]!.port.requestCover(targetId, coverRequest(a, [1], { requestId: `flood-${i}` })).then(c => String(c.accepted), (e: Error) => e.name)
      outcomes.push(r)
    }
    assert.deepEqual(outcomes.slice(0, 5), ['true', 'true', 'true', 'true', 'true'])
    assert.ok(outcomes.slice(5).every(o => o !== 'true'), `over the rate: ${outcomes.slice(5).join(', ')}`)
    assert.ok(log.entries.slice(before).some(e => e.msg === 'request rate limit exceeded, stream reset'))
  })

  it('a peer that never answers: the call rejects within its timeout', async () => {
    mesh.nodes[2]!.port.onCoverRequest(async () => await new Promise<Commitment>(() => {}))
    const t0 = Date.now()
    await assert.rejects(mesh.nodes[0]!.port.requestCover(c, coverRequest(a, [1], { requestId: 'silent' })), { name: 'MeshRequestTimeoutError' })
    const elapsed = Date.now() - t0
    assert.ok(elapsed >= TIMEOUT_MS - 50 && elapsed < TIMEOUT_MS + 1500, `rejected after ${elapsed} ms`)
  })

  it('a peer killed mid-request: the requester falls back to the next peer within the timeout', async () => {
    const victim = mesh.nodes[2]!
    let arrived!: () => void
    const reached = new Promise<void>(resolve => { arrived = resolve })
    victim.port.onCoverRequest(async () => { arrived(); return await new Promise<Commitment>(() => {}) })
    mesh.nodes[1]!.port.onCoverRequest(async req => ({ requestId: req.requestId, peerId: b, accepted: true, committedKw: req.amountsKw.map(kw => kw / 2) }))
    const req = coverRequest(a, [-8, -8], { requestId: 'fallback' })
    const t0 = Date.now()
    const walking = askPeersInOrder([c, b], req, async (peer, r) => await mesh.nodes[0]!.port.requestCover(peer, r))
    // Killed once the request is in its handler (or, on a starved host, once the walk is over anyway).
    await Promise.race([reached, walking])
    await victim.stop()
    const walk = await walking
    const elapsed = Date.now() - t0
    assert.equal(walk.failures.length, 1)
    assert.equal(walk.failures[0]!.peerId, c)
    assert.deepEqual(walk.commitments.map(x => [x.peerId, x.committedKw]), [[b, [-4, -4]]])
    assert.deepEqual(walk.remainingKw, [-4, -4])
    // Each call is bounded by the timeout: the dead peer's at worst, then the live one's (answered at once).
    assert.ok(elapsed < 2 * TIMEOUT_MS, `fallback took ${elapsed} ms`)
    assert.ok(!mesh.nodes[0]!.libp2p.getPeers().some(p => p.equals(peerIdFromString(c))), 'the dead peer is disconnected')
  })
})
