/** 2.0b report handshake rules, as the VTN and VEN of this layer keep them. */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ScaledClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import { localSender } from '../../../src/openadr/local.js'
import { decodePayload } from '../../../src/openadr/codec/index.js'
import type { OadrMessage } from '../../../src/openadr/model/index.js'
import { telemetryOffer } from '../fixtures.js'

describe('conformance: reports', () => {
  it('rule: register (metadata, reportRequestID 0) → registered with requests → created (pending list) → update (of the request) → updated', async () => {
    const clock = new ScaledClock(Date.UTC(2026, 5, 1), 600)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const exchange: Array<[OadrMessage, OadrMessage]> = []
    const ven = new Ven({ venName: 'v', venID: 'ven-1', reports: [telemetryOffer] }, {
      clock,
      readReport: () => 1.5,
      sender: localSender(async (service, xml, peer) => {
        const answer = await vtn.handler(service, xml, peer)
        exchange.push([decodePayload(xml), decodePayload(answer)])
        return answer
      })
    })
    await ven.start()
    await once(vtn, 'report')
    await ven.stop()
    await vtn.stop()
    const reportTypes = exchange.map(([q, a]) => `${q.type}→${a.type}`).filter(s => !s.startsWith('oadrPoll') && !s.includes('Registration'))
    assert.deepEqual(reportTypes.slice(0, 3), ['oadrRegisterReport→oadrRegisteredReport', 'oadrCreatedReport→oadrResponse', 'oadrUpdateReport→oadrUpdatedReport'])
    const [register, registered] = exchange.find(([q]) => q.type === 'oadrRegisterReport') ?? []
    assert.ok(register?.type === 'oadrRegisterReport' && registered?.type === 'oadrRegisteredReport')
    assert.deepEqual(register.oadrReports.map(r => [r.reportRequestID, r.reportName]), [['0', 'METADATA_TELEMETRY_USAGE']])
    const requestID = registered.oadrReportRequests[0]?.reportRequestID
    const created = exchange.find(([q]) => q.type === 'oadrCreatedReport')?.[0]
    assert.deepEqual(created?.type === 'oadrCreatedReport' ? created.oadrPendingReports : [], [requestID])
    const update = exchange.find(([q]) => q.type === 'oadrUpdateReport')?.[0]
    const report = update?.type === 'oadrUpdateReport' ? update.oadrReports[0] : undefined
    assert.deepEqual([report?.reportRequestID, report?.reportSpecifierID, report?.reportName], [requestID, 'telemetry-usage', 'TELEMETRY_USAGE'])
  })
})
