/**
 * `npm run bench -- simulate [--json] [--agents N] [--customers A,B] [--intervals N] [--checks N] [--transport objects|xml]
 * [--child-flags "FLAGS"] [--heap-samples N]`:
 * the simulator's cost per customer-interval (one customer for one interval of simulated time: its polls,
 * reports and the node's work for it), measured on seeded runs of the real system (src/sim/run.ts), each in
 * its own child process so that its peak RSS is its own. Two sizes (default 1 node × 100 and × 200
 * customers, 96 intervals, 2 checks per interval, strategy full, object transport) give the cost per
 * customer-interval and its growth with the customers per node; the largest size projects issue 6's target
 * run (20 nodes × 5,000 customers × 96 intervals of 15 min: ≤ 10 min wall, ≤ 24 GiB), with its ratio to 10 min.
 * The projection is linear in customer-intervals: growth > 1 between the sizes says it is optimistic. It
 * holds only at the target's 96 intervals: a customer's forecast spans the event, and its dispatch, eiEvent
 * and plan have one value per interval, so the cost per customer-interval and the memory per customer grow
 * with the intervals (1 × 1,000 × 4 costs 0.7 ms per customer-interval; 1 × 500 × 96, 1.8 ms and 1.3 MiB a customer).
 * CPU time (the child's own) is the figure to read on a busy machine; wall time shows how busy it was. The
 * projection gives both: CPU on one core, and wall time at the measured run's parallelism (on a quiet machine a
 * run keeps ~1.4 cores busy: its LevelDB and GC threads beside the main thread), which is what the target's
 * 10 minutes on this machine's 2 cores are judged by when nothing else runs.
 * The children run with `--max-semi-space-size=32` unless `--child-flags` says otherwise (`""` for Node's
 * defaults): a run allocates short-lived objects per report, and a young generation of 32 MiB instead of
 * the default 16 MiB halves the scavenges (measured: 12 % less CPU at 1 × 2,000 × 8).
 *
 * Memory is measured two ways. The peak RSS is what the target is judged by (24 GiB of the machine), but at
 * these sizes it is mostly heap V8 has not collected yet. The live heap is what the run holds: the child
 * (always started with `--expose-gc`) runs a full collection at the end of the event's span, where the run
 * holds the most (its plans, readings and audit trail have grown all event), and reads `heapUsed`; the CPU
 * of that collection is left out of the CPU figure. `--heap-samples N` collects at every N-th of the span
 * instead and keeps the largest, but collections lower the peak RSS they run before (at 1 × 200 × 96, ten
 * gave 364 MiB where one gave 490 and none 481; the largest live heap was the last sample's). Both are
 * projected to the target the same way (the growth per customer between the two sizes); the live heap's
 * projection is the floor the peak RSS could be brought to, not a figure the target is judged by.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { simulate } from '../src/sim/run.js'
import { leadIntervals, type SimTransport } from '../src/sim/nodes.js'
import { simulateYoungGenerationFlag } from '../src/sim/simProcess.js'

interface Case { agents: number, customers: number, intervals: number, checks: number, transport: SimTransport, childFlags: string[], heapSamples: number }

interface Measured extends Case {
  case: string
  /** Customers × intervals of simulated time they were active (lead, event and tail). */
  customerIntervals: number
  wallS: number
  cpuS: number
  cpuUsPerCustomerInterval: number
  wallUsPerCustomerInterval: number
  peakRssMiB: number
  /** The heap in use after a full collection at the end of the event (the largest over `heapSamples` samples) (MiB). */
  liveHeapMiB: number
  /** CPU of the full collections that sampled the live heap, left out of cpuS (s). */
  heapSampleCpuS: number
  withinTolerance: number
}

const target = { agents: 20, customers: 5_000, intervals: 96, wallLimitS: 600, rssLimitMiB: 24 * 1024 }

function option (argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  return i === -1 ? undefined : argv[i + 1]
}

/** In the child: one seeded run, one JSON line on stdout. */
async function runCase (c: Case): Promise<void> {
  let readyAtMs = 0
  let clockNow = (): number => 0
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('the bench child needs --expose-gc')
  let liveHeapBytes = 0
  let sampleCpuUs = 0
  let sampled = 0
  const sampleHeap = (): void => {
    const before = process.cpuUsage()
    gc()
    liveHeapBytes = Math.max(liveHeapBytes, process.memoryUsage().heapUsed)
    const spent = process.cpuUsage(before)
    sampleCpuUs += spent.user + spent.system
  }
  const cpu = process.cpuUsage()
  const result = await simulate({
    agents: c.agents, customers: c.customers, intervals: c.intervals, checksPerInterval: c.checks, transport: c.transport,
    seed: 1, strategy: 'full', failureRate: 0.25,
    onReady: (_agents, parts) => { clockNow = () => parts.clock.now(); readyAtMs = parts.clock.now() },
    onProgress: (doneMs, totalMs) => {
      while (sampled < c.heapSamples && doneMs >= totalMs * (sampled + 1) / c.heapSamples) {
        sampled++
        sampleHeap()
      }
    }
  })
  const used = process.cpuUsage(cpu)
  const intervalMs = 900_000
  const spanIntervals = (clockNow() - readyAtMs) / intervalMs
  console.log(JSON.stringify({
    spanIntervals, wallMs: result.wallMs, cpuMs: (used.user + used.system - sampleCpuUs) / 1000, peakRssBytes: result.peakRssBytes,
    liveHeapBytes, heapSampleCpuMs: sampleCpuUs / 1000, withinTolerance: result.summary.withinTolerance
  }))
}

async function measure (c: Case): Promise<Measured> {
  const here = fileURLToPath(new URL('./index.js', import.meta.url))
  const child = spawn(process.execPath, [...process.execArgv, ...c.childFlags, '--expose-gc', here, 'simulate', '--child', JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  const line = out.trim().split('\n').at(-1)
  if (code !== 0 || line === undefined) throw new Error(`case ${JSON.stringify(c)} exited with ${code}`)
  const r = JSON.parse(line) as { spanIntervals: number, wallMs: number, cpuMs: number, peakRssBytes: number, liveHeapBytes: number, heapSampleCpuMs: number, withinTolerance: number }
  const customerIntervals = c.agents * c.customers * r.spanIntervals
  return {
    case: `${c.agents}x${c.customers}x${c.intervals}@${c.checks}/${c.transport}`,
    ...c,
    customerIntervals,
    wallS: r.wallMs / 1000,
    cpuS: r.cpuMs / 1000,
    cpuUsPerCustomerInterval: r.cpuMs * 1000 / customerIntervals,
    wallUsPerCustomerInterval: r.wallMs * 1000 / customerIntervals,
    peakRssMiB: r.peakRssBytes / 2 ** 20,
    liveHeapMiB: r.liveHeapBytes / 2 ** 20,
    heapSampleCpuS: r.heapSampleCpuMs / 1000,
    withinTolerance: r.withinTolerance
  }
}

export async function run (argv: string[]): Promise<void> {
  const child = option(argv, '--child')
  if (child !== undefined) {
    await runCase(JSON.parse(child) as Case)
    return
  }
  const json = argv.includes('--json')
  const sizes = (option(argv, '--customers') ?? '100,200').split(',').map(Number)
  const base = {
    agents: Number(option(argv, '--agents') ?? 1),
    intervals: Number(option(argv, '--intervals') ?? 96),
    checks: Number(option(argv, '--checks') ?? 2),
    transport: (option(argv, '--transport') ?? 'objects') as SimTransport,
    childFlags: (option(argv, '--child-flags') ?? simulateYoungGenerationFlag).split(' ').filter(f => f !== ''),
    heapSamples: Number(option(argv, '--heap-samples') ?? 1)
  }
  const results: Measured[] = []
  for (const customers of sizes) {
    const m = await measure({ ...base, customers })
    results.push(m)
    if (json) console.log(JSON.stringify(m))
    else console.log(`${m.case.padEnd(24)} ${m.customerIntervals.toFixed(0).padStart(8)} customer-intervals  cpu ${m.cpuS.toFixed(1)} s (${m.cpuUsPerCustomerInterval.toFixed(0)} µs each)  wall ${m.wallS.toFixed(1)} s (${m.wallUsPerCustomerInterval.toFixed(0)} µs each)  peak RSS ${m.peakRssMiB.toFixed(0)} MiB  live heap ${m.liveHeapMiB.toFixed(0)} MiB (${m.heapSampleCpuS.toFixed(1)} s CPU of collections left out)  within ${(100 * m.withinTolerance).toFixed(1)} %`)
  }
  const small = results[0] as Measured
  const large = results.at(-1) as Measured
  // The target's customers are active over its event plus the same lead and tail as the measured runs.
  const tail = large.customerIntervals / (large.agents * large.customers) - large.intervals
  const targetCustomerIntervals = target.agents * target.customers * (target.intervals + tail)
  const projectedS = large.cpuUsPerCustomerInterval * targetCustomerIntervals / 1e6
  // The target is wall time on this machine's 2 cores: a run's LevelDB and GC threads work beside its main thread.
  const projectedWallS = large.wallUsPerCustomerInterval * targetCustomerIntervals / 1e6
  // Memory per customer from the difference between the sizes (what a process holds regardless of its
  // customers cancels out), or from the one size alone.
  const project = (of: (m: Measured) => number): number => {
    const perCustomerMiB = results.length > 1 && large.customers > small.customers
      ? (of(large) - of(small)) / (large.agents * large.customers - small.agents * small.customers)
      : of(large) / (large.agents * large.customers)
    return of(large) + perCustomerMiB * (target.agents * target.customers - large.agents * large.customers)
  }
  const projectedRssMiB = project(m => m.peakRssMiB)
  const projectedLiveHeapMiB = project(m => m.liveHeapMiB)
  const projection = {
    case: 'projection',
    from: large.case,
    targetCustomerIntervals,
    growthPerCustomerInterval: large.cpuUsPerCustomerInterval / small.cpuUsPerCustomerInterval,
    projectedCpuS: projectedS,
    ratioTo10Min: projectedS / target.wallLimitS,
    projectedWallS,
    wallRatioTo10Min: projectedWallS / target.wallLimitS,
    neededUsPerCustomerInterval: target.wallLimitS * 1e6 / targetCustomerIntervals,
    projectedPeakRssMiB: projectedRssMiB,
    ratioTo24GiB: projectedRssMiB / target.rssLimitMiB,
    projectedLiveHeapMiB,
    liveHeapRatioTo24GiB: projectedLiveHeapMiB / target.rssLimitMiB
  }
  if (json) {
    console.log(JSON.stringify(projection))
    return
  }
  console.log(`growth of the cost per customer-interval from ${small.case} to ${large.case}: ×${projection.growthPerCustomerInterval.toFixed(2)} (1 = linear)`)
  console.log(`target ${target.agents}x${target.customers}x${target.intervals} (${(targetCustomerIntervals / 1e6).toFixed(2)} M customer-intervals, leadIntervals ${leadIntervals}):` +
    ` projected ${(projectedS / 60).toFixed(0)} min of CPU on one core = ${projection.ratioTo10Min.toFixed(1)}× the 10 min (needs ${projection.neededUsPerCustomerInterval.toFixed(0)} µs per customer-interval),` +
    ` ${(projectedWallS / 60).toFixed(0)} min of wall time at this run's parallelism = ${projection.wallRatioTo10Min.toFixed(1)}×,` +
    ` peak RSS ${(projectedRssMiB / 1024).toFixed(1)} GiB = ${projection.ratioTo24GiB.toFixed(2)}× 24 GiB (what the target is judged by);` +
    ` live heap ${(projectedLiveHeapMiB / 1024).toFixed(1)} GiB = ${projection.liveHeapRatioTo24GiB.toFixed(2)}× 24 GiB (what the run holds: the floor for the peak RSS)`)
}
