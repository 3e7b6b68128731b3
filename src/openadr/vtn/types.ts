/**
 * The VTN's records and its options, injected parts and notifications. Records are plain JSON so they
 * persist as they are.
 */
import type { Clock } from '../../util/clock.js'
import type { AnySender } from '../transport.js'
import type { EiEvent, OptType, ResponseRequired } from '../model/event.js'
import type { OadrCreateOpt } from '../model/opt.js'
import type { OadrReport, OadrReportRequest } from '../model/report.js'
import type { OadrTransportName } from '../model/registration.js'

export interface VenRegistration {
  venID: string
  registrationID: string
  venName?: string
  /** Where to push (push model only). */
  transportAddress?: string
  /** False when the VEN asked to be pushed to. */
  httpPullModel: boolean
  reportOnly: boolean
  xmlSignature: boolean
  /** The certificate fingerprint the VEN registered with; later messages for this venID must come with it. */
  fingerprint?: string
  registeredAtMs: number
}

/** Who an event is for: listed VENs and every VEN of the listed groups. */
export interface EventTargets {
  venIDs?: string[]
  groupIDs?: string[]
}

export interface VtnEventRecord {
  /** The event as last modified; its eventStatus is recomputed from the clock whenever it is sent. */
  event: EiEvent
  targets: EventTargets
  responseRequired: ResponseRequired
  cancelled: boolean
}

/** A VEN's oadrCreatedEvent answer for one event. */
export interface EventResponseRecord {
  venID: string
  eventID: string
  modificationNumber: number
  optType: OptType
  responseCode: string
  receivedAtMs: number
}

export interface ReportRequestRecord {
  venID: string
  request: OadrReportRequest
  /** The VEN confirmed it (oadrCreatedReport lists it as pending). */
  confirmed: boolean
  cancelled: boolean
}

export interface StoredReport {
  venID: string
  receivedAtMs: number
  report: OadrReport
}

export interface OptRecord {
  venID: string
  opt: OadrCreateOpt
  receivedAtMs: number
}

export interface VtnInit {
  /** This VTN's vtnID. */
  vtnID: string
  /**
   * LevelDB directory; registrations, events, reports and opts survive a restart there.
   * @default undefined (nothing persisted)
   */
  dataDir?: string
  /**
   * Poll period asked of pull-model VENs (oadrRequestedOadrPollFreq).
   * @default 10_000
   */
  pollFreqMs?: number
  /**
   * An event is `near` this long before its start (or within its ramp-up, if longer).
   * @default 900_000
   */
  nearWindowMs?: number
  /**
   * Transports listed in oadrProfiles (registration answers).
   * @default ['simpleHttp']
   */
  transports?: OadrTransportName[]
  /**
   * Which of a VEN's offered reports to request when it registers them (oadrRegisteredReport). The
   * default asks every METADATA_TELEMETRY_* report at its minimum sampling period.
   * @default requestTelemetry
   */
  requestReports?: (venID: string, offered: OadrReport[]) => OadrReportRequest[]
  /**
   * Store each received report (before its oadrUpdatedReport), to be read back with `readReports`. Without,
   * reports are only handed on (the `report` event): for an owner that keeps what they say itself.
   * @default true
   */
  storeReports?: boolean
}

export interface VtnComponents {
  /** @default systemClock */
  clock?: Clock
  /**
   * How to reach a push-model VEN at its oadrTransportAddress (a MessageSender skips the codec). Without it,
   * push VENs are served by polling only.
   */
  senderFor?: (transportAddress: string) => AnySender
  /** New IDs (registrationID, requestID, eventID, reportRequestID). @default crypto.randomUUID */
  newId?: () => string
}

/** What the VTN tells its host, as `vtn.on(name, listener)`. */
export interface VtnEvents {
  registered: [registration: VenRegistration]
  deregistered: [venID: string]
  eventResponse: [response: EventResponseRecord]
  reportsOffered: [venID: string, reports: OadrReport[]]
  reportRequestConfirmed: [venID: string, reportRequestIDs: string[]]
  report: [report: StoredReport]
  opt: [opt: OptRecord]
  optCancelled: [venID: string, optID: string]
  /** A push to a VEN failed; the message stays queued for its next poll or request. */
  pushFailed: [venID: string, error: Error]
}
