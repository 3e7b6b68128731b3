/**
 * Child process of `bench/mesh.ts`: one mesh node alone in its process, driven over the IPC channel (start,
 * publish an advertisement, time cover requests to given peers, report its memory, stop). Reports every advertisement
 * it receives with its arrival time, so the parent computes reach-all latency across processes.
 */
import '../src/util/polyfills.js'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getHeapSpaceStatistics } from 'node:v8'
import { MeshNode } from '../src/p2p/meshNode.js'
import { HeapCollector } from '../src/p2p/nodeProcess.js'
import { pino } from 'pino'

export type ChildCommand =
  | { type: 'start', bootstrap: string[], marketContext: string }
  | { type: 'status' }
  | { type: 'publish', round: number }
  | { type: 'rtt', targets: string[], count: number }
  | { type: 'memory' }
  | { type: 'cpu' }
  | { type: 'stop' }

export type ChildEvent =
  | { type: 'started', peerId: string, addr: string }
  | { type: 'status', subscribers: number, peers: number }
  | { type: 'published', atMs: number }
  | { type: 'advert', round: number, from: string, atMs: number }
  | { type: 'rtt', ms: number[] }
  | { type: 'memory', memory: MemoryBreakdown }
  | { type: 'cpu', micros: number }
  /** A command failed: the parent fails the wait for its answer instead of waiting forever. */
  | { type: 'error', command: ChildCommand['type'], message: string }

/** Where a process's resident memory goes, in MB (the /proc figures only on Linux). */
export interface MemoryBreakdown {
  rss: number
  /** V8's heap (committed), of which `heapUsed` is live or not yet collected. */
  heapTotal: number
  heapUsed: number
  /** Memory of Buffers and other C++ objects tied to JS objects. */
  external: number
  /** Committed size of each V8 heap space that holds anything (new, old, code, large objects…). */
  spaces: Record<string, number>
  /** Private anonymous pages: the V8 heap, malloc, thread stacks. */
  anonymous?: number
  /** Clean pages shared with other processes: the node binary and libraries, counted whole in each process's RSS. */
  sharedClean?: number
}

export function memoryBreakdown (): MemoryBreakdown {
  const mb = (bytes: number): number => Number((bytes / 1048576).toFixed(1))
  const m = process.memoryUsage()
  const spaces = Object.fromEntries(getHeapSpaceStatistics().filter(s => s.space_size > 0).map(s => [s.space_name.replace(/_space$/, ''), mb(s.space_size)]))
  const out: MemoryBreakdown = { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), spaces }
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8')
    const kB = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN) * 1024
    out.anonymous = mb(kB('Anonymous'))
    out.sharedClean = mb(kB('Shared_Clean'))
  } catch { /* not Linux: the process.memoryUsage figures only */ }
  return out
}

/** Wall-clock ms with sub-millisecond resolution, comparable across processes of one host. */
export function preciseNowMs (): number {
  return performance.timeOrigin + performance.now()
}

const SLOT_MS = 15 * 60_000
let node: MeshNode | undefined
/** As in `adrmesh node` (active with the node process flags the bench gives its children by default). */
const heap = new HeapCollector()
let dataDir: string | undefined
let marketContext = ''

function send (event: ChildEvent): void { process.send?.(event) }

async function handle (cmd: ChildCommand): Promise<void> {
  switch (cmd.type) {
    case 'start': {
      marketContext = cmd.marketContext
      dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-bench-'))
      node = new MeshNode({ dataDir, marketContexts: [marketContext], listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: cmd.bootstrap, requestRatePerSecond: 1000, requestBurst: 1000 },
        { log: pino({ level: 'error' }) })
      await node.start()
      heap.start()
      node.adverts.onAdvert(a => { send({ type: 'advert', round: a.flexUpKw[0] ?? -1, from: a.peerId, atMs: preciseNowMs() }) })
      node.port.onCoverRequest(async req => ({ requestId: req.requestId, peerId: '', accepted: true, committedKw: req.amountsKw }))
      send({ type: 'started', peerId: node.peerId.toString(), addr: node.multiaddrs[0]!.toString() })
      return
    }
    case 'status': {
      const n = node!
      send({ type: 'status', subscribers: n.port.knownPeers(marketContext).length, peers: n.libp2p.getPeers().length })
      return
    }
    case 'publish': {
      const atMs = preciseNowMs()
      await node!.publishAdvert(advertContent(marketContext, cmd.round, Date.now()))
      send({ type: 'published', atMs })
      return
    }
    case 'rtt': {
      send({ type: 'rtt', ms: await timeCoverRequests(node!, cmd.targets, cmd.count, marketContext) })
      return
    }
    case 'memory': {
      send({ type: 'memory', memory: memoryBreakdown() })
      return
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage()
      send({ type: 'cpu', micros: user + system })
      return
    }
    case 'stop': {
      heap.stop()
      await node?.stop()
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
      process.exit(0)
    }
  }
}

export function advertContent (marketContext: string, round: number, nowMs: number): { marketContext: string, validUntilMs: number, startMs: number, intervalMs: number, flexUpKw: number[], flexDownKw: number[] } {
  const startMs = Math.floor(nowMs / SLOT_MS) * SLOT_MS
  return { marketContext, validUntilMs: nowMs + 3_600_000, startMs, intervalMs: SLOT_MS, flexUpKw: [round, ...Array(23).fill(5)], flexDownKw: Array(24).fill(5) }
}

/** One warm-up request per target (dial), then `count` timed requests round-robin over the targets. */
export async function timeCoverRequests (node: MeshNode, targets: string[], count: number, marketContext: string): Promise<number[]> {
  const self = node.peerId.toString()
  const request = (i: number): Parameters<MeshNode['port']['requestCover']>[1] => ({
    requestId: `${self}-${i}`, eventRef: { nodeId: self, eventId: 'bench' }, marketContext, startMs: Date.now() + SLOT_MS,
    intervalMs: SLOT_MS, amountsKw: Array(24).fill(-1), signalType: 'delta', deadlineMs: Date.now() + 60_000, hopLimit: 0, path: [self]
  })
  for (const [i, t] of targets.entries()) await node.port.requestCover(t, request(-1 - i))
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    await node.port.requestCover(targets[i % targets.length]!, request(i))
    ms.push(performance.now() - t0)
  }
  return ms
}

if (process.send !== undefined && process.argv[1]?.endsWith('_meshNode.js') === true) {
  process.on('message', (cmd: ChildCommand) => {
    handle(cmd).catch((err: Error) => { send({ type: 'error', command: cmd.type, message: err.message }) })
  })
  process.on('disconnect', () => { void node?.stop().finally(() => process.exit(0)) })
}
