/**
 * An OpenADR rig for agent tests: an upstream VTN (a utility's, or a node's: nodes stack), one node (CustomerVtn,
 * Agent, UpstreamVen, API on one port) and 20 customer sites, each A's Ven over real HTTP on loopback, on a
 * ScaledClock. The node registers upward before its sites report, as a fresh node does.
 */
import { Agent } from '../../src/node/agent.js'
import { ApiServer } from '../../src/node/apiServer.js'
import { CustomerVtn } from '../../src/node/customerVtn.js'
import { UpstreamVen } from '../../src/node/upstreamVen.js'
import { customerReportOffer } from '../../src/node/reportNames.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { OadrHttpServer } from '../../src/openadr/http/server.js'
import { HttpPayloadSender } from '../../src/openadr/http/sender.js'
import { powerRealKw } from '../../src/openadr/model/common.js'
import { ScaledClock } from '../../src/util/clock.js'
import { pino } from 'pino'
import { get, MARKET, TOKEN, waitFor } from './agentFixtures.js'

// 20 simulated ms per real ms: a 60 s interval lasts 3 s; customers poll and report every 0.5 s.
export const SCALE = 20
export const INTERVAL = 60_000
export const POLL = 10_000
const silent = pino({ level: 'silent' })

interface Device { venName: string, baselineKw: number, flexDownKw: number, flexUpKw: number, cost: number, pvKw: number }

/** A customer site: A's Ven over real HTTP, following the setpoint of every event it opted into. */
export class Site {
  readonly ven: Ven
  /** From this clock time on, the site stays at its baseline whatever it was asked. */
  ignoreFromMs = Infinity

  constructor (readonly device: Device, nodeUrl: string, readonly clock: ScaledClock) {
    this.ven = new Ven({
      venName: device.venName,
      reports: customerReportOffer({ marketContexts: [MARKET], telemetryPeriodMs: POLL, forecastStepMs: POLL, capabilitiesPeriodMs: POLL }),
      defaultPollFreqMs: POLL
    }, {
      sender: new HttpPayloadSender({ baseUrl: nodeUrl }),
      clock,
      readReport: rID => this.read(rID),
      readProjection: rID => this.forecast(rID)
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

  /** A flat forecast of two steps. */
  private forecast (rID: string): number[] | undefined {
    if (rID === 'baselineKw') return [this.device.baselineKw, this.device.baselineKw]
    if (rID === 'flexUpKw') return [this.device.flexUpKw, this.device.flexUpKw]
    if (rID === 'flexDownKw') return [this.device.flexDownKw, this.device.flexDownKw]
    return undefined
  }

  private read (rID: string): number | undefined {
    if (rID === 'usage') return this.flowKw(this.clock.now())
    if (rID === 'costUpPerKwh' || rID === 'costDownPerKwh') return this.device.cost
    if (rID === 'pvKw') return this.device.pvKw
    return undefined
  }
}

export interface NodeParts { agent: Agent, customers: CustomerVtn, upstream: UpstreamVen, server: ApiServer }

/** A node whose upstream is `upstreamUrl`, serving its customers' VENs and its API on one port; not yet registered upward. */
export async function startNodeParts (nodeId: string, dir: string, clock: ScaledClock, upstreamUrl: string): Promise<NodeParts> {
  const config: NodeConfig = {
    ...defaultConfig, nodeId, venName: nodeId, dataDir: dir, port: 0, adminToken: TOKEN, checksPerInterval: 2,
    customerPollMs: POLL, reportGraceMs: 25_000, toleranceKw: 0.5, upstreamUrl
  }
  const customers = new CustomerVtn({ vtnID: nodeId, dataDir: dir, pollFreqMs: POLL }, { clock, logger: silent })
  const upstream = new UpstreamVen({ upstreamUrl, venName: nodeId, telemetryPeriodMs: POLL, pollFreqMs: POLL }, { clock, logger: silent })
  const agent = new Agent(config, { clock, customers, upstream })
  customers.bind(agent)
  upstream.bind(agent)
  await customers.start()
  await agent.start()
  const server = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent, pull: customers, oadr: customers.handler })
  await server.start()
  return { agent, customers, upstream, server }
}

export async function stopNodeParts (n: NodeParts): Promise<void> {
  await n.upstream.stop()
  await n.server.stop()
  await n.agent.stop()
  await n.customers.stop()
}

export interface Rig extends NodeParts {
  clock: ScaledClock
  utility: Vtn
  utilityServer: OadrHttpServer
  sites: Site[]
  url: string
  nodeVenID: string
  stop: () => Promise<void>
}

/** What stands above node-a when it is not the utility's VTN itself. */
export type UpstreamOf = (clock: ScaledClock) => Promise<{ url: string, stop: () => Promise<void> }>

/** `scale`: simulated ms per real ms (@default SCALE); a slower clock leaves more real time per poll on a loaded machine. */
export async function rig (dir: string, upstreamOf?: UpstreamOf, scale = SCALE): Promise<Rig> {
  const clock = new ScaledClock(Date.UTC(2026, 0, 1, 12), scale)
  const utility = new Vtn({ vtnID: 'utility', pollFreqMs: POLL }, { clock })
  await utility.start()
  const utilityServer = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler: utility.handler })
  await utilityServer.start()
  const above = await upstreamOf?.(clock)
  const node = await startNodeParts('node-a', dir, clock, above?.url ?? utilityServer.url)
  await node.upstream.start()
  const sites = Array.from({ length: 20 }, (_, i) => new Site({
    venName: `site-${String(i).padStart(2, '0')}`, baselineKw: 5 + (i % 3), flexDownKw: 2, flexUpKw: 1, cost: 0.1 + i * 0.01, pvKw: i % 4 === 0 ? 3 : 0
  }, node.server.url, clock))
  await Promise.all(sites.map(async s => { await s.ven.start() }))
  const nodeVenID = node.upstream.ven.venID as string
  return {
    ...node, clock, utility, utilityServer, sites, url: node.server.url, nodeVenID,
    stop: async () => {
      await Promise.all(sites.map(async s => { await s.ven.stop() }))
      await stopNodeParts(node)
      await above?.stop()
      await utilityServer.stop()
      await utility.stop()
    }
  }
}

/** Every site known to the node with the market context and capabilities its reports gave. */
export async function enrolledThroughReports (r: Rig): Promise<void> {
  await waitFor('customers to report capabilities', () => {
    const all = r.agent.book.all()
    return all.length === 20 && all.every(c => c.capabilities !== null && c.marketContexts.includes(MARKET)) ? true : undefined
  })
}

export function loadDispatch (r: Rig, eventID: string, setpointsKw: number[], startInMs = 30_000, signalType: 'setpoint' | 'delta' = 'setpoint', venID = r.nodeVenID) {
  const dtstartMs = r.clock.now() + startInMs
  return {
    eventID,
    marketContext: MARKET,
    dtstartMs,
    signals: [{ signalName: 'LOAD_DISPATCH' as const, signalType, signalID: 'agg', itemBase: powerRealKw(), intervals: setpointsKw.map((v, i) => ({ durationMs: INTERVAL, uid: String(i), values: [v] })) }],
    targets: { venIDs: [venID] }
  }
}

/** The event's summary once done, read through the node's API (event ids of dispatched customers hold a `#`). */
export async function finished (url: string, id: string) {
  return await waitFor(`event ${id} to finish`, async () => {
    const res = await get(url, `/api/events/${encodeURIComponent(id)}`)
    return res.json.status === 'done' ? res.json : undefined
  }, 30_000)
}
