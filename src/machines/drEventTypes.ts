/**
 * The data the DR-event statechart carries and the contracts of the actors and actions the wiring provides
 * for it. Plain TypeScript types (no OpenADR vocabulary): the wiring translates an oadrDistributeEvent, a
 * JSON API request or a fellow node's `CoverRequest` into a `DrRequest`.
 *
 * Units and signs follow docs/design.md: kW per interval, load convention, deviation = delivered − requested.
 */
import type { PeerOffer } from '../node/interMatchmaking.js'

/** Where a request came from decides how its first decision is answered (optIn/optOut, or accept/reject). */
export type EventOrigin = 'upstream' | 'peer'

export interface PeerRequestInfo {
  requestId: string
  fromPeerId: string
  /** The event on the requesting node this cover serves. @default unknown (events stored before it was kept) */
  eventRef?: { nodeId: string, eventId: string }
  /** Forwards still allowed; 0 means this node may not ask fellow nodes on this request's behalf. */
  hopLimit: number
  /** Node ids the request passed through before this node, requester first: never asked again. @default [fromPeerId] */
  path?: string[]
}

export interface DrRequest {
  eventId: string
  /** OpenADR modificationNumber; a MODIFY with a number not above the current one is ignored. */
  modificationNumber: number
  origin: EventOrigin
  marketContext: string
  startMs: number
  intervalMs: number
  /** Requested aggregate flow (setpoint) or change from baseline (delta), kW, one per interval. */
  amountsKw: number[]
  signalType: 'setpoint' | 'delta'
  peer?: PeerRequestInfo
}

/** The node's first answer: optIn/optOut upward, or accept-with-committed-amounts/reject to a fellow node. */
export interface OptDecision {
  accept: boolean
  /** What the node commits to per interval (kW, same sign as requested); zeros when declined. */
  committedKw: number[]
  reason?: string
}

export interface DispatchPlan {
  /** Setpoint per customer venID, kW per interval, for the customers chosen. */
  setpointsKw: Record<string, number[]>
  /** What the plan leaves uncovered per interval (kW, signed like a deviation). */
  uncoveredKw: number[]
  /** When each customer's setpoints last changed during the event (ms): its readings before then are stale. @default none */
  revisedAtMs?: Record<string, number>
  /** Per interval, energy of the previous interval made up in this one (kW of mean flow, + more flow). @default none */
  makeUpKw?: number[]
}

/** The customers' answers to the EiEvents sent them (their oadrCreatedEvent optType). */
export interface NotifyResult {
  optedOut: string[]
}

/** One monitoring checkpoint, measured by the wiring from the customers' reports. */
export interface Measurement {
  intervalIndex: number
  /** True at the checkpoint that closes the interval: its figures are the interval's delivered values. */
  final: boolean
  /** The checkpoint's instant (ms). @default unknown (older snapshots) */
  checkAtMs?: number
  /**
   * Aggregate flow of all the node's customers in the event's market context, dispatched or not (kW): the
   * interval's expected mean at a checkpoint inside it, its measured mean at the one that closes it.
   */
  aggregateKw: number
  /** Requested aggregate for this interval (kW), in the same terms as `aggregateKw`. */
  requestedKw: number
  /** Per dispatched customer: delivered − setpoint (kW). */
  customerDeviationsKw: Record<string, number>
  /** Dispatched customers whose report is missing past the grace period: each counts as a deviation. */
  missing: string[]
}

/** What intra matchmaking did with a deviation. */
export interface IntraResult {
  /** The plan after re-dispatch among the node's own customers. */
  plan: DispatchPlan
  /** kW covered per interval (full length, zeros where nothing changed). */
  coveredKw: number[]
  /** kW still to cover per interval, signed like a deviation. */
  residualKw: number[]
  chosen: string[]
}

/** What inter matchmaking obtained from fellow nodes. */
export interface InterResult {
  /** kW committed by peers per interval, signed like the residual they cover. */
  committedKw: number[]
  /** kW left uncovered per interval: the shortfall reported upward. */
  residualKw: number[]
  peersAsked: string[]
}

export interface IntervalRecord {
  index: number
  requestedKw: number
  /** Set by the interval's final checkpoint. */
  deliveredKw: number | null
  intraCoveredKw: number
  interCoveredKw: number
  shortfallKw: number
}

/** Effects the chart asks for as named actions; the wiring queues them until the snapshot is persisted. */
export interface OptAnswer {
  eventId: string
  modificationNumber: number
  origin: EventOrigin
  decision: OptDecision
  peer?: PeerRequestInfo
}

export interface ShortfallNotice {
  eventId: string
  intervalIndex: number
  residualKw: number[]
}

export interface FailureNotice {
  eventId: string
  stage: string
  message: string
}

export interface CompletionSummary {
  eventId: string
  origin: EventOrigin
  request: DrRequest
  intervals: IntervalRecord[]
  peer?: PeerRequestInfo
}

export interface DrEventInput {
  request: DrRequest
  /** |deviation| above this (kW) violates an invariant. @default 0.5 */
  toleranceKw?: number
  /** Monitoring checkpoints per interval, the last one closing it. @default 4 */
  checksPerInterval?: number
  /** Re-dispatches around customer opt-outs before the event starts. @default 3 */
  maxReplans?: number
}

export interface DrEventContext {
  request: DrRequest
  toleranceKw: number
  checksPerInterval: number
  maxReplans: number
  decision: OptDecision | null
  peerOffers: PeerOffer[]
  plan: DispatchPlan | null
  optedOut: string[]
  replans: number
  /** Current interval and checkpoint, and the absolute instant of that checkpoint (survives a restore). */
  intervalIndex: number
  checkIndex: number
  nextCheckMs: number
  measurement: Measurement | null
  residualKw: number[]
  intervals: IntervalRecord[]
  failure: FailureNotice | null
}

export type DrEventEvent =
  | { type: 'MODIFY', request: DrRequest }
  | { type: 'CANCEL', reason?: string }
  | { type: 'CUSTOMER_OPTED_OUT', venId: string }

/** Output of the timer actor every chart uses: resolves once the injected clock reaches `dueMs`. */
export interface WaitUntilInput { dueMs: number }
export interface WaitUntilOutput { firedAtMs: number }
