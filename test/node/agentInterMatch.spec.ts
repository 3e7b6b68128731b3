import assert from 'node:assert/strict'
import { interMatch, onwardRoute } from '../../src/node/agentDecisions.js'
import { defaultConfig } from '../../src/node/config.js'
import type { DrRequest } from '../../src/machines/drEventTypes.js'
import type { InterMatchmakingPort } from '../../src/node/interMatchmaking.js'
import { ManualClock } from '../../src/util/clock.js'
import { acceptingFellows, Community, enrol, removeDir, simCustomers, startNode, tempDir, type Running } from './agentFixtures.js'

const MARKET = 'http://market.example/ctx'
const START = Date.UTC(2026, 0, 1, 12)

function coverEvent (path: string[], hopLimit: number): DrRequest {
  return {
    eventId: 'peer:A:ev-1:0:0:1:0', modificationNumber: 0, origin: 'peer', marketContext: MARKET, startMs: START,
    intervalMs: 60_000, amountsKw: [-4, -4], signalType: 'delta', peer: { requestId: 'A:ev-1:0:0:1:0', fromPeerId: 'A', hopLimit, path }
  }
}

describe('agent inter matchmaking: no cover loops (hop limit and path carried through the chart)', () => {
  const decisions = (port: InterMatchmakingPort, nodeId: string) => ({
    port, clock: new ManualClock(START), config: { ...defaultConfig, nodeId, matchmaking: 'full' as const }, reliability: () => ({})
  })

  it('a forward of a fellow\'s request keeps its path, spends one hop, and never asks a node on the path', async () => {
    const port = acceptingFellows(['A', 'C'])
    await interMatch(decisions(port, 'B'), coverEvent(['A'], 2), [3, 3], 0, 'B:peer:A:ev-1:0:0:1:0:0:1')
    assert.ok(port.asked.length > 0, 'C was asked')
    for (const { peerId, request } of port.asked) {
      assert.notEqual(peerId, 'A', 'the requester is on the path: never asked back')
      assert.deepEqual(request.path, ['A', 'B'])
      assert.equal(request.hopLimit, 1)
    }
  })

  it('with no hop left, or when this node is already on the path, nobody is asked', async () => {
    const spent = acceptingFellows(['C'])
    const r = await interMatch(decisions(spent, 'B'), coverEvent(['A'], 0), [3, 3], 0, 'x')
    assert.equal(spent.asked.length, 0)
    assert.deepEqual(r.residualKw, [3, 3])
    assert.equal(onwardRoute(coverEvent(['A', 'B'], 2), 'B'), null)
  })

  it('a snapshot from before paths were carried falls back to the sender as the path', () => {
    const old = coverEvent(['A'], 2)
    delete old.peer?.path
    assert.deepEqual(onwardRoute(old, 'B'), { hopLimit: 1, path: ['A', 'B'] })
  })
})

describe('agent inter matchmaking: what a node offers fellows', function () {
  this.timeout(30_000)
  let node: Running | undefined
  let dir = ''
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await removeDir(dir)
  })

  it('offers the flexibility of customers that report, not of one that went silent', async () => {
    dir = await tempDir()
    const clock = new ManualClock(START)
    const customers = simCustomers(4)
    const community = new Community(customers, clock)
    node = await startNode(dir, community, clock)
    await enrol(node.url, customers)
    await community.reportOnce(node.url, true)
    const window = { marketContext: MARKET, startMs: START + 60_000, intervalMs: 60_000, intervals: 2 }
    assert.deepEqual((await node.agent.spareFlexibility(window)).flexDownKw, [8, 8], 'every customer can shed 2 kW')
    // ven-03 stops reporting; the others go on, one poll period (1 s in the fixture) after another.
    community.silent.add('ven-03')
    for (let k = 0; k < 3; k++) {
      clock.advance(1_000)
      await community.reportOnce(node.url, true)
    }
    assert.deepEqual((await node.agent.spareFlexibility(window)).flexDownKw, [6, 6], 'the silent customer is not offered')
  })
})
