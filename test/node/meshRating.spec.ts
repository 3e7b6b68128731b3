/**
 * Rating a fellow's cover from what this node observes: a real Agent (LevelDB store, audit trail) on a
 * ManualClock, commitments kept and outcomes rated through PeerRatings.
 */
import { strict as assert } from 'node:assert'
import { Agent } from '../../src/node/agent.js'
import { defaultConfig } from '../../src/node/config.js'
import type { CoverRequest } from '../../src/node/interMatchmaking.js'
import { PeerRatings, UnknownCoverError, type CoverObserver } from '../../src/node/meshRating.js'
import { ManualClock } from '../../src/util/clock.js'
import { Community, MARKET, removeDir, tempDir } from './agentFixtures.js'

const PEER = '12D3KooWPeerUnderRating'

function request (requestId: string, startMs: number): CoverRequest {
  return {
    requestId, eventRef: { nodeId: 'node-a', eventId: 'ev-1' }, marketContext: MARKET, startMs, intervalMs: 60_000,
    amountsKw: [-2, -2], signalType: 'delta', deadlineMs: startMs, hopLimit: 2, path: ['self']
  }
}

describe('node mesh: rating fellows from what this node observes', function () {
  this.timeout(20_000)
  let agent: Agent
  let dataDir: string
  const clock = new ManualClock(1_000_000)
  /** The meter: what a utility saw of the peer's flow change, per interval. */
  let seenKw: number[] | null = null
  const observer: CoverObserver = async () => seenKw

  beforeEach(async () => {
    dataDir = await tempDir()
    agent = new Agent({ ...defaultConfig, nodeId: 'node-a', dataDir, logLevel: 'silent' }, { clock, customers: new Community([], clock) })
    await agent.start()
  })
  afterEach(async () => {
    await agent.stop()
    await removeDir(dataDir)
  })

  it('a fellow that reports full delivery while the meter saw none is rated down, and the audit keeps both figures', async () => {
    const ratings = new PeerRatings(agent, observer)
    await ratings.remember(request('r1', 0), PEER, [-2, -2], clock.now())
    seenKw = [0, 0]
    const rated = await ratings.rate({ requestId: 'r1', peerId: PEER, committedKw: [-2, -2], deliveredKw: [-2, -2] }, PEER)
    assert.equal(rated.basis, 'observed')
    assert.deepEqual(rated.observedKw, [0, 0])
    assert.ok(rated.reliability.r < 0.9 - 0.05, `below the 0.9 prior: ${rated.reliability.r}`)
    assert.equal(rated.reliability.events, 1)
    const audit = await agent.audit.entries('ev-1')
    const entry = audit.find(e => e.event === 'PEER_OUTCOME')
    assert.deepEqual((entry?.decision as { reportedKw: number[] }).reportedKw, [-2, -2])
    assert.deepEqual((entry?.decision as { observedKw: number[] }).observedKw, [0, 0])
  })

  it('a fellow the meter saw deliver is rated up; a repeated outcome is not counted twice', async () => {
    const ratings = new PeerRatings(agent, observer)
    await ratings.remember(request('r2', 0), PEER, [-2, -2], clock.now())
    seenKw = [-2, -2]
    const first = await ratings.rate({ requestId: 'r2', peerId: PEER, committedKw: [-2, -2], deliveredKw: [-2, -2] }, PEER)
    assert.ok(first.reliability.r > 0.9)
    const again = await ratings.rate({ requestId: 'r2', peerId: PEER, committedKw: [-2, -2], deliveredKw: [-2, -2] }, PEER)
    assert.equal(again.reliability.events, 1)
    assert.equal((await agent.audit.entries('ev-1')).filter(e => e.event === 'PEER_OUTCOME').length, 1)
  })

  it('two covers by one fellow over the same interval share what the meter saw, pro rata', async () => {
    const ratings = new PeerRatings(agent, observer)
    await ratings.remember(request('r3', 0), PEER, [-2, -2], clock.now())
    await ratings.remember({ ...request('r4', 60_000), amountsKw: [-1] }, PEER, [-1], clock.now())
    seenKw = [-2, -3]
    const rated = await ratings.rate({ requestId: 'r3', peerId: PEER, committedKw: [-2, -2], deliveredKw: [-2, -2] }, PEER)
    assert.deepEqual(rated.observedKw, [-2, -2])
  })

  it('without figures, the report counts only up to what was committed', async () => {
    const ratings = new PeerRatings(agent)
    await ratings.remember(request('r5', 0), PEER, [-2, -2], clock.now())
    const rated = await ratings.rate({ requestId: 'r5', peerId: PEER, committedKw: [-2, -2], deliveredKw: [-9, 5] }, PEER)
    assert.equal(rated.basis, 'reported')
    const entry = (await agent.audit.entries('ev-1')).find(e => e.event === 'PEER_OUTCOME')
    assert.equal((entry?.decision as { basis: string }).basis, 'reported')
    // Interval 0 credited at the commitment (not the claimed 9 kW), interval 1 at nothing: half credit.
    const book = agent.reliabilityBook()[PEER]?.[MARKET]
    assert.ok(book !== undefined && Math.abs(book.alpha - 9.5) < 1e-9 && Math.abs(book.beta - 1.5) < 1e-9, JSON.stringify(book))
  })

  it('an outcome for a commitment never made, or from another peer, is refused and rates nobody', async () => {
    const ratings = new PeerRatings(agent, observer)
    await ratings.remember(request('r6', 0), PEER, [-2, -2], clock.now())
    await assert.rejects(ratings.rate({ requestId: 'nope', peerId: PEER, committedKw: [-2], deliveredKw: [-2] }, PEER), UnknownCoverError)
    await assert.rejects(ratings.rate({ requestId: 'r6', peerId: 'other', committedKw: [-2, -2], deliveredKw: [-2, -2] }, '12D3KooWOther'), UnknownCoverError)
    assert.deepEqual(agent.reliabilityBook(), {})
  })
})
