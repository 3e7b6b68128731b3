/**
 * The simulation's nodes: each built as `adrmesh node` builds one (agent with its LevelDB store and
 * statecharts, CustomerVtn toward its customers, UpstreamVen registered with the utility VTN, with strategy
 * `full` a libp2p mesh node on 127.0.0.1 whose peer id is the node id), OpenADR over the in-process
 * transport; its fleet of customer VENs; the mesh joined through node 0; adverts of spare flexibility.
 * The customers reach their node's VTN as XML documents, or from `objectTransportFrom` customers per node
 * as decoded messages (`localMessageSender`: the same VTN and VEN code without the codec, which a large run
 * would otherwise spend most of its time in).
 */
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { generateKeyPairFromSeed, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { pino } from 'pino'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Agent } from '../node/agent.js'
import { CustomerVtn, customerVtnInitOf } from '../node/customerVtn.js'
import { UpstreamVen } from '../node/upstreamVen.js'
import { defaultConfig, type Matchmaking, type NodeConfig } from '../node/config.js'
import type { Vtn } from '../openadr/vtn/vtn.js'
import { localMessageSender, localSender } from '../openadr/local.js'
import { MeshNode } from '../p2p/meshNode.js'
import { MeshAgentPort } from '../node/meshPort.js'
import { PeerRatings } from '../node/meshRating.js'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../p2p/identity.js'
import { advertTopic } from '../p2p/constants.js'
import type { Clock } from '../util/clock.js'
import { generateCustomers, type Window } from './customers.js'
import { Fleet } from './fleet.js'
import { SimulationError } from './failures.js'
import type { IntervalInput } from './figures.js'

export interface SimNode {
  label: string
  agent: Agent
  customerVtn: CustomerVtn
  upstream: UpstreamVen
  fleet: Fleet
  mesh: MeshNode | undefined
  inputs: IntervalInput[]
  alive: boolean
}

export const marketContext = 'http://adrmesh.example/mc/sim'
/**
 * Customers send their forecast and capabilities once an hour of simulated time (at 15-min intervals): a
 * forecast carries the whole next event, and one per interval cost a large run a fifth of its CPU.
 */
export const reportEveryIntervals = 4
/**
 * Intervals between the utility's request and the event's start: the nodes plan while the clock runs, after
 * every customer has sent a forecast of the event's window (one report period after the fleet is armed).
 */
export const leadIntervals = reportEveryIntervals + 4
/** Customers per node from which the customers' OpenADR skips the codec when the run does not say. */
export const objectTransportFrom = 1_000
/** How customers' OpenADR messages reach their node's VTN: as XML documents or as decoded messages. */
export type SimTransport = 'xml' | 'objects'
const silent = pino({ level: 'silent' })

export interface NodeSetup {
  strategy: Matchmaking
  customers: number
  seed: number
  root: string
  clock: Clock
  /**
   * The clock of node i's customers (their VENs) or of the node itself (agent, VTN, upstream VEN, mesh): on
   * a virtual clock, each takes its own turn at an instant. @default clock
   */
  nodeClock?: (i: number, part: 'customers' | 'node') => Clock
  intervalMs: number
  intervals: number
  toleranceKw: number
  /** Monitoring checkpoints per interval; customers poll and report as often. */
  checksPerInterval: number
  utility: Vtn
  /** @default 'objects' from `objectTransportFrom` customers per node, else 'xml' */
  transport?: SimTransport
}

/** A node as `adrmesh node` builds it (agent, CustomerVtn, UpstreamVen, mesh), with OpenADR in process. */
export async function startNode (i: number, s: NodeSetup): Promise<SimNode> {
  const dir = join(s.root, `agent-${i}`)
  const clock = s.nodeClock?.(i, 'node') ?? s.clock
  let mesh: MeshNode | undefined
  let nodeId = `agent-${i}`
  if (s.strategy === 'full') {
    // The agent's node id is its peer id: fellows address requests, outcomes and reliabilities by it.
    await seedIdentity(join(dir, 'mesh'), s.seed, i)
    nodeId = peerIdFromPrivateKey(await loadOrCreateIdentity(join(dir, 'mesh'))).toString()
    // Requests travel in real time while the virtual clock stands still: among these trusted fellows no rate
    // limit and a long timeout, so the machine's speed decides no answer.
    mesh = new MeshNode({
      dataDir: join(dir, 'mesh'), marketContexts: [marketContext], listen: ['/ip4/127.0.0.1/tcp/0'], region: 'sim',
      requestRatePerSecond: 1e9, requestBurst: 1e9, requestTimeoutMs: 60_000
    }, { clock, log: silent })
  }
  const pollMs = s.intervalMs / s.checksPerInterval
  const config: NodeConfig = {
    ...defaultConfig,
    nodeId,
    venName: `agent-${i}`,
    dataDir: join(dir, 'node'),
    port: 0,
    logLevel: 'silent',
    matchmaking: s.strategy,
    toleranceKw: s.toleranceKw,
    checksPerInterval: s.checksPerInterval,
    customerPollMs: pollMs,
    forecastReportMs: reportEveryIntervals * s.intervalMs,
    capabilitiesReportMs: reportEveryIntervals * s.intervalMs,
    reportGraceMs: 900_000,
    timeScale: clock.timeScale
  }
  // No simulated node crashes (--kill-node stops one): what its customers report is stored by the book, in
  // bulk, not also by the VTN report by report.
  const customerVtn = new CustomerVtn({ ...customerVtnInitOf(config), storeReports: false }, { clock, logger: silent })
  const upstream = new UpstreamVen({ upstreamUrl: 'local://utility', venName: `agent-${i}`, telemetryPeriodMs: pollMs, pollFreqMs: pollMs },
    { clock, logger: silent, sender: localSender(s.utility.handler) })
  // The port `adrmesh node` gives its agent (src/node/mesh.ts): forwarding rules, fallback to the next fellow
  // when one fails or refuses, outcomes rated.
  const port = mesh === undefined ? undefined : new MeshAgentPort({}, { clock, log: silent })
  const agent = new Agent(config, { clock, customers: customerVtn, upstream, oneEventAtATime: true, ...(port !== undefined ? { port } : {}) })
  if (mesh !== undefined && port !== undefined) {
    await mesh.start()
    port.bind(agent, new PeerRatings(agent))
    port.attach({ matchmaking: mesh.port, selfId: nodeId, adverts: (mc, nowMs) => mesh.adverts.adverts(mc, nowMs) })
  }
  customerVtn.bind(agent)
  upstream.bind(agent)
  await customerVtn.start()
  await agent.start()
  await upstream.start()
  const customers = generateCustomers({ seed: s.seed, firstIndex: i * s.customers, count: s.customers, venIdPrefix: `a${i}-ven`, marketContexts: [marketContext] })
  const fleet = new Fleet({ customers, seed: s.seed, intervalMs: s.intervalMs, forecastSteps: s.intervals + leadIntervals + 3, telemetryPeriodMs: pollMs, pollFreqMs: pollMs },
    { clock: s.nodeClock?.(i, 'customers') ?? s.clock, sender: transportOf(s) === 'objects' ? localMessageSender(customerVtn.vtn.messageHandler) : localSender(customerVtn.handler) })
  return { label: `agent-${i}`, agent, customerVtn, upstream, fleet, mesh, inputs: [], alive: true }
}

export function transportOf (s: Pick<NodeSetup, 'transport' | 'customers'>): SimTransport {
  return s.transport ?? (s.customers >= objectTransportFrom ? 'objects' : 'xml')
}

/**
 * Node i's mesh key drawn from the seed (unless its store already has one): peer ids order fellows and
 * requests, so a seeded run needs the same ones every time.
 */
async function seedIdentity (dataDir: string, seed: number, i: number): Promise<void> {
  const key = await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(`adrmesh-sim:${seed}:${i}`).digest())
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, IDENTITY_FILE), privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
}

export async function stopNode (n: SimNode): Promise<void> {
  await n.upstream.stop()
  await n.agent.stop()
  await n.customerVtn.stop()
  await n.mesh?.stop()
}

/** Every node joins through node 0 and waits until it sees all the others on the advert topic. */
export async function joinMesh (nodes: SimNode[]): Promise<void> {
  const meshes = nodes.map(n => n.mesh as MeshNode)
  const bootstrap = meshes[0]?.multiaddrs[0]
  if (bootstrap === undefined) throw new SimulationError('node 0 has no mesh address')
  await Promise.all(meshes.slice(1).map(async m => { await m.libp2p.dial(bootstrap) }))
  const until = Date.now() + 30_000
  const topic = advertTopic(marketContext)
  for (;;) {
    const ready = meshes.every(m => m.libp2p.services.pubsub.getSubscribers(topic).length >= meshes.length - 1)
    if (ready) return
    if (Date.now() > until) throw new SimulationError('the mesh did not form within 30 s')
    await sleep(50)
  }
}

/** Gossips the node's spare flexibility (of customers no live event holds) for the rest of the window. */
export async function advertise (n: SimNode, window: Window, nowMs: number): Promise<void> {
  if (n.mesh === undefined || !n.alive) return
  const spare = await n.agent.spareFlexibility({ marketContext, ...window })
  await n.mesh.publishAdvert({
    marketContext, startMs: window.startMs, intervalMs: window.intervalMs, validUntilMs: Math.floor(nowMs + window.intervalMs * 2),
    flexUpKw: spare.flexUpKw, flexDownKw: spare.flexDownKw
  }).catch(() => {})
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, Math.max(0, ms)))
}
