/** The VEN client's options, injected parts and notifications. */
import type { Clock } from '../../util/clock.js'
import type { AnySender } from '../transport.js'
import type { EiEvent, OptType } from '../model/event.js'
import type { OadrReport, OadrReportRequest, ResourceStatus } from '../model/report.js'
import type { OadrTransportName } from '../model/registration.js'

export interface VenInit {
  /** oadrVenName. */
  venName: string
  /**
   * A venID given out of band (e.g. bound to the VEN's certificate); otherwise the VTN assigns one.
   * @default undefined
   */
  venID?: string
  /**
   * Poll (true) or be pushed to (false, needs `transportAddress`).
   * @default true
   */
  httpPullModel?: boolean
  /**
   * oadrTransportName in the registration.
   * @default 'simpleHttp'
   */
  transportName?: OadrTransportName
  /** Where the VTN pushes to (oadrTransportAddress), push model only. */
  transportAddress?: string
  /** @default false */
  reportOnly?: boolean
  /** @default false */
  xmlSignature?: boolean
  /**
   * Reports this VEN offers (oadrRegisterReport): METADATA_… reports with their descriptions.
   * @default []
   */
  reports?: OadrReport[]
  /**
   * Poll period when the VTN does not ask for one.
   * @default 10_000
   */
  defaultPollFreqMs?: number
}

/** One data point of a report for the interval [startMs, endMs); undefined leaves it out. */
export type ReadReport = (rID: string, startMs: number, endMs: number, request: OadrReportRequest) => number | ResourceStatus | undefined

/**
 * A data point's values ahead of a report sent at `endMs` (a forecast: readingType `Projected`), one per
 * step of the request's granularity: value k covers [endMs + k·stepMs, endMs + (k+1)·stepMs) and goes in
 * the report as an interval of its own, beside the other projected data points' values for that step.
 * undefined: the data point is a reading of the period that ends at `endMs`, asked of `readReport`.
 */
export type ReadProjection = (rID: string, endMs: number, stepMs: number, request: OadrReportRequest) => readonly number[] | undefined

export interface VenComponents {
  /** Carries this VEN's requests to its VTN (a MessageSender skips the codec). */
  sender: AnySender
  /** @default systemClock */
  clock?: Clock
  /** optIn or optOut of an event (new or modified). @default always optIn */
  decideOpt?: (event: EiEvent) => OptType | Promise<OptType>
  /** Values for the reports the VTN requested. @default no values (reports are sent empty) */
  readReport?: ReadReport
  /** Values ahead (forecasts) for the reports the VTN requested; asked first. @default none: every data point is read with readReport */
  readProjection?: ReadProjection
  /** @default crypto.randomUUID */
  newId?: () => string
}

/** What the VEN tells its host, as `ven.on(name, listener)`. */
export interface VenEvents {
  registered: [venID: string, registrationID: string]
  /** A new or modified event, and this VEN's answer to it. */
  event: [event: EiEvent, optType: OptType]
  /** An event the VTN no longer lists. */
  eventRemoved: [eventID: string]
  reportRequested: [request: OadrReportRequest]
  reportCancelled: [reportRequestID: string]
  reportSent: [report: OadrReport]
  deregistered: []
  /** Something failed in the background (a poll, a report); the VEN keeps going. Not thrown without a listener. */
  error: [error: Error]
}
