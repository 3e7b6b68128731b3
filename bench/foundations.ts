/**
 * `npm run bench -- foundations [--json]`: the node's durable foundations on real LevelDB files in a temp
 * dir: store batches, scheduler fires (two writes each) and restart load, audit appends and verification,
 * ledger reservations against many overlapping events, worker-pool round trip, and the main thread's
 * timer lag while a 500 ms solve runs in a worker versus on the main thread.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../src/store/index.js'
import { Scheduler } from '../src/node/scheduler.js'
import { AuditTrail } from '../src/node/audit.js'
import { verifyTrail } from '../src/node/auditChain.js'
import { loadOrCreateNodeKey } from '../src/node/nodeKey.js'
import { ReservationLedger, type LedgerWindow } from '../src/node/ledger.js'
import { WorkerPool } from '../src/node/workerPool.js'
import { ManualClock } from '../src/util/clock.js'

type Report = (name: string, figures: Record<string, number>, text: string) => void

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

async function timed (fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** Largest lateness of a 5 ms interval timer while `work` runs. */
async function maxTimerLagMs (work: () => Promise<unknown>): Promise<number> {
  let last = performance.now()
  let lag = 0
  const timer = setInterval(() => {
    const now = performance.now()
    lag = Math.max(lag, now - last - 5)
    last = now
  }, 5)
  await work()
  await new Promise(resolve => setTimeout(resolve, 10))
  clearInterval(timer)
  return lag
}

async function storeAndScheduler (dir: string, report: Report): Promise<void> {
  const n = 2_000
  const store = new Store({ dataDir: join(dir, 'sched') })
  await store.start()
  const reports = store.table<number>('reports')
  const batchMs = await timed(async () => { for (let i = 0; i < n; i++) await store.batch([reports.putOp(`r${i}`, i)]) })
  report('store-batch', { ops: n, perSecond: Math.round(n / batchMs * 1000) },
    `store: ${n} one-op batches in ${batchMs.toFixed(0)} ms (${(n / batchMs * 1000).toFixed(0)}/s)`)

  const clock = new ManualClock(0)
  const scheduler = new Scheduler({}, { store, clock })
  let fired = 0
  scheduler.on('tick', fire => { fired++; return [reports.putOp(fire.fireKey, 1)] })
  await scheduler.start()
  for (let i = 0; i < n; i++) await scheduler.schedule({ id: `t${i}`, kind: 'tick', dueMs: i })
  clock.set(n)
  const fireMs = await timed(async () => { await scheduler.runDue() })
  await scheduler.stop()
  report('scheduler-fire', { timers: n, fired, perSecond: Math.round(fired / fireMs * 1000), ratioToBatch: Number((fireMs / batchMs).toFixed(2)) },
    `scheduler: ${fired} overdue timers fired (mark + effect batch each) in ${fireMs.toFixed(0)} ms ` +
    `(${(fired / fireMs * 1000).toFixed(0)}/s; ${(fireMs / batchMs).toFixed(2)}× the one-op batches)`)

  const pending = 10_000
  await store.batch(Array.from({ length: pending }, (_, i) => store.table('timers').putOp(`p${i}`,
    { id: `p${i}`, kind: 'later', dueMs: 1e12 + i, payload: { eventId: `E${i % 50}` }, attempts: 0 })))
  await store.stop()
  await store.start()
  const restarted = new Scheduler({}, { store, clock })
  const loadMs = await timed(async () => { await restarted.start() })
  await restarted.stop()
  report('scheduler-restart', { pending, ms: Number(loadMs.toFixed(1)) },
    `scheduler restart: ${pending} pending timers loaded and armed in ${loadMs.toFixed(1)} ms`)
  await store.stop()
}

async function audit (dir: string, report: Report): Promise<void> {
  const n = 2_000
  const store = new Store({ dataDir: join(dir, 'audit') })
  await store.start()
  const key = await loadOrCreateNodeKey(join(dir, 'audit'))
  const trail = new AuditTrail({ store, clock: new ManualClock(0), key })
  const decision = { setpointsKw: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`ven-${i}`, -1.5])), deviationKw: 0.4 }
  const appendMs = await timed(async () => {
    for (let i = 0; i < n; i++) await trail.append('E1', { event: 'interval.tick', stateBefore: 'a', stateAfter: 'b', decision })
  })
  let lines: string[] = []
  const exportMs = await timed(async () => { lines = await trail.export('E1') })
  const verifyMs = await timed(async () => { verifyTrail(lines) })
  report('audit', { entries: n, appendPerSecond: Math.round(n / appendMs * 1000), exportMs: Number(exportMs.toFixed(1)), verifyMs: Number(verifyMs.toFixed(1)) },
    `audit: ${n} appends (20-customer decision) in ${appendMs.toFixed(0)} ms (${(n / appendMs * 1000).toFixed(0)}/s); ` +
    `export ${exportMs.toFixed(1)} ms, verify ${verifyMs.toFixed(1)} ms`)
  await trail.stop()
  await store.stop()
}

async function ledger (dir: string, report: Report): Promise<void> {
  const store = new Store({ dataDir: join(dir, 'ledger') })
  await store.start()
  const intervals = 24
  const customers = 200
  const l = new ReservationLedger({
    store,
    clock: new ManualClock(0),
    capabilities: (_id, w) => ({ flexUpKw: new Array<number>(w.intervals).fill(100), flexDownKw: new Array<number>(w.intervals).fill(100) })
  })
  await l.start()
  const times: number[] = []
  for (let e = 0; e < 20; e++) {
    const window: LedgerWindow = { startMs: e * 450_000, intervalMs: 900_000, intervals }
    const requests = Array.from({ length: customers }, (_, c) => ({
      customerId: `c${c}`, window, upKw: new Array<number>(intervals).fill(0), downKw: new Array<number>(intervals).fill(1)
    }))
    times.push(await timed(async () => await l.reserve(`event:E${e}`, requests)))
  }
  report('ledger-reserve', { customers, intervals, overlappingEvents: 20, medianMs: Number(median(times).toFixed(1)), lastMs: Number((times.at(-1) ?? 0).toFixed(1)) },
    `ledger: reserve ${customers} customers × ${intervals} intervals, 20 overlapping events: median ${median(times).toFixed(1)} ms, ` +
    `20th event ${(times.at(-1) ?? 0).toFixed(1)} ms`)
  await l.stop()
  await store.stop()
}

async function workers (report: Report): Promise<void> {
  const pool = new WorkerPool({ size: 1, registry: new URL('./_foundationsTasks.js', import.meta.url) })
  await pool.start()
  for (let i = 0; i < 50; i++) await pool.run('echo', i)
  const trips: number[] = []
  for (let i = 0; i < 500; i++) trips.push(await timed(async () => await pool.run('echo', { i, kw: [1, 2, 3] })))
  const inWorker = await maxTimerLagMs(async () => await pool.run('spin', 500))
  const onMain = await maxTimerLagMs(async () => {
    const end = performance.now() + 500
    while (performance.now() < end);
  })
  await pool.stop()
  report('worker-pool', { roundTripP50Us: Math.round(median(trips) * 1000), lagInWorkerMs: Number(inWorker.toFixed(1)), lagOnMainMs: Number(onMain.toFixed(1)) },
    `worker pool: round trip p50 ${(median(trips) * 1000).toFixed(0)} µs; 5 ms timer's worst lag during a 500 ms solve: ` +
    `${inWorker.toFixed(1)} ms in a worker vs ${onMain.toFixed(1)} ms on the main thread (${(onMain / Math.max(inWorker, 0.1)).toFixed(0)}×)`)
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const report: Report = (name, figures, text) => { console.log(json ? JSON.stringify({ case: name, ...figures }) : text) }
  const dir = await mkdtemp(join(tmpdir(), 'adrmesh-bench-foundations-'))
  try {
    await storeAndScheduler(dir, report)
    await audit(dir, report)
    await ledger(dir, report)
    await workers(report)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
