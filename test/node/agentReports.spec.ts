import assert from 'node:assert/strict'
import { encodePayload, decodePayload } from '../../src/openadr/codec/index.js'
import {
  capabilitiesOf, customerReportOffer, forecastSpecifierID, offeredMarketContexts, parseCustomerReport, ReportFormatError,
  requestCustomerReports, telemetrySpecifierID, capabilitiesSpecifierID
} from '../../src/node/reportNames.js'
import { requestOfEvent, UpstreamEventError } from '../../src/node/upstreamVen.js'
import type { OadrReport } from '../../src/openadr/model/report.js'
import type { EiEvent } from '../../src/openadr/model/event.js'
import { assertSchemaValid } from '../helpers/xsd.js'

const offer = customerReportOffer({
  marketContexts: ['http://mc/a', 'http://mc/b'], telemetryPeriodMs: 60_000, forecastStepMs: 900_000, capabilitiesPeriodMs: 3_600_000
})

/** A forecast report as a customer VEN sends it: one interval per step from `startMs`, one payload per series. */
function forecastReport (startMs: number, steps: Array<Record<string, number>>, stepMs = 900_000): OadrReport {
  return {
    ...report(forecastSpecifierID, steps.map((values, k) => ({
      dtstartMs: startMs + k * stepMs, durationMs: stepMs, payloads: Object.entries(values).map(([rID, value]) => ({ rID, value }))
    }))),
    dtstartMs: startMs,
    durationMs: steps.length * stepMs,
    reportName: 'x-ADRMESH_FORECAST'
  }
}

function report (reportSpecifierID: string, intervals: OadrReport['intervals']): OadrReport {
  return { reportSpecifierID, reportRequestID: 'rr-1', createdDateTimeMs: 1_000_000, dtstartMs: 0, durationMs: 900_000, ...(intervals === undefined ? {} : { intervals }) }
}

describe('customer reports (docs/openadr-reports.md)', () => {
  it('the offered METADATA reports and the data reports are schema-valid 2.0b and round-trip through the codec', async () => {
    const register = encodePayload({ type: 'oadrRegisterReport', requestID: 'r1', oadrReports: offer.map(r => ({ ...r, createdDateTimeMs: 1_700_000_000_000 })), venID: 'ven-1' })
    const update = encodePayload({
      type: 'oadrUpdateReport', requestID: 'r2', venID: 'ven-1',
      oadrReports: [forecastReport(1_700_000_900_000, [{ baselineKw: 5, flexUpKw: 1, flexDownKw: 2 }, { baselineKw: 5.5, flexUpKw: 1, flexDownKw: 2.5 }])]
    })
    await assertSchemaValid([register, update])
    const sent = decodePayload(update)
    assert.ok(sent.type === 'oadrUpdateReport')
    assert.deepEqual(parseCustomerReport(sent.oadrReports[0] as OadrReport), {
      kind: 'forecast', startMs: 1_700_000_900_000, stepMs: 900_000, series: { baselineKw: [5, 5.5], flexUpKw: [1, 1], flexDownKw: [2, 2.5] }
    })
    const back = decodePayload(register)
    assert.equal(back.type, 'oadrRegisterReport')
    assert.deepEqual(offeredMarketContexts(back.type === 'oadrRegisterReport' ? back.oadrReports : []), ['http://mc/a', 'http://mc/b'])
  })

  it('the node requests telemetry, forecast and capabilities at their sampling periods, every data point', () => {
    let n = 0
    const requests = requestCustomerReports(offer, () => `req-${n++}`)
    assert.deepEqual(requests.map(r => r.reportSpecifier.reportSpecifierID), [telemetrySpecifierID, forecastSpecifierID, capabilitiesSpecifierID])
    assert.deepEqual(requests.map(r => r.reportSpecifier.granularityMs), [60_000, 900_000, 3_600_000])
    // One data point per series, whatever the forecast's length: its steps are a report's intervals.
    assert.deepEqual(requests[1]?.reportSpecifier.specifierPayloads.map(p => p.rID), ['baselineKw', 'flexUpKw', 'flexDownKw'])
  })

  it('the node asks for the forecast and the capabilities as often as it is told, never more often than they are sampled', () => {
    const every = (periods: Parameters<typeof requestCustomerReports>[3]): number[] =>
      requestCustomerReports(offer, () => 'r', undefined, periods).map(r => r.reportSpecifier.reportBackDurationMs)
    assert.deepEqual(every({ forecastMs: 3_600_000, capabilitiesMs: 86_400_000 }), [60_000, 3_600_000, 86_400_000])
    // Granularity stays the sampling period: a forecast sent hourly still has 15-min steps.
    assert.deepEqual(requestCustomerReports(offer, () => 'r', undefined, { forecastMs: 3_600_000 }).map(r => r.reportSpecifier.granularityMs), [60_000, 900_000, 3_600_000])
    assert.deepEqual(every({ forecastMs: 60_000, capabilitiesMs: 0 }), [60_000, 900_000, 3_600_000])
  })

  it('parses telemetry, forecasts on their grid and capabilities; refuses forecasts with gaps or negative flexibility', () => {
    const telemetry = parseCustomerReport(report(telemetrySpecifierID, [{ dtstartMs: 0, durationMs: 60_000, payloads: [{ rID: 'usage', value: 4.5 }] }]))
    assert.deepEqual(telemetry, { kind: 'telemetry', readings: [{ atMs: 60_000, kw: 4.5 }] })
    const forecast = parseCustomerReport(forecastReport(900_000, [0, 1].map(k => ({ baselineKw: k, flexUpKw: 1 + k, flexDownKw: 2 + k }))))
    assert.ok(forecast.kind === 'forecast')
    assert.equal(forecast.startMs, 900_000)
    const caps = capabilitiesOf(forecast, { costDownPerKwh: 0.2, latitude: 46.5, longitude: 6.6 })
    assert.deepEqual(caps?.baselineKw, [0, 1])
    assert.deepEqual(caps?.flexDownKw, [2, 3])
    assert.equal(caps?.forecastIntervalMs, 900_000)
    assert.equal(caps?.costDownPerKwh, 0.2)
    assert.deepEqual(caps?.location, { lat: 46.5, lon: 6.6 })
    // A series missing a step (first, middle or last), a negative flexibility, steps that do not follow each other.
    const refused: Array<Array<Record<string, number>>> = [[{ baselineKw: 1 }, { baselineKw: 1, flexUpKw: 1 }], [{ flexUpKw: 1 }, { baselineKw: 1 }, { flexUpKw: 1 }], [{ baselineKw: 1, flexUpKw: 1 }, { baselineKw: 1 }], [{ flexUpKw: -1 }]]
    for (const steps of refused) {
      assert.throws(() => parseCustomerReport(forecastReport(0, steps)), ReportFormatError, JSON.stringify(steps))
    }
    const gap = forecastReport(0, [{ baselineKw: 1 }, { baselineKw: 2 }])
    assert.throws(() => parseCustomerReport({ ...gap, intervals: gap.intervals?.map((i, k) => ({ ...i, dtstartMs: k * 1_800_000 })) }), ReportFormatError)
    assert.throws(() => parseCustomerReport({ ...gap, intervals: gap.intervals?.map((i, k) => ({ ...i, durationMs: 900_000 + k })) }), ReportFormatError)
    assert.equal(capabilitiesOf({ kind: 'forecast', startMs: 0, stepMs: 1, series: { baselineKw: [1] } }, {}), null)
  })

  it('reads a LOAD_DISPATCH eiEvent as a DR request, and refuses one it cannot follow', () => {
    const event = (signalType: string, durations: number[]): EiEvent => ({
      eventDescriptor: { eventID: 'e1', modificationNumber: 2, marketContext: 'http://mc/a', createdDateTimeMs: 0, eventStatus: 'far' },
      eiActivePeriod: { dtstartMs: 1000, durationMs: 0 },
      eiEventSignals: [{ signalName: 'LOAD_DISPATCH', signalType: signalType as 'delta', signalID: 's', intervals: durations.map((d, i) => ({ durationMs: d, uid: String(i), values: [-i] })) }],
      eiTarget: {}
    })
    assert.deepEqual(requestOfEvent(event('delta', [60_000, 60_000])), {
      eventId: 'e1', modificationNumber: 2, origin: 'upstream', marketContext: 'http://mc/a', startMs: 1000, intervalMs: 60_000, amountsKw: [-0, -1], signalType: 'delta'
    })
    assert.throws(() => requestOfEvent(event('level', [60_000])), UpstreamEventError)
    assert.throws(() => requestOfEvent(event('setpoint', [60_000, 30_000])), UpstreamEventError)
    assert.throws(() => requestOfEvent({ ...event('setpoint', [1]), eiEventSignals: [] }), UpstreamEventError)
  })
})
