/**
 * End to end over real loopback sockets: a VEN of this layer registers with a VTN of this layer, polls (or
 * is pushed to), receives a LOAD_DISPATCH event with several intervals and then its modification, opts in,
 * and sends TELEMETRY_USAGE reports; over plain HTTP, and over HTTPS with client certificates and XML
 * signatures on every payload. Every document exchanged is checked against the official schema.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ScaledClock } from '../../../src/util/clock.js'
import { powerRealKw } from '../../../src/openadr/model/index.js'
import type { EventResponseRecord, StoredReport } from '../../../src/openadr/vtn/types.js'
import { oadrFingerprintOfPem } from '../../../src/openadr/security/index.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { telemetryOffer } from '../fixtures.js'
import { minute, pkiOf, startVen, startVtn, t0, type Mode } from './harness.js'

async function scenario (mode: Mode, pull: boolean, tls12Only = false): Promise<void> {
  const wire: string[] = []
  // 1 real ms = 600 simulated ms: a 1-minute report period passes in 100 ms.
  const clock = new ScaledClock(t0, 600)
  const vtnSide = await startVtn(mode, clock, wire)
  const { vtn } = vtnSide
  const venSide = await startVen(mode, vtnSide.server.url, 'site-1', { reports: [telemetryOffer], httpPullModel: pull }, {
    clock,
    decideOpt: event => event.eiEventSignals.some(s => s.signalName === 'LOAD_DISPATCH') ? 'optIn' : 'optOut',
    readReport: (_rID, startMs) => 100 + (startMs % 7)
  }, wire, tls12Only)
  const { ven } = venSide
  try {
    await ven.start()
    const venID = ven.venID as string
    const registration = vtn.registration(venID)
    assert.equal(registration?.httpPullModel, pull)
    if (!pull) assert.equal(registration?.transportAddress, venSide.server?.url)
    if (mode !== 'http') assert.equal(registration?.fingerprint, oadrFingerprintOfPem(pkiOf(mode).client('site-1').cert), 'the venID is bound to the VEN certificate')
    assert.equal(ven.pollPeriodMs, 30_000, 'the VEN polls at the frequency the VTN asked')
    assert.equal(vtn.reportRequests(venID).filter(r => r.confirmed).length, 1, 'the VTN requested the offered telemetry and the VEN confirmed it')

    const responded = once(vtn, 'eventResponse')
    const setpoints = [120, 90, 60, 90]
    await vtn.createEvent({
      eventID: 'dispatch-1', marketContext: 'http://utility.example/dr', dtstartMs: t0 + 30 * minute, targets: { venIDs: [venID] },
      signals: [{
        signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'sp', itemBase: powerRealKw(),
        intervals: setpoints.map((v, i) => ({ durationMs: 15 * minute, uid: String(i), values: [v] }))
      }]
    })
    if (pull) await ven.pollOnce()
    const [response] = await responded as [EventResponseRecord]
    assert.deepEqual([response.venID, response.eventID, response.optType, response.modificationNumber], [venID, 'dispatch-1', 'optIn', 0])
    const held = ven.events()[0]
    assert.ok(held !== undefined)
    assert.deepEqual(held.event.eiEventSignals[0]?.intervals.map(i => i.values[0]), setpoints)
    assert.equal(held.event.eiActivePeriod.durationMs, 60 * minute)

    // Modification: new setpoints reach the VEN with the next modificationNumber and are answered again.
    const again = once(vtn, 'eventResponse')
    await vtn.modifyEvent('dispatch-1', { signals: [{ ...held.event.eiEventSignals[0]!, intervals: [{ durationMs: 30 * minute, values: [50] }, { durationMs: 30 * minute, values: [70] }] }], reason: 'deeper' })
    if (pull) await ven.pollOnce()
    const [second] = await again as [EventResponseRecord]
    assert.equal(second.modificationNumber, 1)
    const modified = ven.events()[0]?.event
    assert.equal(modified?.eventDescriptor.modificationNumber, 1)
    assert.deepEqual(modified?.eiEventSignals[0]?.intervals.map(i => i.values[0]), [50, 70])
    assert.deepEqual(vtn.eventResponses('dispatch-1').map(r => [r.modificationNumber, r.optType]), [[1, 'optIn']])

    const reports: StoredReport[] = []
    await new Promise<void>(resolve => {
      vtn.on('report', r => { reports.push(r); if (reports.length >= 2) resolve() })
    })
    const first = reports[0]?.report
    assert.equal(first?.reportName, 'TELEMETRY_USAGE')
    assert.equal(first?.intervals?.[0]?.payloads[0]?.rID, 'site-power')
    assert.equal(typeof first?.intervals?.[0]?.payloads[0]?.value, 'number')
    assert.ok((await vtn.readReports(venID)).length >= 2)
  } finally {
    await venSide.stop()
    await vtnSide.stop()
  }
  if (mode !== 'http') {
    const unsigned = wire.filter(xml => !xml.includes('<ds:Signature') && !xml.includes(':Signature '))
    assert.deepEqual(unsigned, [], 'every payload both ways is signed')
  }
  if (!pull) assert.ok(wire.some(xml => xml.includes('oadrDistributeEvent')), 'the event was pushed to the VEN endpoint')
  assert.ok(wire.length > 10)
  await assertSchemaValid(wire)
}

describe('OpenADR end to end over HTTP', function () {
  this.timeout(30_000)
  for (const mode of ['http', 'https+signed'] as const) {
    it(`${mode}, pull: registers, polls, receives and opts in to a multi-interval LOAD_DISPATCH and its modification, sends TELEMETRY_USAGE`, async () => {
      await scenario(mode, true)
    })
    it(`${mode}, push: the same with the VTN pushing to the VEN's own endpoint (oadrHttpPullModel false)`, async () => {
      await scenario(mode, false)
    })
  }
  it('https+signed-ecdsa, pull: P-256 certificates and ecdsa-sha256 signatures, the VEN speaking only TLS 1.2 with ECDHE-ECDSA-AES128-SHA256', async () => {
    await scenario('https+signed-ecdsa', true, true)
  })
  it('https+signed, pull: the VEN speaking only TLS 1.2 with the mandated RSA suite AES128-SHA256', async () => {
    await scenario('https+signed', true, true)
  })
})
