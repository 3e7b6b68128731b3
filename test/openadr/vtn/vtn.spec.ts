import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { decodePayload, encodePayload } from '../../../src/openadr/codec/index.js'
import type { OadrMessage, EventSignal } from '../../../src/openadr/model/index.js'
import type { OadrServiceName, PeerIdentity } from '../../../src/openadr/transport.js'
import { telemetryOffer } from '../fixtures.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)
const local: PeerIdentity = { transport: 'local' }
const signal: EventSignal = { signalName: 'SIMPLE', signalType: 'level', signalID: 's', intervals: [{ durationMs: 30 * minute, values: [1] }, { durationMs: 30 * minute, values: [2] }] }

async function call (vtn: Vtn, service: OadrServiceName, message: OadrMessage, peer: PeerIdentity = local): Promise<OadrMessage> {
  return decodePayload(await vtn.handler(service, encodePayload(message), peer))
}

async function register (vtn: Vtn, venID: string, peer: PeerIdentity = local): Promise<string> {
  const answer = await call(vtn, 'EiRegisterParty', { type: 'oadrCreatePartyRegistration', requestID: 'r', venID, oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false }, peer)
  assert.equal(answer.type, 'oadrCreatedPartyRegistration')
  return answer.registrationID as string
}

function code (m: OadrMessage): string {
  assert.ok('eiResponse' in m && m.eiResponse !== undefined, `no eiResponse in ${m.type}`)
  return m.eiResponse.responseCode
}

describe('VTN service', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'adrmesh-vtn-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps registrations, events, event responses, report requests, reports and opts across a restart (LevelDB)', async () => {
    const clock = new ManualClock(t0)
    const first = new Vtn({ vtnID: 'vtn', dataDir: dir }, { clock })
    await first.start()
    const registrationID = await register(first, 'ven-1')
    await first.createEvent({ eventID: 'e1', marketContext: 'http://mc', dtstartMs: t0 + 60 * minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    await call(first, 'EiEvent', { type: 'oadrCreatedEvent', eiResponse: { responseCode: '200', requestID: 'x' }, venID: 'ven-1', eventResponses: [{ responseCode: '200', requestID: 'x', qualifiedEventID: { eventID: 'e1', modificationNumber: 0 }, optType: 'optOut' }] })
    const registered = await call(first, 'EiReport', { type: 'oadrRegisterReport', requestID: 'rr', oadrReports: [telemetryOffer], venID: 'ven-1' })
    assert.equal(registered.type, 'oadrRegisteredReport')
    const reportRequestID = registered.oadrReportRequests[0]?.reportRequestID as string
    assert.equal(code(await call(first, 'EiReport', { type: 'oadrUpdateReport', requestID: 'u', venID: 'ven-1', oadrReports: [{ reportRequestID, reportSpecifierID: 'telemetry-usage', reportName: 'TELEMETRY_USAGE', createdDateTimeMs: t0, intervals: [{ dtstartMs: t0, durationMs: minute, payloads: [{ rID: 'site-power', value: 42 }] }] }] })), '200')
    assert.equal(code(await call(first, 'EiOpt', { type: 'oadrCreateOpt', optID: 'o1', optType: 'optOut', optReason: 'mustRun', venID: 'ven-1', createdDateTimeMs: t0, requestID: 'o', eiTarget: {}, availability: [{ dtstartMs: t0, durationMs: 60 * minute }] })), '200')
    await first.stop()

    const second = new Vtn({ vtnID: 'vtn', dataDir: dir }, { clock })
    await second.start()
    try {
      assert.equal(second.registration('ven-1')?.registrationID, registrationID)
      assert.equal(second.event('e1')?.eventDescriptor.eventStatus, 'far')
      assert.deepEqual(second.eventResponses('e1').map(r => [r.venID, r.optType]), [['ven-1', 'optOut']])
      assert.equal(second.reportRequests('ven-1')[0]?.request.reportRequestID, reportRequestID)
      const reports = await second.readReports('ven-1', reportRequestID)
      assert.equal(reports[0]?.report.intervals?.[0]?.payloads[0]?.value, 42)
      assert.deepEqual(second.optSchedules('ven-1').map(o => o.opt.optID), ['o1'])
      const polled = await call(second, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' })
      assert.equal(polled.type, 'oadrDistributeEvent', 'the VEN gets its events again after a restart')
    } finally {
      await second.stop()
    }
  })

  it('asks an unknown VEN that polls to register again, and answers its other requests with 463', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    assert.deepEqual(await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'stranger' }), { type: 'oadrRequestReregistration', venID: 'stranger' })
    assert.equal(code(await call(vtn, 'EiEvent', { type: 'oadrRequestEvent', requestID: 'q', venID: 'stranger' })), '463')
    assert.equal(code(await call(vtn, 'EiOpt', { type: 'oadrCancelOpt', requestID: 'q', optID: 'o', venID: 'stranger' })), '463')
    await vtn.stop()
  })

  it('refuses a venID that does not belong to the sender certificate (463), registered or bound', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    const mine: PeerIdentity = { transport: 'https', fingerprint: 'aa:bb:cc:dd:ee:ff:00:11:22:33' }
    const other: PeerIdentity = { transport: 'https', fingerprint: '99:88:77:66:55:44:33:22:11:00' }
    await register(vtn, 'ven-1', mine)
    assert.equal((await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' }, mine)).type, 'oadrResponse')
    assert.equal(code(await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' }, other)), '463')
    assert.equal(code(await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' }, local)), '463')
    await vtn.bindVen('ven-2', other.fingerprint as string)
    assert.equal(code(await call(vtn, 'EiRegisterParty', { type: 'oadrCreatePartyRegistration', requestID: 'r', venID: 'ven-2', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false }, mine)), '463')
    const derived = await call(vtn, 'EiRegisterParty', { type: 'oadrCreatePartyRegistration', requestID: 'r', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false }, other)
    assert.equal(derived.type === 'oadrCreatedPartyRegistration' ? derived.venID : undefined, 'ven-2', 'a VEN without venID gets the one bound to its certificate')
    await vtn.stop()
  })

  it('compares certificate fingerprints case-insensitively: implementations print them in either case', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    await vtn.bindVen('ven-1', 'AA:BB:CC:DD:EE:FF:00:11:22:33')
    const lower: PeerIdentity = { transport: 'https', fingerprint: 'aa:bb:cc:dd:ee:ff:00:11:22:33' }
    await register(vtn, 'ven-1', lower)
    assert.equal((await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' }, lower)).type, 'oadrResponse')
    assert.equal(code(await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' }, { transport: 'https', fingerprint: 'AA:BB:CC:DD:EE:FF:00:11:22:34' })), '463')
    await vtn.stop()
  })

  it('answers bad input with an oadrResponse carrying the right code, keeps serving and loses nothing', async () => {
    const vtn = new Vtn({ vtnID: 'vtn', dataDir: dir })
    await vtn.start()
    await register(vtn, 'ven-1')
    const bad: Array<[OadrServiceName, string, string]> = [
      ['OadrPoll', 'not xml at all', '400'],
      ['OadrPoll', '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', '400'],
      ['OadrPoll', '<oadrPayload xmlns="urn:wrong"/>', '459'],
      ['OadrPoll', encodePayload({ type: 'oadrPoll', venID: 'ven-1' }).replace('ven-1</ei:venID>', 'ven-1</ei:venID><ei:venID>x</ei:venID>'), '459'],
      ['EiEvent', encodePayload({ type: 'oadrPoll', venID: 'ven-1' }), '453'],
      ['EiRegisterParty', encodePayload({ type: 'oadrCreatePartyRegistration', requestID: 'r', registrationID: 'forged', venID: 'ven-1', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false }), '452'],
      ['EiEvent', encodePayload({ type: 'oadrCreatedEvent', eiResponse: { responseCode: '200', requestID: 'x' }, venID: 'ven-1', eventResponses: [{ responseCode: '200', requestID: 'x', qualifiedEventID: { eventID: 'nope', modificationNumber: 0 }, optType: 'optIn' }] }), '452']
    ]
    for (const [service, xml, expected] of bad) {
      const answer = decodePayload(await vtn.handler(service, xml, local))
      assert.equal(answer.type, 'oadrResponse')
      assert.equal(code(answer), expected, xml.slice(0, 80))
      assert.ok(!JSON.stringify(answer).includes('    at '), 'no stack trace')
    }
    assert.equal((await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' })).type, 'oadrResponse')
    assert.ok(vtn.registration('ven-1') !== undefined)
    await vtn.stop()
  })

  it('reports event status from the clock: far, near, active, completed, and cancelled with a new modificationNumber', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn', nearWindowMs: 10 * minute }, { clock })
    await vtn.start()
    await register(vtn, 'ven-1')
    await vtn.createEvent({ eventID: 'e1', marketContext: 'http://mc', dtstartMs: t0 + 60 * minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    const statusAt = (ms: number): string | undefined => { clock.set(ms); return vtn.event('e1')?.eventDescriptor.eventStatus }
    assert.deepEqual([statusAt(t0), statusAt(t0 + 55 * minute), statusAt(t0 + 60 * minute), statusAt(t0 + 119 * minute), statusAt(t0 + 120 * minute)],
      ['far', 'near', 'active', 'active', 'completed'])
    const done = await call(vtn, 'EiEvent', { type: 'oadrRequestEvent', requestID: 'q', venID: 'ven-1' })
    assert.equal(done.type === 'oadrDistributeEvent' ? done.oadrEvents.length : -1, 0, 'a completed event is no longer distributed')
    clock.set(t0 + 30 * minute)
    const cancelled = await vtn.cancelEvent('e1')
    assert.deepEqual([cancelled.eventDescriptor.eventStatus, cancelled.eventDescriptor.modificationNumber], ['cancelled', 1])
    const polled = await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: 'ven-1' })
    assert.equal(polled.type === 'oadrDistributeEvent' ? polled.oadrEvents[0]?.eiEvent.eventDescriptor.eventStatus : undefined, 'cancelled')
    await vtn.stop()
  })

  it('with storeReports false, acknowledges a report and hands it on without storing it', async () => {
    const vtn = new Vtn({ vtnID: 'vtn', dataDir: dir, storeReports: false }, { clock: new ManualClock(t0) })
    await vtn.start()
    await register(vtn, 'ven-1')
    const registered = await call(vtn, 'EiReport', { type: 'oadrRegisterReport', requestID: 'rr', oadrReports: [telemetryOffer], venID: 'ven-1' })
    const reportRequestID = registered.type === 'oadrRegisteredReport' ? registered.oadrReportRequests[0]?.reportRequestID as string : ''
    const handed: number[] = []
    vtn.on('report', stored => { handed.push(stored.report.intervals?.[0]?.payloads[0]?.value as number) })
    const updated = await call(vtn, 'EiReport', { type: 'oadrUpdateReport', requestID: 'u', venID: 'ven-1', oadrReports: [{ reportRequestID, reportSpecifierID: 'telemetry-usage', reportName: 'TELEMETRY_USAGE', createdDateTimeMs: t0, intervals: [{ dtstartMs: t0, durationMs: minute, payloads: [{ rID: 'site-power', value: 42 }] }] }] })
    assert.equal(code(updated), '200')
    assert.deepEqual(handed, [42])
    assert.deepEqual(await vtn.readReports('ven-1'), [])
    await vtn.stop()
  })

  it('delivers events targeted at a group to its members only', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock: new ManualClock(t0) })
    await vtn.start()
    for (const v of ['a', 'b', 'c']) await register(vtn, v)
    await vtn.defineGroup('north', ['a', 'b'])
    await vtn.createEvent({ eventID: 'g', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { groupIDs: ['north'] }, signals: [signal] })
    const types = await Promise.all(['a', 'b', 'c'].map(async v => (await call(vtn, 'OadrPoll', { type: 'oadrPoll', venID: v })).type))
    assert.deepEqual(types, ['oadrDistributeEvent', 'oadrDistributeEvent', 'oadrResponse'])
    await vtn.stop()
  })

  it('answers an update for a report it cancelled with oadrCancelReport, and does not store it', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock: new ManualClock(t0) })
    await vtn.start()
    await register(vtn, 'ven-1')
    const registered = await call(vtn, 'EiReport', { type: 'oadrRegisterReport', requestID: 'rr', oadrReports: [telemetryOffer], venID: 'ven-1' })
    const reportRequestID = registered.type === 'oadrRegisteredReport' ? registered.oadrReportRequests[0]?.reportRequestID as string : ''
    await vtn.cancelReport('ven-1', reportRequestID)
    const updated = await call(vtn, 'EiReport', { type: 'oadrUpdateReport', requestID: 'u', venID: 'ven-1', oadrReports: [{ reportRequestID, reportSpecifierID: 'telemetry-usage', createdDateTimeMs: t0 }] })
    assert.deepEqual(updated.type === 'oadrUpdatedReport' ? updated.oadrCancelReport?.reportRequestIDs : undefined, [reportRequestID])
    assert.deepEqual(await vtn.readReports('ven-1'), [])
    await vtn.stop()
  })

  it('keeps opt schedules per VEN and refuses to cancel an unknown optID (452)', async () => {
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock: new ManualClock(t0) })
    await vtn.start()
    await register(vtn, 'ven-1')
    const opts: string[] = []
    vtn.on('opt', r => opts.push(r.opt.optID))
    assert.equal(code(await call(vtn, 'EiOpt', { type: 'oadrCreateOpt', optID: 'o1', optType: 'optIn', optReason: 'participating', venID: 'ven-1', createdDateTimeMs: t0, requestID: 'o', eiTarget: {} })), '200')
    assert.deepEqual(opts, ['o1'])
    assert.equal(code(await call(vtn, 'EiOpt', { type: 'oadrCancelOpt', requestID: 'c', optID: 'o2', venID: 'ven-1' })), '452')
    assert.equal(code(await call(vtn, 'EiOpt', { type: 'oadrCancelOpt', requestID: 'c', optID: 'o1', venID: 'ven-1' })), '200')
    assert.deepEqual(vtn.optSchedules(), [])
    await vtn.stop()
  })
})
