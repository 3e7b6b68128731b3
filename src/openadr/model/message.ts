/**
 * The union of every 2.0b message (the children of oadrSignedObject), discriminated by `type`, which is the
 * element's name; and oadrPoll, which has its own service.
 */
import type { OadrCreatedEvent, OadrDistributeEvent, OadrRequestEvent, OadrResponse } from './event.js'
import type { OadrCancelOpt, OadrCanceledOpt, OadrCreatedOpt, OadrCreateOpt } from './opt.js'
import type { OadrCancelPartyRegistration, OadrCanceledPartyRegistration, OadrCreatedPartyRegistration, OadrCreatePartyRegistration, OadrQueryRegistration, OadrRequestReregistration } from './registration.js'
import type { OadrCancelReport, OadrCanceledReport, OadrCreatedReport, OadrCreateReport, OadrRegisteredReport, OadrRegisterReport, OadrUpdatedReport, OadrUpdateReport } from './report.js'

export interface OadrPoll {
  type: 'oadrPoll'
  venID: string
}

export type OadrMessage =
  | OadrQueryRegistration | OadrCreatePartyRegistration | OadrCreatedPartyRegistration
  | OadrCancelPartyRegistration | OadrCanceledPartyRegistration | OadrRequestReregistration
  | OadrRequestEvent | OadrDistributeEvent | OadrCreatedEvent | OadrResponse
  | OadrRegisterReport | OadrRegisteredReport | OadrCreateReport | OadrCreatedReport
  | OadrUpdateReport | OadrUpdatedReport | OadrCancelReport | OadrCanceledReport
  | OadrCreateOpt | OadrCreatedOpt | OadrCancelOpt | OadrCanceledOpt
  | OadrPoll

export type OadrMessageType = OadrMessage['type']

/** The message of a given type. */
export type MessageOf<T extends OadrMessageType> = Extract<OadrMessage, { type: T }>
