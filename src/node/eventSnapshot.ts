/**
 * An event actor's snapshot as the agent stores it: what `actor.getPersistedSnapshot()` gives, made at
 * less cost and stored at less size, and back. An event stores its snapshot at every transition, and
 * most of it grows with the customers: the plan (a setpoint row per customer, kept apart by planRows.ts,
 * and when it changed, the time per customer) and the checkpoint's measurement (a deviation per
 * customer), each once in the context and once more in the input of the actor invoked on them. An
 * input field that is the context's own field (the same object) is stored as a reference to it and put
 * back from the context on restore.
 */
import type { SnapshotFrom } from 'xstate'
import { drEventMachine } from '../machines/drEvent.js'
import type { DrEventContext } from '../machines/drEventTypes.js'

type EventSnapshot = SnapshotFrom<typeof drEventMachine>

/** Stands for the context's field of that name in an invoked actor's stored input. */
interface ContextField { contextField: string }

interface StoredShape {
  context?: Record<string, unknown>
  children?: Record<string, { snapshot?: { input?: unknown } }>
}

/**
 * The snapshot to store. XState's own walk of the context for actor references, which a plan never
 * holds, is spared the plan's setpoint rows (3.4 ms a transition at 1,000 customers × 24 intervals): the
 * rows are handed to it empty and put back in its copy of the context.
 */
export function persistedEvent (snap: EventSnapshot): unknown {
  const plan = snap.context.plan
  const persisted = (plan === null
    ? drEventMachine.getPersistedSnapshot(snap)
    : drEventMachine.getPersistedSnapshot({ ...snap, context: { ...snap.context, plan: { ...plan, setpointsKw: {} } } })) as unknown as StoredShape & { context: DrEventContext }
  const context = plan === null ? persisted.context : { ...persisted.context, plan }
  return { ...persisted, context, ...mapInputs(persisted.children, input => referToContext(input, context as unknown as Record<string, unknown>)) }
}

/** The stored snapshot with its invoked actors' inputs whole again, as the actor restores it. */
export function restoredEvent (stored: unknown): unknown {
  const s = stored as StoredShape
  const context = s.context ?? {}
  return { ...s, ...mapInputs(s.children, input => fromContext(input, context)) }
}

/** The children with each input mapped by `f`, as a field to spread (none without children). */
function mapInputs (children: StoredShape['children'], f: (input: Record<string, unknown>) => Record<string, unknown>): Pick<StoredShape, 'children'> {
  if (children === undefined) return {}
  const out: NonNullable<StoredShape['children']> = {}
  for (const [id, child] of Object.entries(children)) {
    const input = child.snapshot?.input
    out[id] = input === null || typeof input !== 'object' || Array.isArray(input) ? child : { ...child, snapshot: { ...child.snapshot, input: f(input as Record<string, unknown>) } }
  }
  return { children: out }
}

function referToContext (input: Record<string, unknown>, context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    out[key] = value !== null && typeof value === 'object' && context[key] === value ? { contextField: key } satisfies ContextField : value
  }
  return out
}

function fromContext (input: Record<string, unknown>, context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) out[key] = isContextField(value, key) ? context[key] : value
  return out
}

function isContextField (value: unknown, key: string): value is ContextField {
  if (value === null || typeof value !== 'object') return false
  const keys = Object.keys(value)
  return keys.length === 1 && (value as Partial<ContextField>).contextField === key
}
