/**
 * EiRegisterParty messages: a VEN queries the VTN's profile, creates (or updates) its registration, and
 * either side cancels it; the VTN may ask a VEN to register again.
 */
import type { EiResponse } from './common.js'
import type { OadrServiceName } from '../transport.js'

export type OadrProfileName = '2.0a' | '2.0b'
export type OadrTransportName = 'simpleHttp' | 'xmpp'

export interface OadrQueryRegistration {
  type: 'oadrQueryRegistration'
  requestID: string
}

export interface OadrCreatePartyRegistration {
  type: 'oadrCreatePartyRegistration'
  requestID: string
  /** Present when the VEN re-registers (updates) an existing registration. */
  registrationID?: string
  venID?: string
  oadrProfileName: OadrProfileName
  oadrTransportName: OadrTransportName
  /** Where the VTN pushes to (push model). */
  oadrTransportAddress?: string
  oadrReportOnly: boolean
  oadrXmlSignature: boolean
  oadrVenName?: string
  /** True (or absent) for the pull model; false asks the VTN to push. */
  oadrHttpPullModel?: boolean
}

export interface OadrProfile {
  oadrProfileName: OadrProfileName
  oadrTransports: OadrTransportName[]
}

export interface OadrServiceInfo {
  oadrServiceName: OadrServiceName
  oadrInfo: Array<{ oadrKey: string, oadrValue: string }>
}

export interface OadrCreatedPartyRegistration {
  type: 'oadrCreatedPartyRegistration'
  eiResponse: EiResponse
  registrationID?: string
  venID?: string
  vtnID: string
  oadrProfiles: OadrProfile[]
  /** How often the VEN should poll, ms. */
  oadrRequestedOadrPollFreqMs?: number
  oadrServiceSpecificInfo?: OadrServiceInfo[]
}

export interface OadrCancelPartyRegistration {
  type: 'oadrCancelPartyRegistration'
  requestID: string
  registrationID: string
  venID?: string
}

export interface OadrCanceledPartyRegistration {
  type: 'oadrCanceledPartyRegistration'
  eiResponse: EiResponse
  registrationID?: string
  venID?: string
}

export interface OadrRequestReregistration {
  type: 'oadrRequestReregistration'
  venID: string
}
