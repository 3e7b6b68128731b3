/**
 * Building and changing DR events for the host program: `NewEvent` is what the host says (market
 * context, start, signals, targets); `buildEvent` makes the eiEvent, `changeEvent` a modification with the
 * next modificationNumber. The event's duration defaults to the span of its longest signal.
 */
import type { EiEvent, EventBaseline, EventSignal, ResponseRequired } from '../model/event.js'
import type { EiTarget } from '../model/common.js'
import { InvalidDataError } from '../errors.js'
import type { EventTargets } from './types.js'

export interface NewEvent {
  /** @default a new UUID */
  eventID?: string
  marketContext: string
  dtstartMs: number
  /** @default the span of the longest signal (sum of its interval durations) */
  durationMs?: number
  signals: EventSignal[]
  /** The VENs (and groups) that receive the event. */
  targets: EventTargets
  /** @default venID/groupID lists from `targets` */
  eiTarget?: EiTarget
  baseline?: EventBaseline
  priority?: number
  testEvent?: boolean
  vtnComment?: string
  /** @default 'always' */
  responseRequired?: ResponseRequired
  startAfterMs?: number
  notificationMs?: number
  rampUpMs?: number
  recoveryMs?: number
}

export interface EventChange {
  signals?: EventSignal[]
  dtstartMs?: number
  durationMs?: number
  targets?: EventTargets
  priority?: number
  vtnComment?: string
  /** modificationReason */
  reason?: string
}

function signalSpanMs (signals: EventSignal[]): number {
  let span = 0
  for (const s of signals) {
    let sum = 0
    for (const i of s.intervals) sum += i.durationMs ?? 0
    span = Math.max(span, sum)
  }
  return span
}

function checkSignals (signals: EventSignal[]): void {
  if (signals.length === 0) throw new InvalidDataError('an event needs at least one signal')
  for (const s of signals) if (s.intervals.length === 0) throw new InvalidDataError(`signal ${s.signalID} has no intervals`)
}

function targetOf (targets: EventTargets): EiTarget {
  const t: EiTarget = {}
  if (targets.groupIDs !== undefined && targets.groupIDs.length > 0) t.groupID = targets.groupIDs
  if (targets.venIDs !== undefined && targets.venIDs.length > 0) t.venID = targets.venIDs
  return t
}

export function buildEvent (init: NewEvent & { eventID: string }, nowMs: number): EiEvent {
  checkSignals(init.signals)
  const p = init
  const event: EiEvent = {
    eventDescriptor: {
      eventID: init.eventID,
      modificationNumber: 0,
      ...(init.priority === undefined ? {} : { priority: init.priority }),
      marketContext: init.marketContext,
      createdDateTimeMs: nowMs,
      eventStatus: 'none',
      testEvent: init.testEvent === true ? 'true' : 'false',
      ...(init.vtnComment === undefined ? {} : { vtnComment: init.vtnComment })
    },
    eiActivePeriod: {
      dtstartMs: p.dtstartMs,
      durationMs: p.durationMs ?? signalSpanMs(p.signals),
      ...(p.startAfterMs === undefined ? {} : { startAfterMs: p.startAfterMs }),
      ...(p.notificationMs === undefined ? {} : { notificationMs: p.notificationMs }),
      ...(p.rampUpMs === undefined ? {} : { rampUpMs: p.rampUpMs }),
      ...(p.recoveryMs === undefined ? {} : { recoveryMs: p.recoveryMs })
    },
    eiEventSignals: init.signals,
    eiTarget: init.eiTarget ?? targetOf(init.targets)
  }
  if (init.baseline !== undefined) event.eiEventBaseline = init.baseline
  return event
}

export function changeEvent (event: EiEvent, change: EventChange, nowMs: number): EiEvent {
  if (change.signals !== undefined) checkSignals(change.signals)
  const d = event.eventDescriptor
  const signals = change.signals ?? event.eiEventSignals
  return {
    ...event,
    eventDescriptor: {
      ...d,
      modificationNumber: d.modificationNumber + 1,
      modificationDateTimeMs: nowMs,
      ...(change.reason === undefined ? {} : { modificationReason: change.reason }),
      ...(change.priority === undefined ? {} : { priority: change.priority }),
      ...(change.vtnComment === undefined ? {} : { vtnComment: change.vtnComment })
    },
    eiActivePeriod: {
      ...event.eiActivePeriod,
      ...(change.dtstartMs === undefined ? {} : { dtstartMs: change.dtstartMs }),
      ...(change.durationMs === undefined ? (change.signals === undefined ? {} : { durationMs: signalSpanMs(signals) }) : { durationMs: change.durationMs })
    },
    eiEventSignals: signals,
    eiTarget: change.targets === undefined ? event.eiTarget : targetOf(change.targets)
  }
}
