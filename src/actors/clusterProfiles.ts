/**
 * Cluster profiles: what dispatch sees of a cluster instead of its members. Per interval the aggregate
 * baseline and flexibility envelope (sums of the members'), the mean reliability, and per direction a convex
 * marginal-cost curve: members sorted by virtual cost, cut into at most `costSteps` consecutive groups; a
 * step's cost is its members' capacity-weighted mean cost, so steps come in non-decreasing cost order and
 * using a whole step costs exactly what its members would.
 */
import type { Clustering } from './clustering.js'

/** A customer's flexibility as dispatch knows it (docs/design.md units and signs). */
export interface ClusterMemberFlex {
  baselineKw: ArrayLike<number>
  flexUpKw: ArrayLike<number>
  flexDownKw: ArrayLike<number>
  /** Currency per kWh of raising the flow above baseline. */
  costUpPerKwh: number
  /** Currency per kWh of lowering the flow below baseline. */
  costDownPerKwh: number
  /** Reliability index in [0, 1]. */
  reliability: number
}

export interface CostStep {
  costPerKwh: number
  /** Capacity of the step per interval, kW. */
  capacityKw: number[]
  /** Member indices (into the clustered list) that make up the step. */
  members: number[]
}

export interface ClusterProfile {
  cluster: number
  /** Member indices into the clustered list. */
  members: number[]
  baselineKw: number[]
  flexUpKw: number[]
  flexDownKw: number[]
  meanReliability: number
  /** Non-decreasing in cost. */
  upCostCurve: CostStep[]
  downCostCurve: CostStep[]
}

export interface ClusterProfileInit {
  /** Steps per cost curve at most (Infinity: one per member, exact merit order). @default 4 */
  costSteps?: number
}

function costCurve (members: number[], flex: readonly ClusterMemberFlex[], direction: 'up' | 'down', intervals: number,
  costSteps: number): CostStep[] {
  const costOf = (i: number): number => direction === 'up' ? (flex[i] as ClusterMemberFlex).costUpPerKwh : (flex[i] as ClusterMemberFlex).costDownPerKwh
  const sorted = [...members].sort((a, b) => costOf(a) - costOf(b) || a - b)
  const groups = Math.max(1, Math.min(costSteps, sorted.length))
  const steps: CostStep[] = []
  for (let g = 0; g < groups; g++) {
    const part = sorted.slice(Math.floor(g * sorted.length / groups), Math.floor((g + 1) * sorted.length / groups))
    const capacityKw = new Array<number>(intervals).fill(0)
    let weighted = 0; let energy = 0; let plain = 0
    for (const i of part) {
      const m = flex[i] as ClusterMemberFlex
      const series = direction === 'up' ? m.flexUpKw : m.flexDownKw
      let own = 0
      for (let t = 0; t < intervals; t++) { const kw = series[t] as number; capacityKw[t] = (capacityKw[t] as number) + kw; own += kw }
      weighted += own * costOf(i); energy += own; plain += costOf(i)
    }
    steps.push({ costPerKwh: energy > 0 ? weighted / energy : plain / part.length, capacityKw, members: part })
  }
  return steps
}

/** One profile per cluster; `flex[i]` belongs to the i-th clustered customer. */
export function clusterProfiles (clustering: Clustering, flex: readonly ClusterMemberFlex[], init: ClusterProfileInit = {}): ClusterProfile[] {
  if (flex.length !== clustering.assignment.length) {
    throw new RangeError(`${flex.length} flexibility records for ${clustering.assignment.length} clustered customers`)
  }
  const intervals = flex[0]?.baselineKw.length ?? 0
  const costSteps = init.costSteps ?? 4
  const members: number[][] = Array.from({ length: clustering.k }, () => [])
  clustering.assignment.forEach((c, i) => { (members[c] as number[]).push(i) })
  return members.map((list, cluster) => {
    const baselineKw = new Array<number>(intervals).fill(0)
    const flexUpKw = new Array<number>(intervals).fill(0)
    const flexDownKw = new Array<number>(intervals).fill(0)
    let reliability = 0
    for (const i of list) {
      const m = flex[i] as ClusterMemberFlex
      for (let t = 0; t < intervals; t++) {
        baselineKw[t] = (baselineKw[t] as number) + (m.baselineKw[t] as number)
        flexUpKw[t] = (flexUpKw[t] as number) + (m.flexUpKw[t] as number)
        flexDownKw[t] = (flexDownKw[t] as number) + (m.flexDownKw[t] as number)
      }
      reliability += m.reliability
    }
    return {
      cluster,
      members: list,
      baselineKw,
      flexUpKw,
      flexDownKw,
      meanReliability: list.length === 0 ? 0 : reliability / list.length,
      upCostCurve: list.length === 0 ? [] : costCurve(list, flex, 'up', intervals, costSteps),
      downCostCurve: list.length === 0 ? [] : costCurve(list, flex, 'down', intervals, costSteps)
    }
  })
}
