import assert from 'node:assert/strict'
import { pino } from 'pino'
import { Agent } from '../../src/node/agent.js'
import { CustomerVtn } from '../../src/node/customerVtn.js'
import { customerReportOffer, parseCustomerReport } from '../../src/node/reportNames.js'
import { defaultConfig } from '../../src/node/config.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { OadrHttpServer } from '../../src/openadr/http/server.js'
import { HttpPayloadSender } from '../../src/openadr/http/sender.js'
import { ScaledClock } from '../../src/util/clock.js'
import { MARKET, removeDir, tempDir, waitFor } from './agentFixtures.js'

const POLL = 10_000
const silent = pino({ level: 'silent' })

describe('agent recovery: reports the customer VTN stored before a crash reach the customer book', function () {
  this.timeout(30_000)
  let dir = ''
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => { await removeDir(dir) })

  async function startNode (clock: ScaledClock) {
    const customers = new CustomerVtn({ vtnID: 'node-r', dataDir: dir, pollFreqMs: POLL }, { clock, logger: silent })
    const agent = new Agent({ ...defaultConfig, nodeId: 'node-r', dataDir: dir, port: 0 }, { clock, customers })
    customers.bind(agent)
    await customers.start()
    await agent.start()
    return { agent, customers, stop: async () => { await agent.stop(); await customers.stop() } }
  }

  it('replays every stored registration and report on start, idempotently', async () => {
    const clock = new ScaledClock(Date.UTC(2026, 0, 1, 12), 20)
    // The VTN stores and acknowledges what a real VEN sends, but no book records it: the process died between the two writes.
    const orphan = new CustomerVtn({ vtnID: 'node-r', dataDir: dir, pollFreqMs: POLL }, { clock, logger: silent })
    await orphan.start()
    const server = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler: orphan.handler })
    await server.start()
    const ven = new Ven({
      venName: 'site-r',
      reports: customerReportOffer({ marketContexts: [MARKET], telemetryPeriodMs: POLL, forecastStepMs: POLL, capabilitiesPeriodMs: POLL }),
      defaultPollFreqMs: POLL
    }, {
      sender: new HttpPayloadSender({ baseUrl: server.url }),
      clock,
      readReport: rID => rID === 'usage' ? 4 + (clock.now() % 1000) / 1000 : 0.2,
      readProjection: rID => rID === 'baselineKw' ? [5, 5] : rID === 'flexDownKw' ? [2, 2] : rID === 'flexUpKw' ? [1, 1] : undefined
    })
    const acknowledged: Array<{ atMs: number, kw: number }> = []
    let forecasts = 0
    ven.on('reportSent', report => {
      const parsed = parseCustomerReport(report)
      if (parsed.kind === 'telemetry') acknowledged.push(...parsed.readings)
      if (parsed.kind === 'forecast') forecasts++
    })
    await ven.start()
    await waitFor('telemetry and forecasts acknowledged', () => acknowledged.length >= 3 && forecasts >= 1 ? true : undefined)
    await ven.stop()
    await server.stop()
    await orphan.stop()
    const venId = ven.venID as string

    const node = await startNode(clock)
    const c = node.agent.book.get(venId)
    assert.ok(c !== undefined, 'the registration is recovered')
    assert.deepEqual(c.marketContexts, [MARKET])
    assert.equal(c.capabilities?.baselineKw[0], 5)
    assert.equal(c.capabilities?.flexDownKw[0], 2)
    const stored = node.agent.book.readings(venId, 0, Infinity)
    for (const a of acknowledged) assert.ok(stored.some(r => r.atMs === a.atMs && r.kw === a.kw), `reading at ${a.atMs} recovered`)
    await node.stop()

    // A second start replays the same reports again: nothing is doubled.
    const again = await startNode(clock)
    assert.deepEqual(again.agent.book.readings(venId, 0, Infinity), stored)
    assert.equal(again.agent.book.all().length, 1)
    await again.stop()
  })
})
