/**
 * Turns XState inspection events into transition records for the audit trail: one record per transition
 * taken by the inspected root actor (eventless ones included), with the state before and after and the
 * event that caused it. Children (the invoked promise and timer actors) are left out: their results reach
 * the trail as the `xstate.done.actor.*` events of the transitions they cause.
 */
import type { AnyEventObject, InspectionEvent, StateValue } from 'xstate'

export interface TransitionRecord {
  /** The event that caused the transition (`xstate.done.actor.<id>` for an invoked actor's result). */
  event: AnyEventObject
  from: string
  to: string
  /** The transitions taken, as 'source → target' state-node ids ('drEvent.received → drEvent.deciding'). */
  transitions: string[]
  /** The actor's status after the transition ('done' once a final state is reached). */
  status: 'active' | 'done' | 'error' | 'stopped'
}

/** 'active.monitoring.waiting', or 'registered.{reports.reporting,participation.idle}' for parallel states. */
export function stateKey (value: StateValue): string {
  if (typeof value === 'string') return value
  const entries = Object.entries(value)
  const parts = entries.map(([k, v]) => v === undefined ? k : `${k}.${stateKey(v)}`)
  if (parts.length === 1) return parts[0] ?? ''
  return `{${parts.join(',')}}`
}

interface MachineSnapshotLike { value?: StateValue, status?: TransitionRecord['status'] }

/**
 * An `inspect` callback for `createActor(machine, { inspect })`. `initialFrom` is the state the actor
 * resumes from when restored from a snapshot (so the first record after a restore has the right `from`).
 */
export function transitionRecorder (onTransition: (record: TransitionRecord) => void, initialFrom = '(none)'):
(event: InspectionEvent) => void {
  let previous = initialFrom
  let seen = false
  return (inspection) => {
    if (inspection.actorRef.sessionId !== inspection.rootId) return
    // Initialisation reports its eventless microsteps first; a chart without any is recorded by its init snapshot.
    const isInit = inspection.type === '@xstate.snapshot' && inspection.event.type === 'xstate.init' && !seen
    if (inspection.type !== '@xstate.microstep' && !isInit) return
    seen = true
    const snapshot = inspection.snapshot as MachineSnapshotLike
    if (snapshot.value === undefined) return
    const to = stateKey(snapshot.value)
    const transitions = inspection.type === '@xstate.microstep'
      ? inspection._transitions.map(t => `${t.source.id} → ${(t.target ?? []).map(n => n.id).join(',') || t.source.id}`)
      : []
    onTransition({ event: inspection.event, from: previous, to, transitions, status: snapshot.status ?? 'active' })
    previous = to
  }
}
