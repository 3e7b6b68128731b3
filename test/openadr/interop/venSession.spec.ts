/**
 * Our Ven against a scripted VTN that answers the way openleadr-python's OpenADRServer does (its rendered
 * documents, test/fixtures/openleadr/vtn), over real loopback HTTP and over HTTPS with client certificates
 * and answers signed as its signxml signs. What our Ven sends is checked against what openleadr's parser
 * requires: the services it routes, schema validity, and for signed requests the signature
 * shape its signxml verifier accepts (two references, each naming exactly one element by `Id`) and a
 * ReplayProtect timestamp its `parse_datetime` reads.
 */
import assert from 'node:assert/strict'
import { decodePayload } from '../../../src/openadr/codec/index.js'
import { OadrHttpServer, OadrHttpClients, securedHandler } from '../../../src/openadr/http/index.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import type { OadrMessage } from '../../../src/openadr/model/message.js'
import type { PayloadHandler } from '../../../src/openadr/transport.js'
import { ScaledClock, systemClock } from '../../../src/util/clock.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { telemetryOffer } from '../fixtures.js'
import { pkiOf, securityOf, type Mode } from '../e2e/harness.js'
import { openleadrDateTime, openleadrPayload } from './openleadr.js'

// openleadr's utils.parse_datetime: anything else is left a string and its ReplayProtect check fails.
const openleadrDateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.?(\d{1,6})?\d*Z$/

/** openleadr-python's answer to `message`, as its services render it. */
function openleadrAnswer (message: OadrMessage, state: { polls: number, optType?: string, reports: number }): { name: string, vars: Record<string, string | number> } {
  const common = { vtnID: 'openleadr-vtn', venID: 'ven-ol-1', registrationID: 'reg-ol-1', pollFreq: 'PT10S' }
  switch (message.type) {
    case 'oadrQueryRegistration': return { name: 'oadrCreatedPartyRegistration-query', vars: { ...common, requestID: message.requestID } }
    case 'oadrCreatePartyRegistration': return { name: 'oadrCreatedPartyRegistration', vars: { ...common, requestID: message.requestID } }
    case 'oadrRegisterReport': {
      const report = message.oadrReports[0]
      return {
        name: 'oadrRegisteredReport',
        vars: { ...common, requestID: message.requestID, reportRequestID: 'rr-ol-1', reportSpecifierID: report?.reportSpecifierID ?? '', rID: report?.oadrReportDescriptions?.[0]?.rID ?? '', dtstart: openleadrDateTime(systemClock.now()) }
      }
    }
    case 'oadrPoll':
      state.polls++
      return state.polls === 1
        ? { name: 'oadrDistributeEvent', vars: { ...common, requestID: 'de-1', eventID: 'ol-event-1', modificationNumber: 0, createdDateTime: openleadrDateTime(systemClock.now()), dtstart: openleadrDateTime(systemClock.now() + 3_600_000) } }
        : { name: 'oadrResponse', vars: { ...common, requestID: '' } }
    case 'oadrCreatedEvent':
      state.optType = message.eventResponses?.[0]?.optType
      return { name: 'oadrResponse', vars: { ...common, requestID: message.eiResponse.requestID } }
    case 'oadrUpdateReport':
      state.reports++
      return { name: 'oadrUpdatedReport', vars: { ...common, requestID: message.requestID } }
    default:
      return { name: 'oadrResponse', vars: { ...common, requestID: 'requestID' in message ? String(message.requestID) : '' } }
  }
}

/** Checks a signed request as openleadr's validate_xml_signature would look at it. */
function assertOpenleadrCanVerify (xml: string, receivedAtMs: number): void {
  const references = [...xml.matchAll(/<(?:\w+:)?Reference URI="#([^"]+)"/g)].map(m => m[1] as string)
  assert.equal(references.length, 2, 'signxml is called with expect_references=2')
  for (const id of references) {
    const holders = [...xml.matchAll(new RegExp(`\\s(?:\\w+:)?(?:Id|ID|id)="${id}"`, 'g'))]
    assert.equal(holders.length, 1, `reference #${id} names exactly one element (signxml refuses ambiguous Ids)`)
  }
  const timestamp = /<(?:\w+:)?timestamp[^>]*>([^<]+)</.exec(xml)?.[1] ?? ''
  assert.match(timestamp, openleadrDateTimePattern)
  assert.ok(Math.abs(Date.parse(timestamp) - receivedAtMs) < 5_000, 'openleadr refuses a ReplayProtect older than 5 s')
  assert.match(xml, /<(?:\w+:)?nonce[^>]*>[^<]+</)
  assert.match(xml, /<(?:\w+:)?X509Certificate>[A-Za-z0-9+/=\s]+</, 'openleadr reads the signing certificate from X509Certificate')
}

for (const mode of ['http', 'https+signed'] as Mode[]) {
  describe(`our Ven against an openleadr-python VTN (${mode})`, function () {
    this.timeout(30_000)

    it('registers, offers reports, polls an event, opts in and reports as openleadr expects', async () => {
      const pki = pkiOf(mode)
      const vtnSecurity = securityOf(mode, pki.server)
      const state = { polls: 0, reports: 0 } as { polls: number, optType?: string, reports: number }
      const requests: string[] = []
      const receivedAt: number[] = []
      const answers: string[] = []
      const services: string[] = []
      const scripted: PayloadHandler = async (service, xml) => {
        services.push(service)
        requests.push(xml)
        receivedAt.push(systemClock.now())
        const { name, vars } = openleadrAnswer(decodePayload(xml), state)
        const answer = openleadrPayload('vtn', name, vars, vtnSecurity.signWith === undefined
          ? {}
          : { sign: { ...vtnSecurity.signWith, timestampMs: systemClock.now(), nonce: `${requests.length}`.padStart(32, 'a') } })
        answers.push(answer)
        return answer
      }
      // openleadr signs its answers itself: only the requests go through our verifier.
      const verifyOnly = securedHandler(scripted, { ...vtnSecurity, signWith: undefined })
      const server = new OadrHttpServer({ ...(vtnSecurity.tls === undefined ? {} : { tls: vtnSecurity.tls }) }, { handler: verifyOnly })
      await server.start()
      const clients = new OadrHttpClients(securityOf(mode, pki.client('our-ven')))
      const ven = new Ven({ venName: 'our-ven', reports: [telemetryOffer], xmlSignature: mode !== 'http' }, {
        sender: clients.senderFor(server.url),
        // Report periods (PT10S) pass 50 times faster; the signatures keep the wall clock.
        clock: new ScaledClock(systemClock.now(), 50),
        decideOpt: () => 'optIn',
        readReport: () => 7
      })
      try {
        await ven.start()
        assert.equal(ven.venID, 'ven-ol-1')
        assert.equal(ven.registrationID, 'reg-ol-1')
        assert.equal(ven.pollPeriodMs, 10_000, 'oadrRequestedOadrPollFreq PT10S')
        if (state.optType === undefined) await ven.pollOnce()
        assert.equal(state.optType, 'optIn')
        assert.deepEqual(ven.events()[0]?.event.eiEventSignals[0]?.intervals.map(i => i.values[0]), [120, 90.5])
        await new Promise<void>(resolve => { const t = setInterval(() => { if (state.reports > 0) { clearInterval(t); resolve() } }, 20) })
        const kinds = requests.map(r => decodePayload(r).type)
        for (const kind of ['oadrQueryRegistration', 'oadrCreatePartyRegistration', 'oadrRegisterReport', 'oadrCreatedReport', 'oadrPoll', 'oadrCreatedEvent', 'oadrUpdateReport']) {
          assert.ok(kinds.includes(kind as never), `${kind} sent`)
        }
        assert.deepEqual([...new Set(services)].sort(), ['EiEvent', 'EiRegisterParty', 'EiReport', 'OadrPoll'], 'openleadr routes by these service names under /OpenADR2/Simple/2.0b')
        if (mode !== 'http') requests.forEach((xml, i) => { assertOpenleadrCanVerify(xml, receivedAt[i] as number) })
        await assertSchemaValid([...requests, ...answers])
      } finally {
        await ven.stop()
        clients.stop()
        await server.stop()
      }
    })
  })
}
