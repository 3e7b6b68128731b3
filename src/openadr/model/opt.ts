/**
 * EiOpt messages: a VEN's opt schedule (availability windows in or out, optionally for one event) and its
 * cancellation.
 */
import type { EiResponse, EiTarget } from './common.js'
import type { OptType } from './event.js'

export const optReasons = ['economic', 'emergency', 'mustRun', 'notParticipating', 'outageRunStatus', 'overrideStatus',
  'participating', 'x-schedule'] as const
export type OptReason = typeof optReasons[number] | `x-${string}`

export interface OadrCreateOpt {
  type: 'oadrCreateOpt'
  optID: string
  optType: OptType
  optReason: OptReason
  marketContext?: string
  venID: string
  /** xcal:vavailability: the windows the opt applies to. */
  availability?: Array<{ dtstartMs: number, durationMs: number }>
  createdDateTimeMs: number
  requestID: string
  qualifiedEventID?: { eventID: string, modificationNumber: number }
  eiTarget: EiTarget
  oadrDeviceClass?: EiTarget
}

export interface OadrCreatedOpt {
  type: 'oadrCreatedOpt'
  eiResponse: EiResponse
  optID: string
}

export interface OadrCancelOpt {
  type: 'oadrCancelOpt'
  requestID: string
  optID: string
  venID: string
}

export interface OadrCanceledOpt {
  type: 'oadrCanceledOpt'
  eiResponse: EiResponse
  optID?: string
}
