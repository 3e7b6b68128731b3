/**
 * The large fields of each live event's context, stored apart from its snapshot (table `snapshots`, key
 * `context:<eventId>\0<field>`) and written only when they change. An event stores its snapshot at every
 * transition (~3 per checkpoint), while its request and decision never change after the start, and its
 * plan (a time per customer) and measurement (a deviation per customer) once per checkpoint: stored whole,
 * they were two thirds of a snapshot (24 KB at 200 customers × 96 intervals).
 *
 * A stored snapshot holds `{ storedApart: field }` for each such field; a transition writes the fields
 * that changed, in the same atomic batch as the snapshot that refers to them. A field counts as changed
 * when it is not the object last stored: the chart's context is immutable (XState's `assign` makes a new
 * object for a field it changes and leaves the others as they were), and a field stored by an earlier
 * process (after a restart) is never the same object, so it is written again. A restored snapshot gets
 * its fields back before anything else reads it. A finished event's snapshot, never restored, is stored
 * whole and its fields deleted.
 *
 * Other records stored in the same batch may refer to these fields too (`refer`): the event's summary
 * (table `events`) holds its request, intervals and answer, and the snapshot's input its request, the same
 * objects; `resolve` puts them back.
 */
import { Table, type Store, type StoreOp } from '../store/index.js'

/** The fields stored apart: those that are large and change less often than the snapshot is stored. */
export const partFields = ['request', 'decision', 'plan', 'measurement', 'intervals'] as const
export type PartField = typeof partFields[number]

/** For each field of a record that may refer to a field stored apart, the name of that context field. */
export type ReferringFields = Record<string, PartField>

/** Stands in a stored snapshot for the context's field of that name, stored apart. */
interface StoredApart { storedApart: string }

interface SnapshotShape {
  status?: string
  context?: Record<string, unknown>
}

export class ContextPartsError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ContextPartsError'
  }
}

const partKey = (eventId: string, field: string): string => `context:${eventId}\0${field}`

export class ContextParts {
  /** Per live event, the object each field stored apart held when last committed. */
  private readonly stored = new Map<string, Map<string, unknown>>()

  constructor (private readonly store: Store) {}

  private get table (): Table<unknown> { return this.store.table<unknown>('snapshots') }

  /**
   * The snapshot to store for a transition and the field writes to commit with it. `persisted` is the
   * snapshot as the actor gave it, whose context fields are the chart's own objects (by which a change is
   * told); `toStore` is the same snapshot as it is to be stored (with its plan's rows taken out by
   * planRows.ts), whose fields are written. `committed()` must be called once they are written; until
   * then the fields count as not stored, and the next transition writes them.
   */
  split (eventId: string, persisted: unknown, toStore: unknown): Split {
    const before = this.stored.get(eventId) ?? new Map<string, unknown>()
    const snap = toStore as SnapshotShape
    const source = (persisted as SnapshotShape).context
    if (snap.status !== 'active' || snap.context === undefined || source === undefined) {
      const ops = [...before.keys()].map(field => this.table.delOp(partKey(eventId, field)))
      return { snapshot: toStore, ops, committed: () => { this.stored.delete(eventId) }, refer: record => record }
    }
    const after = new Map<string, unknown>()
    /** The fields stored as the actor holds them (not the plan, whose rows are taken out), by which other records may refer to them. */
    const referable = new Map<unknown, string>()
    const ops: StoreOp[] = []
    const context: Record<string, unknown> = { ...snap.context }
    for (const field of partFields) {
      const value = source[field]
      // A field that holds nothing yet (no plan, no measurement) stays in the snapshot.
      if (value === null || typeof value !== 'object') continue
      after.set(field, value)
      if (before.get(field) !== value) ops.push(this.table.putOp(partKey(eventId, field), snap.context[field]))
      if (snap.context[field] === value) referable.set(value, field)
      context[field] = { storedApart: field } satisfies StoredApart
    }
    for (const field of before.keys()) if (!after.has(field)) ops.push(this.table.delOp(partKey(eventId, field)))
    const refer = <R extends object>(record: R, fields: ReferringFields): R => {
      let out: Record<string, unknown> | undefined
      for (const [key, field] of Object.entries(fields)) {
        const value = (record as Record<string, unknown>)[key]
        if (value !== undefined && referable.get(value) === field) (out ??= { ...record } as Record<string, unknown>)[key] = { storedApart: field } satisfies StoredApart
      }
      return (out ?? record) as R
    }
    return { snapshot: { ...snap, context }, ops, committed: () => { this.stored.set(eventId, after) }, refer }
  }

  /** A record stored with `refer` with its fields back (one that refers to none comes back as it is). */
  async resolve<R extends object> (eventId: string, record: R, fields: ReferringFields): Promise<R> {
    const referring = Object.entries(fields).filter(([key, field]) => isStoredApart((record as Record<string, unknown>)[key], field))
    if (referring.length === 0) return record
    const parts = await this.parts(eventId)
    const out: Record<string, unknown> = { ...record } as Record<string, unknown>
    for (const [key, field] of referring) {
      if (!parts.has(field)) throw new ContextPartsError(`event ${eventId}: the stored field ${field} is missing`)
      out[key] = parts.get(field)
    }
    return out as R
  }

  /** The stored snapshot with its fields back (a snapshot stored whole comes back as it is). */
  async restore (eventId: string, stored: unknown): Promise<unknown> {
    const parts = await this.parts(eventId)
    this.stored.set(eventId, parts)
    const snap = stored as SnapshotShape
    if (snap.context === undefined) return stored
    const context: Record<string, unknown> = { ...snap.context }
    for (const [field, value] of Object.entries(snap.context)) {
      if (!isStoredApart(value, field)) continue
      if (!parts.has(field)) throw new ContextPartsError(`event ${eventId}: the stored field ${field} is missing`)
      context[field] = parts.get(field)
    }
    return { ...snap, context }
  }

  private async parts (eventId: string): Promise<Map<string, unknown>> {
    const parts = new Map<string, unknown>()
    const prefix = partKey(eventId, '')
    for (const [key, value] of await this.table.entries(Table.prefixRange(prefix))) parts.set(key.slice(prefix.length), value)
    return parts
  }
}

/** What a transition stores of its snapshot; see `ContextParts.split`. */
export interface Split {
  snapshot: unknown
  ops: StoreOp[]
  committed: () => void
  /** The record with each of `fields` that holds the object stored apart for its context field replaced by a reference to it. */
  refer: <R extends object>(record: R, fields: ReferringFields) => R
}

function isStoredApart (value: unknown, field: string): value is StoredApart {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (value as Partial<StoredApart>).storedApart === field
}
