/**
 * `npm run bench -- dispatch [--quick] [--json] [--milp-reference-intervals N]`: the dispatch solvers
 * against HiGHS on the same model, side by side. LP: merit order at 10,000 customers × 96 intervals.
 * MILP (p_min per customer and interval): the cluster-profile MILP at 1,000 × 96 (time only), and against
 * HiGHS (0.1 % gap or 120 s) at 1,000 customers × N intervals, N small enough for HiGHS to finish
 * (default 8: the full 1,000 × 96 MILP did not finish in 15 minutes here). `--quick` shrinks every case.
 */
import { dispatchByClusterMilp } from '../src/actors/dispatch/clusterMilp.js'
import { dispatchWithHighs } from '../src/actors/dispatch/highsModel.js'
import { dispatchByMeritOrder } from '../src/actors/dispatch/meritOrder.js'
import { syntheticProblem } from '../src/actors/dispatch/syntheticProblem.js'
import type { DispatchPlan, DispatchProblem } from '../src/actors/dispatch/problem.js'

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

async function versusHighs (name: string, problem: DispatchProblem, solve: () => DispatchPlan, runs: number, note: (s: string) => void): Promise<CaseResult> {
  const { plan, ms } = timed(solve, runs)
  const started = performance.now()
  const reference = await dispatchWithHighs(problem, { mipRelGap: 0.001, timeLimitS: 120 })
  const referenceMs = performance.now() - started
  note(`  ${name}: HiGHS status ${reference.status}, final MIP gap ${reference.mipGap.toExponential(2)}`)
  return {
    case: name,
    customers: problem.customers,
    intervals: problem.intervals,
    ms,
    referenceMs,
    objective: plan.cost.total,
    referenceObjective: reference.objective,
    relGap: (plan.cost.total - reference.objective) / Math.abs(reference.objective)
  }
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const quick = argv.includes('--quick')
  const refIndex = argv.indexOf('--milp-reference-intervals')
  const milpRefIntervals = refIndex >= 0 ? Number(argv[refIndex + 1]) : (quick ? 4 : 8)
  const notes: string[] = []
  const note = (s: string): void => { notes.push(s) }
  const results: CaseResult[] = []
  const lpSize = quick ? { customers: 2000, intervals: 96 } : { customers: 10_000, intervals: 96 }
  const milpSize = quick ? { customers: 200, intervals: 96 } : { customers: 1000, intervals: 96 }

  const lp = syntheticProblem({ ...lpSize, seed: 1 })
  results.push(await versusHighs('lp-merit-order', lp, () => dispatchByMeritOrder(lp), 5, note))

  const milpFull = syntheticProblem({ ...milpSize, seed: 2, minActivationShare: 0.3, clusters: 8 })
  const full = timed(() => dispatchByClusterMilp(milpFull), 3)
  results.push({ case: 'milp-cluster-full', ...milpSize, ms: full.ms, referenceMs: null, objective: full.plan.cost.total, referenceObjective: null, relGap: null })

  const milp = syntheticProblem({ customers: milpSize.customers, intervals: milpRefIntervals, seed: 2, minActivationShare: 0.3, clusters: 8 })
  results.push(await versusHighs('milp-cluster', milp, () => dispatchByClusterMilp(milp), 3, note))
  results.push(await versusHighs('milp-cluster-profiles-only', milp, () => dispatchByClusterMilp(milp, { customerPass: false }), 3, note))

  if (json) {
    for (const r of results) console.log(JSON.stringify(r))
    return
  }
  console.log('dispatch vs HiGHS (same model, same objective; relGap = (ours − HiGHS) / |HiGHS|)')
  for (const r of results) {
    const ratio = r.referenceMs === null ? '' : `  ×${(r.referenceMs / r.ms).toFixed(1)} faster`
    const ref = r.referenceMs === null ? 'HiGHS not run' : `HiGHS ${r.referenceMs.toFixed(0)} ms, objective ${r.referenceObjective?.toFixed(6)}`
    const gap = r.relGap === null ? '' : `  relGap ${r.relGap.toExponential(2)}`
    console.log(`${r.case.padEnd(28)} ${String(r.customers).padStart(6)} × ${String(r.intervals).padEnd(3)} ${r.ms.toFixed(1).padStart(8)} ms, objective ${r.objective.toFixed(6)} | ${ref}${ratio}${gap}`)
  }
  for (const n of notes) console.log(n)
}
