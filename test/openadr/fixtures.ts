/** Shared fixtures of the OpenADR tests. */
import { powerRealKw } from '../../src/openadr/model/index.js'
import type { OadrReport } from '../../src/openadr/model/index.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)

/** A VEN's TELEMETRY_USAGE offer: one power data point sampled every minute. */
export const telemetryOffer: OadrReport = {
  durationMs: 60 * minute,
  oadrReportDescriptions: [{
    rID: 'site-power', reportType: 'usage', itemBase: powerRealKw(), readingType: 'Direct Read',
    samplingRate: { minPeriodMs: minute, maxPeriodMs: 60 * minute, onChange: false }
  }],
  reportRequestID: '0',
  reportSpecifierID: 'telemetry-usage',
  reportName: 'METADATA_TELEMETRY_USAGE',
  createdDateTimeMs: t0
}
