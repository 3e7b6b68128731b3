import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ManualClock, ScaledClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import { localSender } from '../../../src/openadr/local.js'
import type { PayloadHandler } from '../../../src/openadr/transport.js'
import { telemetryOffer } from '../fixtures.js'
import { powerRealKw } from '../../../src/openadr/model/common.js'
import type { OadrReport } from '../../../src/openadr/model/report.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { ReportSchedule } from '../../../src/openadr/ven/reports.js'
import { VirtualClock } from '../../../src/sim/virtualClock.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8)

describe('VEN client', () => {
  it('registers again when the VTN no longer knows it (oadrRequestReregistration), keeping its venID', async () => {
    const clock = new ManualClock(t0)
    let vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const handler: PayloadHandler = async (s, x, p) => await vtn.handler(s, x, p)
    const ven = new Ven({ venName: 'v', venID: 'ven-1' }, { clock, sender: localSender(handler) })
    await ven.start()
    await ven.stop()
    const firstRegistration = ven.registrationID
    await vtn.stop()
    vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    await ven.pollOnce()
    assert.equal(vtn.registration('ven-1')?.venID, 'ven-1')
    assert.notEqual(ven.registrationID, firstRegistration)
    assert.equal(ven.registrationID, vtn.registration('ven-1')?.registrationID)
    await vtn.stop()
  })

  it('opts out through its decision callback, and changes its answer on request', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const ven = new Ven({ venName: 'v', venID: 'ven-1' }, { clock, sender: localSender(vtn.handler), decideOpt: e => e.eventDescriptor.priority === 1 ? 'optOut' : 'optIn' })
    await ven.start()
    await ven.stop()
    await vtn.createEvent({ eventID: 'p1', priority: 1, marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-1'] }, signals: [{ signalName: 'SIMPLE', signalType: 'level', signalID: 's', intervals: [{ durationMs: minute, values: [1] }] }] })
    await ven.pollOnce()
    assert.equal(vtn.eventResponses('p1')[0]?.optType, 'optOut')
    await ven.respondToEvent('p1', 'optIn')
    assert.equal(vtn.eventResponses('p1')[0]?.optType, 'optIn')
    await vtn.stop()
  })

  it('serves report requests the VTN makes later (oadrCreateReport by poll) and stops on oadrCancelReport', async () => {
    const clock = new ScaledClock(t0, 600)
    const vtn = new Vtn({ vtnID: 'vtn', requestReports: () => [] }, { clock })
    await vtn.start()
    const ven = new Ven({ venName: 'v', venID: 'ven-1', reports: [telemetryOffer] }, { clock, sender: localSender(vtn.handler), readReport: () => 7 })
    await ven.start()
    await ven.stop()
    assert.deepEqual(vtn.offeredReports('ven-1').map(r => r.reportSpecifierID), ['telemetry-usage'])
    await vtn.requestReport('ven-1', { reportRequestID: 'rq', reportSpecifier: { reportSpecifierID: 'telemetry-usage', granularityMs: minute, reportBackDurationMs: minute, specifierPayloads: [{ rID: 'site-power', readingType: 'Direct Read' }] } })
    await ven.pollOnce()
    assert.deepEqual(ven.activeReportRequests(), ['rq'])
    assert.equal(vtn.reportRequests('ven-1')[0]?.confirmed, true)
    const [report] = await once(vtn, 'report') as [{ report: { intervals?: Array<{ payloads: Array<{ value: unknown }> }> } }]
    assert.equal(report.report.intervals?.[0]?.payloads[0]?.value, 7)
    await vtn.cancelReport('ven-1', 'rq')
    await ven.pollOnce()
    assert.deepEqual(ven.activeReportRequests(), [])
    ven.removeAllListeners()
    await vtn.stop()
  })

  it('sends a projected data point as the intervals after the reporting period, one per step, beside the readings, schema-valid', async () => {
    const clock = new ScaledClock(t0, 600)
    const vtn = new Vtn({ vtnID: 'vtn', requestReports: () => [] }, { clock })
    await vtn.start()
    const updates: string[] = []
    const handler: PayloadHandler = async (service, xml, p) => {
      if (xml.includes('oadrUpdateReport')) updates.push(xml)
      return await vtn.handler(service, xml, p)
    }
    const forecast = { rID: 'site-forecast', reportType: 'usage', itemBase: powerRealKw(), readingType: 'Projected', samplingRate: { minPeriodMs: minute, maxPeriodMs: minute, onChange: false } } as const
    const offer = { ...telemetryOffer, oadrReportDescriptions: [...telemetryOffer.oadrReportDescriptions ?? [], forecast] }
    const ven = new Ven({ venName: 'v', venID: 'ven-1', reports: [offer] }, {
      clock, sender: localSender(handler), readReport: () => 7, readProjection: rID => rID === 'site-forecast' ? [8, 9, 10] : undefined
    })
    await ven.start()
    await ven.stop()
    await vtn.requestReport('ven-1', {
      reportRequestID: 'rq',
      reportSpecifier: { reportSpecifierID: 'telemetry-usage', granularityMs: minute, reportBackDurationMs: minute, specifierPayloads: [{ rID: 'site-power', readingType: 'Direct Read' }, { rID: 'site-forecast', readingType: 'Projected' }] }
    })
    await ven.pollOnce()
    const [{ report }] = await once(vtn, 'report') as [{ report: OadrReport }]
    const endMs = (report.intervals?.[0]?.dtstartMs ?? 0) + minute
    assert.deepEqual(report.intervals?.map(i => [i.dtstartMs, i.durationMs, i.payloads.map(p => [p.rID, p.value])]), [
      [endMs - minute, minute, [['site-power', 7]]],
      [endMs, minute, [['site-forecast', 8]]],
      [endMs + minute, minute, [['site-forecast', 9]]],
      [endMs + 2 * minute, minute, [['site-forecast', 10]]]
    ])
    assert.deepEqual([report.dtstartMs, report.durationMs], [endMs - minute, 4 * minute])
    await vtn.cancelReport('ven-1', 'rq')
    await ven.pollOnce()
    ven.removeAllListeners()
    await vtn.stop()
    assert.ok(updates.length > 0)
    await assertSchemaValid(updates.slice(0, 1))
  })

  it('sends a projection every reportBackDuration, not every granularity, its steps at the granularity from the send', async () => {
    const step = 15 * minute
    const clock = new VirtualClock({ startMs: t0 })
    const forecast = { rID: 'site-forecast', reportType: 'usage', itemBase: powerRealKw(), readingType: 'Projected', samplingRate: { minPeriodMs: step, maxPeriodMs: step, onChange: false } } as const
    const sent: OadrReport[] = []
    const schedule = new ReportSchedule({
      clock,
      offered: [{ ...telemetryOffer, oadrReportDescriptions: [forecast] }],
      readProjection: (_rID, endMs) => [endMs, endMs + 1, endMs + 2],
      send: async report => { sent.push(report) },
      onError: err => { throw err }
    })
    schedule.start({ reportRequestID: 'rq', reportSpecifier: { reportSpecifierID: telemetryOffer.reportSpecifierID, granularityMs: step, reportBackDurationMs: 4 * step, specifierPayloads: [{ rID: 'site-forecast', readingType: 'Projected' }] } })
    await clock.advanceTo(t0 + 8 * step + 1)
    schedule.stopAll()
    assert.deepEqual(sent.map(r => r.dtstartMs), [t0 + 4 * step, t0 + 8 * step])
    assert.deepEqual(sent[1]?.intervals?.map(i => [i.dtstartMs, i.durationMs, i.payloads[0]?.value]),
      [0, 1, 2].map(k => [t0 + (8 + k) * step, step, t0 + 8 * step + k]))
  })

  it('refuses a report request for a report it did not offer (left out of oadrPendingReports)', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn', requestReports: () => [] }, { clock })
    await vtn.start()
    const ven = new Ven({ venName: 'v', venID: 'ven-1', reports: [telemetryOffer] }, { clock, sender: localSender(vtn.handler) })
    const errors: Error[] = []
    ven.on('error', e => errors.push(e))
    await ven.start()
    await ven.stop()
    await vtn.requestReport('ven-1', { reportRequestID: 'bad', reportSpecifier: { reportSpecifierID: 'nope', granularityMs: minute, reportBackDurationMs: minute, specifierPayloads: [{ rID: 'x', readingType: 'Direct Read' }] } })
    await ven.pollOnce()
    assert.deepEqual(ven.activeReportRequests(), [])
    assert.equal(errors[0]?.name, 'ReportNotSupportedError')
    assert.equal(vtn.reportRequests('ven-1')[0]?.confirmed, false)
    await vtn.stop()
  })

  it('sends and cancels opt schedules', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const ven = new Ven({ venName: 'v', venID: 'ven-1' }, { clock, sender: localSender(vtn.handler) })
    await ven.start()
    await ven.stop()
    const optID = await ven.createOpt({ optType: 'optOut', optReason: 'mustRun', availability: [{ dtstartMs: t0, durationMs: 60 * minute }] })
    assert.deepEqual(vtn.optSchedules('ven-1').map(o => [o.opt.optID, o.opt.optType, o.opt.availability?.[0]?.durationMs]), [[optID, 'optOut', 60 * minute]])
    await ven.cancelOpt(optID)
    assert.deepEqual(vtn.optSchedules('ven-1'), [])
    await vtn.stop()
  })

  it('is deregistered when the VTN cancels its registration, and can cancel its own', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const a = new Ven({ venName: 'a', venID: 'a' }, { clock, sender: localSender(vtn.handler) })
    const b = new Ven({ venName: 'b', venID: 'b' }, { clock, sender: localSender(vtn.handler) })
    for (const v of [a, b]) { await v.start(); await v.stop() }
    await vtn.cancelRegistration('a')
    await a.pollOnce()
    assert.equal(a.registrationID, undefined)
    assert.equal(vtn.registration('a'), undefined)
    await b.cancelRegistration()
    assert.equal(vtn.registration('b'), undefined)
    await vtn.stop()
  })
})
