/**
 * An openleadr-python VEN's whole session against our Vtn over real loopback HTTP, every request one of
 * openleadr's rendered documents (test/fixtures/openleadr/ven) in the order its OpenADRClient sends them:
 * query and create registration, register its TELEMETRY_USAGE report, confirm the VTN's report request,
 * poll an event, opt in, update the report, cancel its registration. Over plain HTTP unsigned, and over
 * HTTPS with its client certificate and every request signed as its signxml signs.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ScaledClock } from '../../../src/util/clock.js'
import { decodePayload } from '../../../src/openadr/codec/index.js'
import { HttpPayloadSender } from '../../../src/openadr/http/index.js'
import { powerRealKw } from '../../../src/openadr/model/index.js'
import type { OadrMessage } from '../../../src/openadr/model/message.js'
import type { OadrServiceName } from '../../../src/openadr/transport.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { pkiOf, startVtn, t0, minute, type Mode } from '../e2e/harness.js'
import { openleadrDateTime, openleadrPayload } from './openleadr.js'

for (const mode of ['http', 'https+signed'] as Mode[]) {
  describe(`an openleadr-python VEN against our Vtn (${mode})`, function () {
    this.timeout(30_000)

    it('registers, reports, receives an event, opts in, updates the report and cancels', async () => {
      const wire: string[] = []
      const clock = new ScaledClock(t0, 1)
      const side = await startVtn(mode, clock, wire)
      const own = pkiOf(mode).client('openleadr-ven')
      const sender = new HttpPayloadSender({ baseUrl: side.server.url, ...(mode === 'http' ? {} : { tls: { cert: own.cert, key: own.key, ca: pkiOf(mode).ca.cert } }) })
      let nonce = 0
      const send = async (service: OadrServiceName, name: string, vars: Record<string, string | number | boolean>): Promise<OadrMessage> => {
        // The verifier's clock is the real one; openleadr stamps ReplayProtect with its own wall clock.
        const sign = mode === 'http' ? undefined : { cert: own.cert, key: own.key, timestampMs: Date.now(), nonce: (++nonce).toString(16).padStart(32, '0') }
        const request = openleadrPayload('ven', name, vars, sign === undefined ? {} : { sign })
        const answer = await sender.send(service, request)
        wire.push(request, answer)
        return decodePayload(answer)
      }
      try {
        const queried = await send('EiRegisterParty', 'oadrQueryRegistration', { requestID: 'q-1' })
        assert.equal(queried.type, 'oadrCreatedPartyRegistration')
        assert.ok(queried.type === 'oadrCreatedPartyRegistration' && queried.venID === undefined, 'not registered yet')

        const created = await send('EiRegisterParty', 'oadrCreatePartyRegistration', { requestID: 'r-1', venName: 'openleadr-ven', xmlSignature: mode !== 'http' })
        assert.ok(created.type === 'oadrCreatedPartyRegistration')
        assert.equal(created.eiResponse.responseCode, '200')
        const venID = created.venID as string
        const registrationID = created.registrationID as string
        assert.ok(venID !== '' && registrationID !== '', 'openleadr stores both and sends them back')
        assert.equal(created.vtnID, 'vtn-e2e')
        assert.equal(created.oadrRequestedOadrPollFreqMs, 30_000, 'openleadr polls at oadrRequestedOadrPollFreq')

        const registered = await send('EiReport', 'oadrRegisterReport', {
          requestID: 'rr-1', venID, reportID: 'rep-1', rID: 'device001_usage', reportSpecifierID: 'spec-usage', createdDateTime: openleadrDateTime(clock.now())
        })
        assert.ok(registered.type === 'oadrRegisteredReport')
        assert.equal(registered.eiResponse.responseCode, '200')
        const request = registered.oadrReportRequests?.[0]
        assert.ok(request !== undefined, 'the VTN asks for the offered TELEMETRY_USAGE')
        assert.equal(request.reportSpecifier.reportSpecifierID, 'spec-usage')
        assert.equal(request.reportSpecifier.specifierPayloads[0]?.rID, 'device001_usage')

        const confirmed = await send('EiReport', 'oadrCreatedReport', { requestID: 'cr-1', reportRequestID: request.reportRequestID, venID })
        assert.equal(confirmed.type, 'oadrResponse')
        assert.equal(side.vtn.reportRequests(venID).filter(r => r.confirmed).length, 1)

        const empty = await send('OadrPoll', 'oadrPoll', { venID })
        assert.ok(empty.type === 'oadrResponse' && empty.eiResponse.responseCode === '200', 'nothing pending: an oadrResponse 200')

        await side.vtn.createEvent({
          eventID: 'dispatch-1', marketContext: 'http://utility.example/dr', dtstartMs: t0 + 30 * minute, targets: { venIDs: [venID] },
          signals: [{
            signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'sp', itemBase: powerRealKw(),
            intervals: [120, 90].map((v, i) => ({ durationMs: 15 * minute, uid: String(i), values: [v] }))
          }]
        })
        const distributed = await send('OadrPoll', 'oadrPoll', { venID })
        assert.ok(distributed.type === 'oadrDistributeEvent')
        const event = distributed.oadrEvents[0]?.eiEvent
        assert.equal(event?.eventDescriptor.eventID, 'dispatch-1')
        assert.equal(distributed.oadrEvents[0]?.oadrResponseRequired, 'always')

        const responded = once(side.vtn, 'eventResponse')
        const answered = await send('EiEvent', 'oadrCreatedEvent', {
          requestID: 'ce-1', eventRequestID: distributed.requestID, eventID: 'dispatch-1', modificationNumber: 0, optType: 'optIn', venID
        })
        assert.ok(answered.type === 'oadrResponse' && answered.eiResponse.responseCode === '200')
        const [record] = await responded as [{ optType: string }]
        assert.equal(record.optType, 'optIn')

        const reported = once(side.vtn, 'report')
        const updated = await send('EiReport', 'oadrUpdateReport', {
          requestID: 'ur-1', dtstart: openleadrDateTime(clock.now()), rID: 'device001_usage', value: 42.5, reportID: 'rep-2',
          reportRequestID: request.reportRequestID, reportSpecifierID: 'spec-usage', createdDateTime: openleadrDateTime(clock.now()), venID
        })
        assert.ok(updated.type === 'oadrUpdatedReport' && updated.eiResponse.responseCode === '200')
        const [stored] = await reported as [{ report: { intervals?: Array<{ payloads: Array<{ value: unknown }> }> } }]
        assert.equal(stored.report.intervals?.[0]?.payloads[0]?.value, 42.5)

        const canceled = await send('EiRegisterParty', 'oadrCancelPartyRegistration', { requestID: 'c-1', registrationID, venID })
        assert.ok(canceled.type === 'oadrCanceledPartyRegistration' && canceled.eiResponse.responseCode === '200')
        const after = await send('OadrPoll', 'oadrPoll', { venID })
        assert.ok(after.type === 'oadrRequestReregistration' || (after.type === 'oadrResponse' && after.eiResponse.responseCode !== '200'),
          'a cancelled VEN is no longer served')
        await assertSchemaValid(wire)
      } finally {
        sender.stop()
        await side.stop()
      }
    })
  })
}
