/**
 * EiReport messages: report metadata (oadrReportDescription), report requests (reportSpecifier), and report
 * data (intervals of oadrReportPayload). Report names include the schema's enumerations and `x-` names, used
 * here for forecasts (`x-FORECAST_USAGE`).
 */
import type { EiResponse, EiTarget, ItemBase } from './common.js'
import type { SignalInterval } from './event.js'

export const reportNames = ['METADATA_HISTORY_USAGE', 'HISTORY_USAGE', 'METADATA_HISTORY_GREENBUTTON',
  'HISTORY_GREENBUTTON', 'METADATA_TELEMETRY_USAGE', 'TELEMETRY_USAGE', 'METADATA_TELEMETRY_STATUS',
  'TELEMETRY_STATUS'] as const
export type ReportName = typeof reportNames[number] | `x-${string}`

export const reportTypes = ['reading', 'usage', 'demand', 'setPoint', 'deltaUsage', 'deltaSetPoint', 'deltaDemand',
  'baseline', 'deviation', 'avgUsage', 'avgDemand', 'operatingState', 'upRegulationCapacityAvailable',
  'downRegulationCapacityAvailable', 'regulationSetpoint', 'storedEnergy', 'targetEnergyStorage',
  'availableEnergyStorage', 'price', 'level', 'powerFactor', 'percentUsage', 'percentDemand'] as const
export type ReportType = typeof reportTypes[number] | `x-${string}`

export const readingTypes = ['Direct Read', 'Net', 'Allocated', 'Estimated', 'Summed', 'Derived', 'Mean', 'Peak',
  'Hybrid', 'Contract', 'Projected', 'x-RMS', 'x-notApplicable'] as const
export type ReadingType = typeof readingTypes[number] | `x-${string}`

export const dataQualities = ['No Quality - No Value', 'No New Value - Previous Value Used',
  'Quality Bad - Non Specific', 'Quality Bad - Configuration Error', 'Quality Bad - Not Connected',
  'Quality Bad - Device Failure', 'Quality Bad - Sensor Failure', 'Quality Bad - Last Known Value',
  'Quality Bad - Comm Failure', 'Quality Bad - Out of Service', 'Quality Uncertain - Non Specific',
  'Quality Uncertain - Last Usable Value', 'Quality Uncertain - Sensor Not Accurate',
  'Quality Uncertain - EU Units Exceeded', 'Quality Uncertain - Sub Normal', 'Quality Good - Non Specific',
  'Quality Good - Local Override', 'Quality Limit - Field/Not', 'Quality Limit - Field/Low',
  'Quality Limit - Field/High', 'Quality Limit - Field/Constant'] as const
export type DataQuality = typeof dataQualities[number] | `x-${string}`

export interface SamplingRate {
  minPeriodMs: number
  maxPeriodMs: number
  onChange: boolean
}

export interface ReportDescription {
  rID: string
  reportSubject?: EiTarget
  reportDataSource?: EiTarget
  reportType: ReportType
  itemBase?: ItemBase
  readingType: ReadingType
  marketContext?: string
  samplingRate?: SamplingRate
}

/** oadrPayloadResourceStatus: what TELEMETRY_STATUS reports carry. */
export interface ResourceStatus {
  online: boolean
  manualOverride: boolean
  loadControlState?: Partial<Record<'capacity' | 'levelOffset' | 'percentOffset' | 'setPoint',
  { min?: number, max?: number, current: number, normal?: number }>>
}

export interface ReportPayload {
  rID: string
  confidence?: number
  accuracy?: number
  /** payloadFloat value, or a resource status. */
  value: number | ResourceStatus
  dataQuality?: DataQuality
}

export interface ReportInterval {
  dtstartMs?: number
  durationMs?: number
  uid?: string
  payloads: ReportPayload[]
}

export interface OadrReport {
  dtstartMs?: number
  durationMs?: number
  intervals?: ReportInterval[]
  eiReportID?: string
  oadrReportDescriptions?: ReportDescription[]
  reportRequestID: string
  reportSpecifierID: string
  reportName?: ReportName
  createdDateTimeMs: number
}

export interface SpecifierPayload {
  rID: string
  itemBase?: ItemBase
  readingType: ReadingType
}

export interface ReportSpecifier {
  reportSpecifierID: string
  granularityMs: number
  reportBackDurationMs: number
  reportInterval?: { dtstartMs: number, durationMs: number }
  specifierPayloads: SpecifierPayload[]
}

export interface OadrReportRequest {
  reportRequestID: string
  reportSpecifier: ReportSpecifier
}

export interface OadrRegisterReport {
  type: 'oadrRegisterReport'
  requestID: string
  oadrReports: OadrReport[]
  venID?: string
  reportRequestID?: string
}

export interface OadrRegisteredReport {
  type: 'oadrRegisteredReport'
  eiResponse: EiResponse
  oadrReportRequests: OadrReportRequest[]
  venID?: string
}

export interface OadrCreateReport {
  type: 'oadrCreateReport'
  requestID: string
  oadrReportRequests: OadrReportRequest[]
  venID?: string
}

export interface OadrCreatedReport {
  type: 'oadrCreatedReport'
  eiResponse: EiResponse
  oadrPendingReports: string[]
  venID?: string
}

export interface OadrUpdateReport {
  type: 'oadrUpdateReport'
  requestID: string
  oadrReports: OadrReport[]
  venID?: string
}

export interface OadrUpdatedReport {
  type: 'oadrUpdatedReport'
  eiResponse: EiResponse
  oadrCancelReport?: Omit<OadrCancelReport, 'type'>
  venID?: string
}

export interface OadrCancelReport {
  type: 'oadrCancelReport'
  requestID: string
  reportRequestIDs: string[]
  reportToFollow: boolean
  venID?: string
}

export interface OadrCanceledReport {
  type: 'oadrCanceledReport'
  eiResponse: EiResponse
  oadrPendingReports: string[]
  venID?: string
}

export type { SignalInterval }
