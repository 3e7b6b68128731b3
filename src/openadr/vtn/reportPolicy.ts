/**
 * Which offered reports a VTN requests by default: every telemetry report (METADATA_TELEMETRY_USAGE and
 * METADATA_TELEMETRY_STATUS), all its data points, sampled at the report's minimum sampling period and sent
 * back at that same period.
 */
import type { OadrReport, OadrReportRequest } from '../model/report.js'

/** Sampling period when a description gives none. */
const defaultGranularityMs = 60_000

export function requestTelemetry (offered: OadrReport[], newId: () => string): OadrReportRequest[] {
  return offered
    .filter(r => r.reportName === 'METADATA_TELEMETRY_USAGE' || r.reportName === 'METADATA_TELEMETRY_STATUS')
    .filter(r => (r.oadrReportDescriptions ?? []).length > 0)
    .map(r => {
      const descriptions = r.oadrReportDescriptions ?? []
      const granularityMs = Math.max(...descriptions.map(d => d.samplingRate?.minPeriodMs ?? defaultGranularityMs))
      return {
        reportRequestID: newId(),
        reportSpecifier: {
          reportSpecifierID: r.reportSpecifierID,
          granularityMs,
          reportBackDurationMs: granularityMs,
          specifierPayloads: descriptions.map(d => ({ rID: d.rID, readingType: d.readingType, ...(d.itemBase === undefined ? {} : { itemBase: d.itemBase }) }))
        }
      }
    })
}
