/**
 * Chooses the solver for a dispatch problem: batteries couple intervals, so HiGHS; minimum activation
 * needs binaries, so the cluster-profile MILP; otherwise the pure LP, solved exactly by merit order.
 */
import { dispatchByClusterMilp } from './clusterMilp.js'
import type { ClusterMilpInit } from './clusterMilp.js'
import { dispatchWithHighs } from './highsModel.js'
import type { HighsDispatchInit } from './highsModel.js'
import { dispatchByMeritOrder } from './meritOrder.js'
import type { DispatchPlan, DispatchProblem } from './problem.js'

export interface DispatchInit {
  clusterMilp?: ClusterMilpInit
  highs?: HighsDispatchInit
}

export async function dispatch (problem: DispatchProblem, init: DispatchInit = {}): Promise<DispatchPlan> {
  if ((problem.batteries?.length ?? 0) > 0) return (await dispatchWithHighs(problem, init.highs)).plan
  if (hasMinimumActivation(problem)) return dispatchByClusterMilp(problem, init.clusterMilp)
  return dispatchByMeritOrder(problem)
}

function hasMinimumActivation (problem: DispatchProblem): boolean {
  const min = problem.minActivationKw
  return min !== undefined && min.some(v => v > 0)
}
