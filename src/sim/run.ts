/**
 * A simulation run over the real system, on one virtual clock (virtualClock.ts: time moves only once the
 * system is quiet, so the run is reproducible and as fast as the work allows): a utility VTN (src/openadr `Vtn`) and N nodes,
 * each an agent (src/node/agent.ts: its own LevelDB store, its DR-event statecharts and, with strategy
 * `full`, its own libp2p mesh node and peer id on 127.0.0.1) with its CustomerVtn toward its customers and
 * its UpstreamVen registered with the utility. Every simulated customer is a real VEN of its node's VTN
 * (fleet.ts); OpenADR goes over the in-process transport (src/openadr/local.ts) through the same VTN and VEN
 * code as over HTTP. The utility issues each node a LOAD_DISPATCH event, events one after another;
 * customers answer, follow their setpoints as their hidden behaviour and the injected failures say, and
 * report; the nodes dispatch, monitor and cover. The figures are what the fleets' meters measured plus what
 * fellows reported delivering on a node's behalf.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { getHeapStatistics } from 'node:v8'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Agent } from '../node/agent.js'
import type { CustomerVtn } from '../node/customerVtn.js'
import type { MeshNode } from '../p2p/meshNode.js'
import { onWindow } from '../node/agentCustomers.js'
import { Vtn } from '../openadr/vtn/vtn.js'
import { powerRealKw } from '../openadr/model/common.js'
import type { Matchmaking } from '../node/config.js'
import { VirtualClock } from './virtualClock.js'
import type { Window } from './customers.js'
import { advertise, joinMesh, leadIntervals, marketContext, startNode, stopNode, transportOf, type NodeSetup, type SimNode, type SimTransport } from './nodes.js'
import { planFailures, SimulationError, type FailureInit } from './failures.js'
import { MeshCut } from './meshCut.js'
import { agentFigures, summarise, type AgentFigures, type IntervalInput, type Summary } from './figures.js'
import { streamFor } from './customers.js'

export interface SimulationInit {
  /** @default 3 */
  agents?: number
  /** Customers per agent. @default 50 */
  customers?: number
  /** Intervals per event. @default 16 */
  intervals?: number
  /** @default 900 */
  intervalSeconds?: number
  /** Share of dispatched customers failing mid-event. @default 0.25 */
  failureRate?: number
  /** @default 1 */
  seed?: number
  /** @default 'full' */
  strategy?: Matchmaking
  /** Never run faster than this many simulated ms per real ms (pacing for a human watching). @default as fast as the work allows */
  timeScale?: number
  /** Events one after another, so the nodes learn their customers. @default 1 */
  events?: number
  /** Each request against the flexibility the node's customers declare. @default 0.6 */
  requestFraction?: number
  /**
   * Monitoring checkpoints per interval; the customers poll and report as often (every 75 s for 15-minute
   * intervals). Fewer make a large run cheaper, but a failure then goes unseen for longer. @default 12
   */
  checksPerInterval?: number
  /** Relative tolerance of the figures. @default 0.05 */
  tolerance?: number
  /** How customers' OpenADR reaches their node (nodes.ts). @default 'objects' from 1,000 customers per node, else 'xml' */
  transport?: SimTransport
  /** Per-customer deviation the nodes tolerate before acting (kW). @default 0.2 */
  nodeToleranceKw?: number
  /**
   * Kill one node mid-event (by index, at a fraction of the event; it stays down for later events): its
   * event is lost to the utility (what its customers do from then on, with nobody correcting them, is what
   * the figures count) and its fellows fall back to others for cover. @default undefined
   */
  killNode?: FailureInit['killNode']
  /**
   * Cut the mesh between even and odd nodes over these fractions of each event (meshCut.ts): no gossip or
   * cover request crosses the cut while it lasts. @default undefined
   */
  partition?: FailureInit['partition']
  /** Simulated instant the run begins (the first event starts a lead later). @default Tuesday 2026-03-17 16:00 UTC */
  startMs?: number
  /** Where the nodes keep their stores; removed afterwards unless given. @default a fresh temporary directory */
  dataDir?: string
  /** Called as simulated time passes. */
  onProgress?: (doneMs: number, totalMs: number) => void
  /** Called once every node is running and its customers registered, with the nodes and the OpenADR parties. */
  onReady?: (agents: Agent[], parts: { utility: Vtn, customerVtns: CustomerVtn[], meshes: Array<MeshNode | undefined>, clock: VirtualClock }) => void
}

export interface SimulationResult {
  parameters: Record<string, string | number>
  agents: AgentFigures[]
  summary: Summary
  wallMs: number
  peakRssBytes: number
  /** V8's heap limit of the process that ran it: a run holding more ends out of memory (src/sim/simProcess.ts). */
  heapLimitBytes: number
}

/** Real time the system may stay busy at one simulated instant (planning an event for thousands of customers) before the run fails. */
const stepTimeoutMs = 300_000

export async function simulate (init: SimulationInit = {}): Promise<SimulationResult> {
  const p = {
    agents: init.agents ?? 3,
    customers: init.customers ?? 50,
    intervals: init.intervals ?? 16,
    intervalSeconds: init.intervalSeconds ?? 900,
    failureRate: init.failureRate ?? 0.25,
    seed: init.seed ?? 1,
    strategy: init.strategy ?? 'full',
    timeScale: init.timeScale,
    events: init.events ?? 1,
    requestFraction: init.requestFraction ?? 0.6,
    checksPerInterval: init.checksPerInterval ?? 12,
    tolerance: init.tolerance ?? 0.05
  }
  if (!Number.isInteger(p.agents) || p.agents < 1) throw new SimulationError('agents must be a positive integer')
  if (!Number.isInteger(p.customers) || p.customers < 1) throw new SimulationError('customers must be a positive integer')
  if (!Number.isInteger(p.intervals) || p.intervals < 1) throw new SimulationError('intervals must be a positive integer')
  if (!Number.isInteger(p.events) || p.events < 1) throw new SimulationError('events must be a positive integer')
  if (!Number.isInteger(p.checksPerInterval) || p.checksPerInterval < 1) throw new SimulationError('checks-per-interval must be a positive integer')
  if (!(p.intervalSeconds > 0) || !(p.timeScale === undefined || p.timeScale > 0)) throw new SimulationError('interval-seconds and time-scale must be > 0')
  if (!(p.requestFraction > 0 && p.requestFraction <= 1)) throw new SimulationError('request-fraction must be in (0, 1]')
  if (!(p.failureRate >= 0 && p.failureRate <= 1)) throw new SimulationError(`failure rate must be in [0, 1], got ${p.failureRate}`)
  checkInjection(init, p.agents)
  const intervalMs = p.intervalSeconds * 1000
  const origin = init.startMs ?? Date.UTC(2026, 2, 17, 16)
  // The clock moves only when the run moves it: setup (nodes starting, customers registering) takes no simulated time.
  const clock = new VirtualClock({ startMs: origin - (leadIntervals + 2) * intervalMs, stepTimeoutMs, ...(p.timeScale === undefined ? {} : { maxTimeScale: p.timeScale }) })
  let firstStart = origin
  const root = init.dataDir ?? await mkdtemp(join(tmpdir(), 'adrmesh-sim-'))
  const wallStart = performance.now()
  let peakRss = process.memoryUsage.rss()
  const nodes: SimNode[] = []
  const utility = new Vtn({ vtnID: 'utility', pollFreqMs: intervalMs / p.checksPerInterval }, { clock })
  try {
    await utility.start()
    const sim: NodeSetup = {
      strategy: p.strategy, customers: p.customers, seed: p.seed, root, clock, intervalMs, intervals: p.intervals, toleranceKw: init.nodeToleranceKw ?? 0.2, checksPerInterval: p.checksPerInterval, utility,
      ...(init.transport === undefined ? {} : { transport: init.transport }),
      // At each instant, node by node, its customers report and poll, then the node checks: no race decides the figures.
      nodeClock: (i, part) => clock.phase(2 * i + (part === 'customers' ? 1 : 2))
    }
    for (let i = 0; i < p.agents; i++) {
      const n = await startNode(i, sim)
      nodes.push(n)
      clock.addProbe(() => n.alive ? [...n.agent.busy(), ...n.customerVtn.busy()].map(b => `${n.label}: ${b}`) : [])
    }
    if (p.strategy === 'full' && p.agents > 1) await joinMesh(nodes)
    for (const n of nodes) await n.fleet.start()
    await clock.settle()
    init.onReady?.(nodes.map(n => n.agent), { utility, customerVtns: nodes.map(n => n.customerVtn), meshes: nodes.map(n => n.mesh), clock })
    const spanMs = p.intervals * intervalMs
    const totalMs = p.events * spanMs
    for (let e = 0; e < p.events; e++) {
      const window: Window = { startMs: Math.ceil((clock.now() + (leadIntervals + 1) * intervalMs) / intervalMs) * intervalMs, intervalMs, intervals: p.intervals }
      if (e === 0) firstStart = window.startMs
      const live = nodes.filter(n => n.alive)
      const armedAtMs = clock.now()
      for (const n of live) n.fleet.beginEvent(window, e)
      // The utility sizes each request against what the node's customers forecast for this window.
      await waitForecasts(clock, live, armedAtMs, window.startMs)
      // Fellows answer a flexibility query from their last advertisement: advertise before anyone asks.
      await advertiseAll(live, window, clock.now())
      const eventIds = new Map(live.map(n => [n, `${n.label}-event-${e}`]))
      for (const n of live) await issueEvent(utility, n, eventIds.get(n) as string, window, p.requestFraction)
      await waitPlanned(clock, live, eventIds, window.startMs)
      await runWindow(nodes, clock, window, {
        eventIds: [...eventIds.values()],
        checksPerInterval: p.checksPerInterval,
        failures: { failureRate: p.failureRate, ...(init.killNode !== undefined ? { killNode: init.killNode } : {}), ...(init.partition !== undefined ? { partition: init.partition } : {}) },
        random: streamFor(p.seed, 0x5eed, 7 + e),
        progress: doneMs => { init.onProgress?.(e * spanMs + doneMs, totalMs) },
        sampleRss: () => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }
      })
      await settle(clock, nodes, window)
      for (const n of nodes) n.inputs.push(...intervalInputs(n, nodes, eventIds.get(n) ?? `${n.label}-event-${e}`, window))
    }
    init.onProgress?.(totalMs, totalMs)
    const agents = nodes.map(n => agentFigures({ agentId: n.label, intervalMs, intervals: n.inputs }, { tolerance: p.tolerance }))
    return {
      parameters: {
        ...p,
        timeScale: p.timeScale ?? 'unpaced',
        ...(init.killNode === undefined ? {} : { killNode: `${init.killNode.agentIndex}@${init.killNode.atFraction}` }),
        ...(init.partition === undefined ? {} : { partition: `${init.partition.fromFraction}-${init.partition.toFraction}` }),
        customersTotal: p.agents * p.customers,
        transport: init.transport ?? transportOf({ customers: p.customers }),
        firstStart: new Date(firstStart).toISOString()
      },
      agents,
      summary: summarise(agents),
      wallMs: performance.now() - wallStart,
      peakRssBytes: Math.max(peakRss, process.memoryUsage.rss()),
      heapLimitBytes: getHeapStatistics().heap_size_limit
    }
  } finally {
    await Promise.allSettled(nodes.map(async n => { await n.fleet.stop() }))
    await Promise.allSettled(nodes.map(async n => { await stopNode(n) }))
    await utility.stop()
    if (init.dataDir === undefined) await rm(root, { recursive: true, force: true })
  }
}

/** Refuses a node to kill or a partition that cannot be, before any node starts. */
function checkInjection (init: Pick<SimulationInit, 'killNode' | 'partition'>, agents: number): void {
  const k = init.killNode
  if (k !== undefined) {
    if (!Number.isInteger(k.agentIndex) || k.agentIndex < 0 || k.agentIndex >= agents) throw new SimulationError(`kill-node: no agent ${k.agentIndex} (agents are 0 to ${agents - 1})`)
    if (!(k.atFraction >= 0 && k.atFraction < 1)) throw new SimulationError(`kill-node: the fraction of the event must be in [0, 1), got ${k.atFraction}`)
  }
  const part = init.partition
  if (part !== undefined && !(part.fromFraction >= 0 && part.fromFraction < part.toFraction && part.toFraction <= 1)) {
    throw new SimulationError(`partition: need 0 ≤ FROM < TO ≤ 1, got ${part.fromFraction}-${part.toFraction}`)
  }
}

/** Runs the clock until every customer of every node has reported a forecast made after `sinceMs` (and its capabilities). */
async function waitForecasts (clock: VirtualClock, nodes: SimNode[], sinceMs: number, byMs: number): Promise<void> {
  const ready = (n: SimNode): boolean => n.fleet.customers.every(c => {
    const caps = n.agent.book.get(c.venId)?.capabilities
    return caps != null && caps.forecastStartMs > sinceMs && caps.costDownPerKwh > 0
  })
  await clock.runUntil(() => nodes.every(ready), byMs, () => `customers of ${nodes.filter(n => !ready(n)).map(n => n.label).join(', ')} sent no forecast`)
}

/**
 * The utility's LOAD_DISPATCH to a node's UpstreamVen: the aggregate the node's customers forecast,
 * lowered by a share of the flexibility they declare, per interval.
 */
async function issueEvent (utility: Vtn, n: SimNode, eventID: string, window: Window, fraction: number): Promise<void> {
  const venID = n.upstream.ven.venID
  if (venID === undefined) throw new SimulationError(`${n.label} is not registered with the utility`)
  const base = new Array<number>(window.intervals).fill(0)
  const down = new Array<number>(window.intervals).fill(0)
  for (const c of n.agent.book.inMarket(marketContext)) {
    if (c.capabilities == null) continue
    onWindow(c.capabilities.baselineKw, c.capabilities, window).forEach((v, t) => { base[t] = (base[t] ?? 0) + v })
    onWindow(c.capabilities.flexDownKw, c.capabilities, window).forEach((v, t) => { down[t] = (down[t] ?? 0) + v })
  }
  await utility.createEvent({
    eventID,
    marketContext,
    dtstartMs: window.startMs,
    signals: [{
      signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'setpoint', itemBase: powerRealKw(),
      intervals: base.map((b, t) => ({ durationMs: window.intervalMs, uid: String(t), values: [b - fraction * (down[t] ?? 0)] }))
    }],
    targets: { venIDs: [venID] },
    responseRequired: 'always'
  })
}

interface WindowRun {
  eventIds: string[]
  checksPerInterval: number
  failures: FailureInit
  random: ReturnType<typeof streamFor>
  progress: (doneMs: number) => void
  sampleRss: () => void
}

/** Drives the window: customer ticks, failures at event start, adverts each interval, a node killed and the mesh cut if asked. */
async function runWindow (nodes: SimNode[], clock: VirtualClock, window: Window, run: WindowRun): Promise<void> {
  const endMs = window.startMs + window.intervals * window.intervalMs
  const tickMs = window.intervalMs / run.checksPerInterval / 4
  await clock.advanceTo(window.startMs)
  const dispatched = nodes.flatMap(n => run.eventIds.flatMap(id => n.fleet.dispatchedIds(id)))
  const plan = planFailures(run.random, run.failures, dispatched, window, nodes.length)
  for (const n of nodes) n.fleet.injectFailures(plan.customers)
  const cut = new MeshCut(nodes, plan)
  let nextAdvert = window.startMs
  // Customers act at each tick before the timers due then (their reports, the nodes' checkpoints) fire.
  for (let now = window.startMs; now < endMs + tickMs; now += tickMs) {
    await clock.advanceTo(now)
    if (plan.killNode !== undefined && now >= plan.killNode.atMs) {
      const victim = nodes[plan.killNode.agentIndex]
      if (victim?.alive === true) {
        victim.alive = false
        await stopNode(victim)
      }
    }
    await cut.update(now)
    if (now >= nextAdvert) {
      nextAdvert += window.intervalMs
      await advertiseAll(nodes, window, now, (a, b) => cut.reachable(nodes.indexOf(a), nodes.indexOf(b)))
    }
    for (const n of nodes) n.fleet.tick(now)
    run.progress(Math.min(now, endMs) - window.startMs)
    run.sampleRss()
  }
}

/**
 * Every live node gossips its spare flexibility; gossip travels in real time while the clock stands still,
 * so this waits (10 real seconds at most) until every live node holds the advert of `nowMs` of every other
 * it can reach.
 */
async function advertiseAll (nodes: SimNode[], window: Window, nowMs: number, reachable: (a: SimNode, b: SimNode) => boolean = () => true): Promise<void> {
  const meshes = nodes.flatMap(n => n.alive && n.mesh !== undefined ? [{ n, mesh: n.mesh }] : [])
  await Promise.all(meshes.map(async ({ n }) => { await advertise(n, window, nowMs) }))
  const missing = (): string[] => meshes.flatMap(({ n, mesh }) => meshes
    .filter(o => o.n !== n && reachable(o.n, n) && !mesh.adverts.adverts(marketContext, nowMs).some(a => a.peerId === o.n.agent.config.nodeId && a.issuedAtMs >= nowMs))
    .map(o => `${o.n.label} → ${n.label}`))
  const until = performance.now() + 10_000
  while (missing().length > 0) {
    if (performance.now() > until) throw new SimulationError(`adverts not delivered within 10 s: ${missing().join(', ')}`)
    await new Promise(resolve => setTimeout(resolve, 1))
  }
}

/** Runs the clock until every node has taken the utility's event and planned and sent it to its customers, or fails. */
async function waitPlanned (clock: VirtualClock, nodes: SimNode[], eventIds: Map<SimNode, string>, byMs: number): Promise<void> {
  const planned = (n: SimNode): boolean => {
    const state = n.agent.event(eventIds.get(n) ?? '')?.state ?? ''
    return state !== '' && state !== 'received' && state !== 'deciding' && (!state.startsWith('scheduled.') || state === 'scheduled.waitingStart')
  }
  await clock.runUntil(() => nodes.every(planned), byMs, () => {
    const late = nodes.filter(n => !planned(n)).map(n => `${n.label} (${n.agent.event(eventIds.get(n) ?? '')?.state ?? 'no event'})`)
    return `still planning at the event's start: ${late.join(', ')}`
  })
}

/**
 * Runs the clock until no node has a live event (covers for fellows end with the window too), at most a
 * simulated day after the window: a cover asked for late may still wait for its customers' answers.
 */
async function settle (clock: VirtualClock, nodes: SimNode[], window: Window): Promise<void> {
  const live = (): string[] => nodes.flatMap(n => n.alive ? n.agent.liveEventIds().map(id => `${n.label} ${id} (${n.agent.event(id)?.state ?? '?'})`) : [])
  const endMs = window.startMs + window.intervals * window.intervalMs + 86_400_000
  await clock.runUntil(() => live().length === 0, endMs, () => `events still live a day after their window: ${live().join(', ')}`)
}

/**
 * The node event a cover event ultimately served: a cover names the fellow's event it serves (`eventRef`),
 * which may itself be a cover that fellow forwarded (A → B → C credits A's event).
 */
function rootEvent (nodes: SimNode[], nodeId: string, eventId: string): { nodeId: string, eventId: string } {
  let at = { nodeId, eventId }
  for (let hops = 0; hops < 8; hops++) {
    const up = nodes.find(n => n.agent.config.nodeId === at.nodeId)?.agent.event(at.eventId)?.request.peer?.eventRef
    if (up === undefined) break
    at = up
  }
  return at
}

/**
 * What the utility's meter credits a node per interval: its own customers' flow less the change they made
 * on fellows' behalf, plus the change fellows' customers made on its behalf (what the fleets really did, not
 * what anyone reported).
 */
function intervalInputs (n: SimNode, nodes: SimNode[], eventId: string, window: Window): IntervalInput[] {
  const meter = n.fleet.meter()
  const summary = n.agent.event(eventId)
  const zeros = (): number[] => new Array<number>(window.intervals).fill(0)
  const forFellows = zeros()
  const byFellows = zeros()
  for (const m of nodes) {
    for (const [id, row] of m.fleet.meter().changeByEventKw) {
      if (m.agent.event(id)?.request.origin !== 'peer') continue
      const root = rootEvent(nodes, m.agent.config.nodeId, id)
      if (m === n && root.nodeId !== n.agent.config.nodeId) row.forEach((v, t) => { forFellows[t] = (forFellows[t] ?? 0) + v })
      if (m !== n && root.nodeId === n.agent.config.nodeId && root.eventId === eventId) row.forEach((v, t) => { byFellows[t] = (byFellows[t] ?? 0) + v })
    }
  }
  return Array.from({ length: window.intervals }, (_, t) => {
    const record = summary?.intervals.find(r => r.index === t)
    const setpointKw = summary?.request.amountsKw[t] ?? meter.baselineKw[t] ?? 0
    const baselineKw = meter.baselineKw[t] ?? 0
    return {
      startMs: window.startMs + t * window.intervalMs,
      setpointKw,
      baselineKw,
      reachableKw: setpointKw < baselineKw ? meter.floorKw[t] ?? baselineKw : setpointKw > baselineKw ? meter.ceilingKw[t] ?? baselineKw : baselineKw,
      ownFlowKw: (meter.flowKw[t] ?? 0) - (forFellows[t] ?? 0),
      peerDeltaKw: byFellows[t] ?? 0,
      intraActions: Math.abs(record?.intraCoveredKw ?? 0) > 1e-9 ? 1 : 0,
      interActions: Math.abs(record?.interCoveredKw ?? 0) > 1e-9 ? 1 : 0,
      cost: meter.cost[t] ?? 0
    }
  })
}
