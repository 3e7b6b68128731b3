/**
 * What an event's audit trail records of a decision that changes its dispatch plan. Intra matchmaking
 * re-dispatches a few customers at a checkpoint, yet its result holds the whole plan (a row per customer
 * and interval: ~150 KB at 200 customers × 96 intervals, hashed and stored at every intra decision). The
 * trail records such a decision with its `plan` replaced by `planChange`: the rows of the customers whose
 * setpoints changed or who joined, the customers the plan dropped, and the plan's per-interval figures.
 * The planning decision (the `planDispatch` result) is the whole plan, so the plan after any entry is that
 * plan with the changes of the entries after it applied in order (`planOfTrail`): nothing the auditor could
 * read before is lost, and the chain (auditChain.ts) hashes what is stored as before.
 */
import type { DispatchPlan } from '../machines/drEventTypes.js'
import { sameSeries } from '../util/series.js'

/** How a plan differs from the one it replaced. */
export interface PlanChange {
  /** Rows (kW per interval) of the customers whose setpoints changed, or who were not in the plan before. */
  setpointsKw: Record<string, number[]>
  /** Customers the plan held before and no longer holds. */
  removed: string[]
  uncoveredKw: number[]
  /** The customers' revision times that changed (ms); absent when the plan has none. */
  revisedAtMs?: Record<string, number>
  /** Customers whose revision time the plan no longer holds; absent when none. */
  revisionsDropped?: string[]
  makeUpKw?: number[]
}

/** The change from `before` to `after`. */
export function planChange (before: DispatchPlan, after: DispatchPlan): PlanChange {
  const setpointsKw: Record<string, number[]> = {}
  for (const [venId, row] of Object.entries(after.setpointsKw)) {
    const old = before.setpointsKw[venId]
    if (old === undefined || !sameSeries(old, row)) setpointsKw[venId] = row
  }
  const removed = Object.keys(before.setpointsKw).filter(venId => after.setpointsKw[venId] === undefined)
  const change: PlanChange = { setpointsKw, removed, uncoveredKw: after.uncoveredKw }
  if (after.revisedAtMs !== undefined) {
    const revisedAtMs: Record<string, number> = {}
    for (const [venId, atMs] of Object.entries(after.revisedAtMs)) if (before.revisedAtMs?.[venId] !== atMs) revisedAtMs[venId] = atMs
    change.revisedAtMs = revisedAtMs
  }
  const dropped = Object.keys(before.revisedAtMs ?? {}).filter(venId => after.revisedAtMs?.[venId] === undefined)
  if (dropped.length > 0) change.revisionsDropped = dropped
  if (after.makeUpKw !== undefined) change.makeUpKw = after.makeUpKw
  return change
}

/** `before` with `change` applied: the plan the change was taken from. */
export function applyPlanChange (before: DispatchPlan, change: PlanChange): DispatchPlan {
  const setpointsKw = { ...before.setpointsKw, ...change.setpointsKw }
  for (const venId of change.removed) delete setpointsKw[venId]
  const plan: DispatchPlan = { setpointsKw, uncoveredKw: change.uncoveredKw }
  if (change.revisedAtMs !== undefined) {
    const revisedAtMs = { ...before.revisedAtMs, ...change.revisedAtMs }
    for (const venId of change.revisionsDropped ?? []) delete revisedAtMs[venId]
    plan.revisedAtMs = revisedAtMs
  }
  if (change.makeUpKw !== undefined) plan.makeUpKw = change.makeUpKw
  return plan
}

/**
 * The decision as the trail records it: one that carries a `plan` replacing the event's plan `before` is
 * recorded with `planChange` instead; any other decision, or one with no plan before it, as it is.
 */
export function auditDecision (decision: unknown, before: DispatchPlan | null): unknown {
  if (before === null || decision === null || typeof decision !== 'object' || !('plan' in decision)) return decision
  const { plan, ...rest } = decision as { plan: DispatchPlan | null }
  if (plan?.setpointsKw == null) return decision
  return { ...rest, planChange: planChange(before, plan) }
}

/**
 * The event's plan after the last of `entries` (its trail, in order): the latest planning decision's plan
 * with the plan changes recorded after it applied; null before the first plan.
 */
export function planOfTrail (entries: ReadonlyArray<{ decision: unknown }>): DispatchPlan | null {
  let plan: DispatchPlan | null = null
  for (const e of entries) {
    const d = e.decision as { planChange?: PlanChange, plan?: DispatchPlan } | DispatchPlan | null
    if (d === null || typeof d !== 'object') continue
    // The planning decision is the plan itself.
    if ('setpointsKw' in d && 'uncoveredKw' in d) plan = d
    else if ('planChange' in d && d.planChange !== undefined && plan !== null) plan = applyPlanChange(plan, d.planChange)
    else if ('plan' in d && d.plan?.setpointsKw != null) plan = d.plan
  }
  return plan
}
