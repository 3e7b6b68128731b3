import assert from 'node:assert/strict'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { OadrHttpServer } from '../../src/openadr/http/server.js'
import { verifyTrail } from '../../src/node/auditChain.js'
import { get, MARKET, removeDir, tempDir, waitFor } from './agentFixtures.js'
import { enrolledThroughReports, finished, loadDispatch, POLL, rig, SCALE, startNodeParts, stopNodeParts, type NodeParts, type Rig } from './agentOpenadrRig.js'

describe('agent stacking: community → aggregator → utility, node to node over OpenADR', function () {
  this.timeout(90_000)
  let r: Rig | undefined
  let dir = ''
  const topDir: string[] = []

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await r?.stop()
    r = undefined
    await removeDir(dir)
    for (const d of topDir.splice(0)) await removeDir(d)
  })

  it('a node registered upward before its customers offers their market context once they report, and follows the event the utility sent the node above', async () => {
    let top: NodeParts | undefined
    let utility: Vtn | undefined
    // At half the usual clock scale: two nodes and 21 HTTP clients share one process, and at 20× a busy CI host's
    // stalls of a few hundred ms were seconds of simulated time, so node-a's sites picked up node-top's setpoint
    // too late to follow it (node-top then revised it).
    r = await rig(dir, async clock => {
      // node-top has no sites of its own: its only customer is node-a, over OpenADR.
      const d = await tempDir()
      topDir.push(d)
      const u = new Vtn({ vtnID: 'utility-top', pollFreqMs: POLL }, { clock })
      await u.start()
      const server = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler: u.handler })
      await server.start()
      const parts = await startNodeParts('node-top', d, clock, server.url)
      await parts.upstream.start()
      top = parts
      utility = u
      return { url: parts.server.url, stop: async () => { await stopNodeParts(parts); await server.stop(); await u.stop() } }
    }, SCALE / 2)
    const t = top as unknown as NodeParts
    const u = utility as unknown as Vtn
    const a = r
    await enrolledThroughReports(a)
    // node-a registered with no customers; once they reported it registered again, same venID, with their market.
    const asCustomer = await waitFor('node-a known to node-top with its market and aggregate forecast', () => {
      const c = t.agent.book.get(a.nodeVenID)
      // Σ baselines of node-a's sites = 119 kW, as node-top learns it from node-a's forecast reports.
      return c?.capabilities != null && c.marketContexts.includes(MARKET) && Math.abs((c.capabilities.baselineKw[0] ?? 0) - 119) < 1e-6 ? c : undefined
    })
    assert.equal(a.upstream.ven.venID, a.nodeVenID)
    assert.deepEqual(t.agent.book.all().map(c => c.venId), [a.nodeVenID])
    assert.equal(asCustomer.capabilities?.flexDownKw[0], 40)

    const body = loadDispatch(a, 'ev-stack', [-12, -12], 40_000, 'delta', t.upstream.ven.venID as string)
    await u.createEvent(body)
    await waitFor('node-top answers its utility', () => u.eventResponses('ev-stack')[0]?.optType === 'optIn' ? true : undefined)
    // node-top dispatched node-a as its customer: node-a runs `ev-stack#<its venID>` as a setpoint for its aggregate.
    const lowId = `ev-stack#${a.nodeVenID}`
    // As node-top first dispatched it (node-top's recovery may revise it later, should node-a lag).
    const first = await waitFor('node-a holds the event', () => a.agent.event(lowId))
    assert.deepEqual(first.request.amountsKw.map(kw => Math.round(kw * 1e6) / 1e6), [107, 107], 'node-a asked for 119 − 12 kW')
    assert.equal((await waitFor('node-a answers node-top', () => t.customers.vtn.eventResponses(lowId)[0])).optType, 'optIn')
    // While node-a holds its sites' flexibility for the event, it offers node-top only what is left.
    const net = await waitFor('node-a to offer its flexibility net of the event', () => {
      const down = t.agent.book.get(a.nodeVenID)?.capabilities?.flexDownKw ?? []
      return down.some(v => v < 40 - 5) ? down : undefined
    })
    assert.ok(net.every(v => v >= 0), JSON.stringify(net))
    const low = await finished(a.url, lowId)
    assert.equal(low.state, 'completed')
    assert.equal(low.request.signalType, 'setpoint')
    for (const i of low.intervals) {
      assert.ok(Math.abs(i.requestedKw - 107) < 0.5, `node-a asked for about 119 − 12 kW, got ${i.requestedKw}`)
      assert.ok(i.deliveredKw !== null && Math.abs(i.deviationKw) <= 0.5, `node-a interval ${i.index}: delivered ${i.deliveredKw}, requested ${i.requestedKw}`)
    }
    const topEvent = await finished(t.server.url, 'ev-stack')
    assert.equal(topEvent.state, 'completed')
    for (const i of topEvent.intervals) assert.ok(i.deliveredKw !== null, `node-top measured interval ${i.index} from node-a's telemetry`)
    assert.equal(verifyTrail((await get(t.server.url, '/api/events/ev-stack/audit')).json.lines).valid, true)
  })
})
