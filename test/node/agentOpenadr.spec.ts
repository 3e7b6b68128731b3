import assert from 'node:assert/strict'
import { Agent } from '../../src/node/agent.js'
import { ApiServer } from '../../src/node/apiServer.js'
import { CustomerVtn } from '../../src/node/customerVtn.js'
import { UpstreamVen } from '../../src/node/upstreamVen.js'
import { customerReportOffer } from '../../src/node/reportNames.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import { verifyTrail } from '../../src/node/auditChain.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { OadrHttpServer } from '../../src/openadr/http/server.js'
import { HttpPayloadSender } from '../../src/openadr/http/sender.js'
import { powerRealKw } from '../../src/openadr/model/common.js'
import { ScaledClock } from '../../src/util/clock.js'
import { pino } from 'pino'
import { get, MARKET, removeDir, tempDir, TOKEN, waitFor } from './agentFixtures.js'

// 20 simulated ms per real ms: a 60 s interval lasts 3 s; customers poll and report every 0.5 s.
const SCALE = 20
const INTERVAL = 60_000
const POLL = 10_000
const silent = pino({ level: 'silent' })

interface Device { venName: string, baselineKw: number, flexDownKw: number, flexUpKw: number, cost: number, pvKw: number }

/** A customer site: A's Ven over real HTTP, following the setpoint of every event it opted into. */
class Site {
  readonly ven: Ven
  /** From this clock time on, the site stays at its baseline whatever it was asked. */
  ignoreFromMs = Infinity

  constructor (readonly device: Device, nodeUrl: string, readonly clock: ScaledClock) {
    this.ven = new Ven({
      venName: device.venName,
      reports: customerReportOffer({ marketContexts: [MARKET], telemetryPeriodMs: POLL, forecastStepMs: POLL, forecastSteps: 2, capabilitiesPeriodMs: POLL }),
      defaultPollFreqMs: POLL
    }, {
      sender: new HttpPayloadSender({ baseUrl: nodeUrl }),
      clock,
      readReport: rID => this.read(rID)
    })
  }

  flowKw (nowMs: number): number {
    let kw = this.device.baselineKw
    if (nowMs >= this.ignoreFromMs) return kw
    for (const { event, optType } of this.ven.events()) {
      if (optType !== 'optIn' || event.eventDescriptor.eventStatus === 'cancelled') continue
      const signal = event.eiEventSignals.find(s => s.signalName === 'LOAD_DISPATCH')
      const step = signal?.intervals[0]?.durationMs ?? 0
      const t = Math.floor((nowMs - event.eiActivePeriod.dtstartMs) / step)
      const setpoint = signal?.intervals[t]?.values[0]
      if (t >= 0 && setpoint !== undefined) kw += setpoint - this.device.baselineKw
    }
    return kw
  }

  private read (rID: string): number | undefined {
    if (rID === 'usage') return this.flowKw(this.clock.now())
    const [series] = rID.split('.')
    if (series === 'baselineKw') return this.device.baselineKw
    if (series === 'flexUpKw') return this.device.flexUpKw
    if (series === 'flexDownKw') return this.device.flexDownKw
    if (rID === 'costUpPerKwh' || rID === 'costDownPerKwh') return this.device.cost
    if (rID === 'pvKw') return this.device.pvKw
    return undefined
  }
}

interface Rig {
  clock: ScaledClock
  utility: Vtn
  utilityServer: OadrHttpServer
  agent: Agent
  customers: CustomerVtn
  upstream: UpstreamVen
  server: ApiServer
  sites: Site[]
  url: string
  nodeVenID: string
  stop: () => Promise<void>
}

async function rig (dir: string): Promise<Rig> {
  const clock = new ScaledClock(Date.UTC(2026, 0, 1, 12), SCALE)
  const utility = new Vtn({ vtnID: 'utility', pollFreqMs: POLL }, { clock })
  await utility.start()
  const utilityServer = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler: utility.handler })
  await utilityServer.start()
  const config: NodeConfig = {
    ...defaultConfig, nodeId: 'node-a', venName: 'node-a', dataDir: dir, port: 0, adminToken: TOKEN, checksPerInterval: 2,
    customerPollMs: POLL, reportGraceMs: 25_000, toleranceKw: 0.5, upstreamUrl: utilityServer.url
  }
  const customers = new CustomerVtn({ vtnID: config.nodeId, dataDir: dir, pollFreqMs: POLL }, { clock, logger: silent })
  const upstream = new UpstreamVen({ upstreamUrl: utilityServer.url, venName: 'node-a', telemetryPeriodMs: POLL, pollFreqMs: POLL }, { clock, logger: silent })
  const agent = new Agent(config, { clock, customers, upstream })
  customers.bind(agent)
  upstream.bind(agent)
  await customers.start()
  await agent.start()
  const server = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent, pull: customers, oadr: customers.handler })
  await server.start()
  await upstream.start()
  const sites = Array.from({ length: 20 }, (_, i) => new Site({
    venName: `site-${String(i).padStart(2, '0')}`, baselineKw: 5 + (i % 3), flexDownKw: 2, flexUpKw: 1, cost: 0.1 + i * 0.01, pvKw: i % 4 === 0 ? 3 : 0
  }, server.url, clock))
  await Promise.all(sites.map(async s => { await s.ven.start() }))
  const nodeVenID = upstream.ven.venID as string
  return {
    clock, utility, utilityServer, agent, customers, upstream, server, sites, url: server.url, nodeVenID,
    stop: async () => {
      await Promise.all(sites.map(async s => { await s.ven.stop() }))
      await upstream.stop()
      await server.stop()
      await agent.stop()
      await customers.stop()
      await utilityServer.stop()
      await utility.stop()
    }
  }
}

/** Every site known to the node with the market context and capabilities its reports gave. */
async function enrolledThroughReports (r: Rig): Promise<void> {
  await waitFor('customers to report capabilities', () => {
    const all = r.agent.book.all()
    return all.length === 20 && all.every(c => c.capabilities !== null && c.marketContexts.includes(MARKET)) ? true : undefined
  })
}

function loadDispatch (r: Rig, eventID: string, setpointsKw: number[], startInMs = 30_000) {
  const dtstartMs = r.clock.now() + startInMs
  return {
    eventID,
    marketContext: MARKET,
    dtstartMs,
    signals: [{ signalName: 'LOAD_DISPATCH' as const, signalType: 'setpoint' as const, signalID: 'agg', itemBase: powerRealKw(), intervals: setpointsKw.map((v, i) => ({ durationMs: INTERVAL, uid: String(i), values: [v] })) }],
    targets: { venIDs: [r.nodeVenID] }
  }
}

const finished = async (r: Rig, id: string) => await waitFor(`event ${id} to finish`, async () => {
  const res = await get(r.url, `/api/events/${id}`)
  return res.json.status === 'done' ? res.json : undefined
}, 30_000)

describe('agent over OpenADR: 20 VEN customers, an upstream VTN, one node', function () {
  this.timeout(60_000)
  let r: Rig | undefined
  let dir = ''

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await r?.stop()
    r = undefined
    await removeDir(dir)
  })

  it('learns customers from their report registration, answers a LOAD_DISPATCH event optIn, and the aggregate follows the setpoint', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    const site0 = r.agent.book.all().find(c => c.venName === 'site-00')
    assert.equal(site0?.capabilities?.costDownPerKwh, 0.1)
    assert.equal(site0?.capabilities?.pvKw, 3)
    assert.equal(site0?.capabilities?.forecastIntervalMs, POLL)
    assert.equal(site0?.capabilities?.baselineKw.length, 2)
    // Σ baselines = 7·5 + 7·6 + 6·7 = 119 kW; each site can shed 2 kW.
    await r.utility.createEvent(loadDispatch(r, 'ev-up', [104, 99, 109]))
    const rr = r
    const answer = await waitFor('the node to answer upstream', () => rr.utility.eventResponses('ev-up')[0])
    assert.equal(answer.optType, 'optIn')
    assert.equal(answer.venID, r.nodeVenID)
    const e = await finished(r, 'ev-up')
    assert.equal(e.state, 'completed')
    assert.equal(e.request.signalType, 'setpoint')
    for (const i of e.intervals) {
      assert.ok(i.deliveredKw !== null, `interval ${i.index} measured`)
      assert.ok(Math.abs(i.deviationKw) <= 0.5, `interval ${i.index}: delivered ${i.deliveredKw}, requested ${i.requestedKw}`)
    }
    // Each dispatched site received its own eiEvent, answered it, and no longer holds it after completion.
    const dispatched = r.customers.vtn.events().filter(ev => ev.eventDescriptor.eventID.startsWith('ev-up#'))
    assert.ok(dispatched.length >= 8, `${dispatched.length} sites dispatched`)
    for (const ev of dispatched) {
      assert.equal(ev.eiEventSignals[0]?.signalName, 'LOAD_DISPATCH')
      assert.equal(ev.eventDescriptor.marketContext, MARKET)
      assert.equal(r.customers.vtn.eventResponses(ev.eventDescriptor.eventID)[0]?.optType, 'optIn')
    }
    assert.equal(verifyTrail((await get(r.url, '/api/events/ev-up/audit')).json.lines).valid, true)
    // Upward telemetry: the node's aggregate, as TELEMETRY_USAGE reports the utility requested.
    const reports = await r.utility.readReports(r.nodeVenID)
    const usage = reports.flatMap(s => s.report.intervals ?? []).flatMap(i => i.payloads).filter(p => p.rID === 'usage').map(p => p.value as number)
    assert.ok(usage.length > 0, 'telemetry reached the utility')
    assert.ok(usage.some(v => v < 110) && usage.some(v => v > 115), `aggregate went down during the event and back: ${usage.join(', ')}`)
  })

  it('covers a site that stops following its setpoint mid-event with intra matchmaking in the same interval; the cover reaches the chosen sites over OpenADR', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    const body = loadDispatch(r, 'ev-dev', [109, 109, 109])
    await r.utility.createEvent(body)
    const rr = r
    const first = await waitFor('a dispatch', () => rr.customers.vtn.events().find(ev => ev.eventDescriptor.eventID.startsWith('ev-dev#')))
    const deviatorId = first.eventDescriptor.eventID.split('#')[1] as string
    const deviator = r.sites.find(s => s.ven.venID === deviatorId) as Site
    deviator.ignoreFromMs = body.dtstartMs + INTERVAL
    const e = await finished(r, 'ev-dev')
    assert.equal(e.state, 'completed')
    const intra = e.audit.filter((a: { stateBefore: string }) => a.stateBefore === 'active.intra')
    assert.ok(intra.length > 0, 'intra matchmaking ran')
    const chosen: string[] = intra[0].decision.chosen
    assert.ok(chosen.length > 0, 'other customers were chosen to cover')
    assert.ok(intra[0].timeMs < body.dtstartMs + 2 * INTERVAL, 'covered within interval 1')
    // The cover reached the chosen sites as OpenADR: a modification of the eiEvent of a site already
    // dispatched, a new eiEvent for one that was not; each site answered optIn.
    for (const venId of chosen) {
      const ev = r.customers.vtn.event(`ev-dev#${venId}`)
      assert.ok(ev !== undefined, `${venId} holds an eiEvent`)
      const created = ev.eventDescriptor.createdDateTimeMs
      assert.ok(ev.eventDescriptor.modificationNumber > 0 || created >= body.dtstartMs + INTERVAL, `${venId}: modified, or sent during the event`)
      assert.equal(r.customers.vtn.eventResponses(`ev-dev#${venId}`).at(-1)?.optType, 'optIn')
    }
    const last = e.intervals[2]
    assert.ok(Math.abs(last.deviationKw) <= 0.5, `interval 2 covered: delivered ${last.deliveredKw}, requested ${last.requestedKw}`)
  })

  it('a cancellation from the upstream VTN cancels the event and withdraws every customer eiEvent', async () => {
    r = await rig(dir)
    await enrolledThroughReports(r)
    await r.utility.createEvent(loadDispatch(r, 'ev-cancel', [109, 109], 60_000))
    const rr = r
    await waitFor('dispatch', () => rr.customers.vtn.events().some(ev => ev.eventDescriptor.eventID.startsWith('ev-cancel#')) ? true : undefined)
    await r.utility.cancelEvent('ev-cancel')
    const e = await finished(r, 'ev-cancel')
    assert.equal(e.state, 'cancelled')
    const mine = r.customers.vtn.events().filter(ev => ev.eventDescriptor.eventID.startsWith('ev-cancel#'))
    await waitFor('customer events cancelled', () => mine.every(ev => rr.customers.vtn.event(ev.eventDescriptor.eventID)?.eventDescriptor.eventStatus === 'cancelled') ? true : undefined)
  })
})
