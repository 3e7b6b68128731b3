/**
 * What the dashboard needs from a node: the contract the agent implements (src/dashboard/agentView.ts
 * adapts `Agent`). Plain data only, read on demand; `subscribe` tells the dashboard that something changed
 * so it can push a fresh rendering to the browsers watching (server-sent events).
 *
 * Units and signs follow docs/design.md: kW, epoch ms, load convention.
 */
import type { EventOrigin } from '../machines/drEventTypes.js'

/** One interval of an event, requested and delivered in the same terms: the aggregate flow (kW). */
export interface IntervalView {
  index: number
  startMs: number
  /** Requested aggregate flow: the setpoint, or baseline + delta for a delta request. */
  requestedKw: number
  /** Measured aggregate flow at the interval's closing checkpoint; null until then. */
  deliveredKw: number | null
  intraCoveredKw: number
  interCoveredKw: number
  shortfallKw: number
}

export interface EventOverview {
  eventId: string
  /** The chart's state as `stateKey` writes it ('active.monitoring.waiting'). */
  state: string
  status: 'active' | 'done' | 'error' | 'stopped'
  origin: EventOrigin
  marketContext: string
  startMs: number
  intervalMs: number
  signalType: 'setpoint' | 'delta'
  intervals: IntervalView[]
  failure: string | null
  updatedAtMs: number
}

/** One audit-trail entry as the trail stores it (src/node/auditChain.ts). */
export interface AuditEntryView {
  seq: number
  timeMs: number
  /** The statechart event that caused the transition. */
  event: string
  stateBefore: string
  stateAfter: string
  decision: unknown
}

export interface EventDetail extends EventOverview {
  audit: AuditEntryView[]
  /** venIDs dispatched in the event. */
  customers: string[]
  /** Fellow nodes asked or committed for the event. */
  peers: string[]
}

/** Mean and credible interval of a reliability estimate, all in [0, 1]. */
export interface ReliabilityView { mean: number, low: number, high: number }

export interface CustomerView {
  venId: string
  venName: string
  marketContexts: string[]
  cluster: string | null
  reliability: ReliabilityView | null
  /** Newest last. */
  lastReports: Array<{ atMs: number, kw: number }>
}

export interface PeerView {
  peerId: string
  /** Advertised flexibility per interval of the advert (kW). */
  flexUpKw: number[]
  flexDownKw: number[]
  reliability: ReliabilityView | null
  lastSeenMs: number | null
}

export type DashboardChange =
  | { kind: 'event', eventId: string }
  | { kind: 'customers' }
  | { kind: 'peers' }

export interface DashboardView {
  nodeId: string
  events: () => Promise<EventOverview[]>
  event: (eventId: string) => Promise<EventDetail | undefined>
  /** The event's audit trail as the JSON lines `adrmesh audit verify` checks; undefined for an unknown event. */
  auditLines: (eventId: string) => Promise<string[] | undefined>
  customers: () => Promise<CustomerView[]>
  peers: () => Promise<PeerView[]>
  /** Calls `listener` after each change; returns the unsubscribe function. */
  subscribe: (listener: (change: DashboardChange) => void) => () => void
}
