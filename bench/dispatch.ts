/**
 * `npm run bench -- dispatch [--quick] [--json] [--milp-reference-intervals N]`: the dispatch solvers
 * against HiGHS on the same model, side by side. LP: merit order at 10,000 customers × 96 intervals.
 * MILP (p_min per customer and interval): the cluster-profile MILP at 1,000 × 96 (time only), and against
 * HiGHS (0.1 % gap or 120 s) at 1,000 customers × N intervals, N the largest HiGHS solves within 120 s
 * here (see MILP_REFERENCE_INTERVALS: 1,000 × 24 solved to optimality in 44 s, 1,000 × 32 stopped at the
 * 120 s limit with a 62 % gap; the full 1,000 × 96 MILP did not finish in 15 minutes).
 * HiGHS runs in a worker thread (bench/_highsReference.ts) that is terminated when it overruns its time
 * limit by KILL_GRACE_MS: its own `time_limit` was not honoured under load. `--quick` shrinks every case.
 */
import { Worker } from 'node:worker_threads'
import { dispatchByClusterMilp } from '../src/actors/dispatch/clusterMilp.js'
import { dispatchByMeritOrder } from '../src/actors/dispatch/meritOrder.js'
import { syntheticProblem, type SyntheticProblemInit } from '../src/actors/dispatch/syntheticProblem.js'
import type { DispatchPlan } from '../src/actors/dispatch/problem.js'
import type { HighsReferenceJob, HighsReferenceReply } from './_highsReference.js'

/** Intervals of the 1,000-customer MILP compared with HiGHS: the largest it solved within 120 s here. */
const MILP_REFERENCE_INTERVALS = 24
const HIGHS_LIMIT_S = 120
const KILL_GRACE_MS = 5_000

interface CaseResult {
  case: string
  customers: number
  intervals: number
  ms: number
  referenceMs: number | null
  objective: number
  referenceObjective: number | null
  relGap: number | null
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

function timed (solve: () => DispatchPlan, runs: number): { plan: DispatchPlan, ms: number } {
  let plan = solve()
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const started = performance.now()
    plan = solve()
    times.push(performance.now() - started)
  }
  return { plan, ms: median(times) }
}

type Reference = (HighsReferenceReply & { killed: false }) | { killed: true, ms: number }

/** HiGHS on the same seeded problem in a worker, terminated if it overruns its time limit. */
async function highsReference (problem: SyntheticProblemInit): Promise<Reference> {
  const job: HighsReferenceJob = { problem, highs: { mipRelGap: 0.001, timeLimitS: HIGHS_LIMIT_S } }
  const worker = new Worker(new URL('./_highsReference.js', import.meta.url), { workerData: job })
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<Reference>((resolve, reject) => {
    timer = setTimeout(() => { resolve({ killed: true, ms: performance.now() - started }) }, HIGHS_LIMIT_S * 1000 + KILL_GRACE_MS)
    worker.once('message', (reply: HighsReferenceReply) => { resolve({ ...reply, killed: false }) })
    worker.once('error', reject)
    worker.once('exit', code => { reject(new Error(`HiGHS worker exited with code ${code} before answering`)) })
  })
  try {
    return await promise
  } finally {
    clearTimeout(timer)
    await worker.terminate()
  }
}

async function versusHighs (name: string, init: SyntheticProblemInit, solve: () => DispatchPlan, runs: number, note: (s: string) => void,
  known?: Reference): Promise<{ result: CaseResult, reference: Reference }> {
  const { plan, ms } = timed(solve, runs)
  const reference = known ?? await highsReference(init)
  const base = { case: name, customers: init.customers, intervals: init.intervals, ms }
  if (reference.killed) {
    note(`  ${name}: HiGHS did not stop at its ${HIGHS_LIMIT_S} s time limit; terminated after ${(reference.ms / 1000).toFixed(0)} s, no reference`)
    return { result: { ...base, referenceMs: null, objective: plan.cost.total, referenceObjective: null, relGap: null }, reference }
  }
  const endedBy = reference.status !== 'optimal'
    ? `${reference.status} at ${HIGHS_LIMIT_S} s`
    : reference.mipGap > 1e-9 ? 'its 0.1 % MIP gap' : 'optimality'
  note(`  ${name}: HiGHS stopped at ${endedBy}, final MIP gap ${reference.mipGap.toExponential(2)}`)
  const result = {
    ...base,
    referenceMs: reference.ms,
    objective: plan.cost.total,
    referenceObjective: reference.objective,
    relGap: (plan.cost.total - reference.objective) / Math.abs(reference.objective)
  }
  return { result, reference }
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const quick = argv.includes('--quick')
  const refIndex = argv.indexOf('--milp-reference-intervals')
  const milpRefIntervals = refIndex >= 0 ? Number(argv[refIndex + 1]) : (quick ? 4 : MILP_REFERENCE_INTERVALS)
  const notes: string[] = []
  const note = (s: string): void => { notes.push(s) }
  const results: CaseResult[] = []
  const lpSize = quick ? { customers: 2000, intervals: 96 } : { customers: 10_000, intervals: 96 }
  const milpSize = quick ? { customers: 200, intervals: 96 } : { customers: 1000, intervals: 96 }

  const lpInit = { ...lpSize, seed: 1 }
  const lp = syntheticProblem(lpInit)
  results.push((await versusHighs('lp-merit-order', lpInit, () => dispatchByMeritOrder(lp), 5, note)).result)

  const milpFull = syntheticProblem({ ...milpSize, seed: 2, minActivationShare: 0.3, clusters: 8 })
  const full = timed(() => dispatchByClusterMilp(milpFull), 3)
  results.push({ case: 'milp-cluster-full', ...milpSize, ms: full.ms, referenceMs: null, objective: full.plan.cost.total, referenceObjective: null, relGap: null })

  const milpInit = { customers: milpSize.customers, intervals: milpRefIntervals, seed: 2, minActivationShare: 0.3, clusters: 8 }
  const milp = syntheticProblem(milpInit)
  if (refIndex < 0 && !quick) {
    note(`  MILP compared with HiGHS at ${milpInit.customers} × ${milpRefIntervals}, not ${milpSize.customers} × ${milpSize.intervals}: ` +
      `${milpRefIntervals} intervals is the largest HiGHS solved within ${HIGHS_LIMIT_S} s here`)
  }
  const withPass = await versusHighs('milp-cluster', milpInit, () => dispatchByClusterMilp(milp), 3, note)
  results.push(withPass.result)
  results.push((await versusHighs('milp-cluster-profiles-only', milpInit, () => dispatchByClusterMilp(milp, { customerPass: false }), 3, note,
    withPass.reference)).result)

  if (json) {
    for (const r of results) console.log(JSON.stringify(r))
    return
  }
  console.log('dispatch vs HiGHS (same model, same objective; relGap = (ours − HiGHS) / |HiGHS|)')
  for (const r of results) {
    const ratio = r.referenceMs === null ? '' : `  ×${(r.referenceMs / r.ms).toFixed(1)} faster`
    const ref = r.referenceMs === null ? 'no HiGHS reference' : `HiGHS ${r.referenceMs.toFixed(0)} ms, objective ${r.referenceObjective?.toFixed(6)}`
    const gap = r.relGap === null ? '' : `  relGap ${r.relGap.toExponential(2)}`
    console.log(`${r.case.padEnd(28)} ${String(r.customers).padStart(6)} × ${String(r.intervals).padEnd(3)} ${r.ms.toFixed(1).padStart(8)} ms, objective ${r.objective.toFixed(6)} | ${ref}${ratio}${gap}`)
  }
  for (const n of notes) console.log(n)
}
