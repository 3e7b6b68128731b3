/**
 * The setpoint rows of each live event's dispatch plan, stored apart from the event's snapshot (table
 * `snapshots`, key `plan:<eventId>\0<venId>`): a plan holds one row per dispatched customer and interval,
 * most of a snapshot's size (0.6 MB of 0.78 at 200 customers × 96 intervals, the plan once in context and
 * once in the input of the invoked actor), and an event stores its snapshot at every transition while its
 * plan changes at a re-dispatch, and then only some customers' rows. A stored snapshot holds `null` for a
 * row that is stored here; a transition writes only the rows that changed, in the same atomic batch as the
 * snapshot that refers to them, and deletes those of customers the plan no longer holds. A restored
 * snapshot gets its rows back before its actor starts. A finished event's snapshot, never restored, is
 * stored whole and its rows deleted.
 */
import type { DispatchPlan } from '../machines/drEventTypes.js'
import { Table, type Store, type StoreOp } from '../store/index.js'
import { sameSeries } from '../util/series.js'

/** A persisted event snapshot, as far as its plans go: in context and in the input (or output) of invoked actors. */
interface PersistedShape {
  status?: string
  context?: { plan?: DispatchPlan | null }
  children?: Record<string, { snapshot?: { input?: { plan?: DispatchPlan | null }, output?: { plan?: DispatchPlan | null } } }>
}

type Rows = Map<string, number[]>

export class PlanRowsError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PlanRowsError'
  }
}

const rowKey = (eventId: string, venId: string): string => `plan:${eventId}\0${venId}`

export class PlanRows {
  /** Per live event, the rows the store holds (by customer), as last committed. */
  private readonly stored = new Map<string, Rows>()

  constructor (private readonly store: Store) {}

  private get table (): Table<number[]> { return this.store.table<number[]>('snapshots') }

  /**
   * The snapshot to store for a transition and the row writes to commit with it. `committed()` must be
   * called once they are written; until then the rows count as not stored, and the next transition writes them.
   */
  split (eventId: string, persisted: unknown): { snapshot: unknown, ops: StoreOp[], committed: () => void } {
    const snap = persisted as PersistedShape
    const before = this.stored.get(eventId) ?? new Map<string, number[]>()
    if (snap.status !== 'active') {
      const ops = [...before.keys()].map(venId => this.table.delOp(rowKey(eventId, venId)))
      return { snapshot: persisted, ops, committed: () => { this.stored.delete(eventId) } }
    }
    const current = snap.context?.plan?.setpointsKw ?? {}
    const after: Rows = new Map()
    const ops: StoreOp[] = []
    for (const [venId, row] of Object.entries(current)) {
      const old = before.get(venId)
      // The plan's own array from now on, equal or not: the next transitions find it by identity.
      after.set(venId, row)
      if (old === undefined || !sameSeries(old, row)) ops.push(this.table.putOp(rowKey(eventId, venId), row))
    }
    for (const venId of before.keys()) if (!after.has(venId)) ops.push(this.table.delOp(rowKey(eventId, venId)))
    const snapshot = mapPlans(snap, plan => withoutStoredRows(plan, after))
    return { snapshot, ops, committed: () => { this.stored.set(eventId, after) } }
  }

  /** The stored snapshot with its rows back (a snapshot stored whole comes back as it is). */
  async restore (eventId: string, persisted: unknown): Promise<unknown> {
    const rows: Rows = new Map()
    for (const [key, row] of await this.table.entries(Table.prefixRange(rowKey(eventId, '')))) rows.set(key.slice(rowKey(eventId, '').length), row)
    this.stored.set(eventId, rows)
    return mapPlans(persisted as PersistedShape, plan => {
      if (!Object.values(plan.setpointsKw).includes(null as unknown as number[])) return plan
      const setpointsKw: Record<string, number[]> = {}
      for (const [venId, row] of Object.entries(plan.setpointsKw)) {
        const full = row ?? rows.get(venId)
        if (full === undefined) throw new PlanRowsError(`event ${eventId}: the stored row of ${venId} is missing`)
        setpointsKw[venId] = full
      }
      return { ...plan, setpointsKw }
    })
  }
}

/** The plan with `null` for each row equal to the stored one. */
function withoutStoredRows (plan: DispatchPlan, stored: Rows): DispatchPlan {
  const setpointsKw: Record<string, number[] | null> = {}
  for (const [venId, row] of Object.entries(plan.setpointsKw)) {
    const kept = stored.get(venId)
    setpointsKw[venId] = kept !== undefined && sameSeries(kept, row) ? null : row
  }
  return { ...plan, setpointsKw: setpointsKw as Record<string, number[]> }
}

/** A copy of the snapshot with each plan replaced by `f(plan)`; the snapshot itself is left as it is. */
function mapPlans (snap: PersistedShape, f: (plan: DispatchPlan) => DispatchPlan): unknown {
  // An input whose plan is stored as a reference to the context's (eventSnapshot.ts) holds no rows.
  const map = <T extends { plan?: DispatchPlan | null }>(holder: T | undefined): T | undefined =>
    holder?.plan?.setpointsKw == null ? holder : { ...holder, plan: f(holder.plan) }
  const children: NonNullable<PersistedShape['children']> = {}
  for (const [id, child] of Object.entries(snap.children ?? {})) {
    const s = child.snapshot
    children[id] = s === undefined ? child : { ...child, snapshot: { ...s, ...(s.input === undefined ? {} : { input: map(s.input) }), ...(s.output === undefined ? {} : { output: map(s.output) }) } }
  }
  return { ...snap, ...(snap.context === undefined ? {} : { context: map(snap.context) }), ...(snap.children === undefined ? {} : { children }) }
}
