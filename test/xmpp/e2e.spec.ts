/**
 * End to end over XMPP through a real Prosody: the transport-independent Vtn and Ven (push model, the XMPP
 * norm) register, exchange a LOAD_DISPATCH event and its opt answer, and stream TELEMETRY_USAGE reports;
 * then the server is restarted mid-session and a second event and every report still arrive, once each.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { powerRealKw } from '../../src/openadr/model/index.js'
import { telemetryOffer } from '../openadr/fixtures.js'
import type { PayloadHandler, PeerIdentity } from '../../src/openadr/transport.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import type { EventResponseRecord, StoredReport } from '../../src/openadr/vtn/types.js'
import { ScaledClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { XmppEndpoint } from '../../src/xmpp/xmppEndpoint.js'
import { startProsody, type ProsodyServer } from '../helpers/prosody.js'
import { assertSchemaValid } from '../helpers/xsd.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)

const dispatch = (eventID: string, venID: string, setpoints: number[]): Parameters<Vtn['createEvent']>[0] => ({
  eventID,
  marketContext: 'http://utility.example/dr',
  dtstartMs: t0 + 30 * minute,
  targets: { venIDs: [venID] },
  signals: [{
    signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'sp', itemBase: powerRealKw(),
    intervals: setpoints.map((v, i) => ({ durationMs: 15 * minute, uid: String(i), values: [v] }))
  }]
})

async function until (condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('xmpp: OpenADR end to end between a Vtn and a Ven over Prosody', function () {
  this.timeout(60_000)
  let server: ProsodyServer
  let vtnEndpoint: XmppEndpoint
  let venEndpoint: XmppEndpoint
  let vtn: Vtn
  let ven: Ven
  const wire: string[] = []
  const peers: PeerIdentity[] = []

  before(async () => {
    server = await startProsody({ users: { vtn: 'vtn-pw', 'site-1': 'site-1-pw' } })
  })
  after(async () => {
    await ven?.stop()
    await vtn?.stop()
    await Promise.allSettled([venEndpoint?.stop(), vtnEndpoint?.stop()])
    await server?.dispose()
  })

  it('registration, LOAD_DISPATCH event, optIn and reports flow; a server restart loses nothing', async () => {
    // 1 real ms = 600 simulated ms: a 1-minute report period passes in 100 ms.
    const clock = new ScaledClock(t0, 600)
    const recording = (handler: () => PayloadHandler): PayloadHandler => async (service, document, peer) => {
      wire.push(document)
      peers.push(peer)
      const answer = await handler()(service, document, peer)
      wire.push(answer)
      return answer
    }
    const options = (username: string): ConstructorParameters<typeof XmppEndpoint>[0] => ({
      service: server.service, domain: server.domain, username, password: `${username}-pw`, ca: server.caPem,
      ackTimeoutMs: 3_000, deliveryTimeoutMs: 30_000, reconnect: { initialDelayMs: 50, maxDelayMs: 400 }, resend: { initialDelayMs: 50, maxDelayMs: 400 }
    })
    vtnEndpoint = new XmppEndpoint(options('vtn'), { random: seededRandom(11), handler: recording(() => vtn.handler) })
    venEndpoint = new XmppEndpoint(options('site-1'), { random: seededRandom(12), handler: recording(() => ven.handler) })
    // A push-model VEN's oadrTransportAddress over XMPP is its full JID.
    vtn = new Vtn({ vtnID: 'vtn-xmpp', pollFreqMs: 30_000, transports: ['xmpp'] }, { clock, senderFor: jid => vtnEndpoint.senderTo(jid) })
    ven = new Ven({ venName: 'site-1', reports: [telemetryOffer], httpPullModel: false, transportAddress: venEndpoint.jid }, {
      sender: venEndpoint.senderTo(vtnEndpoint.jid),
      clock,
      decideOpt: event => event.eiEventSignals.some(s => s.signalName === 'LOAD_DISPATCH') ? 'optIn' : 'optOut',
      readReport: (_rID, startMs) => 100 + (startMs % 7)
    })
    await Promise.all([vtnEndpoint.start(), venEndpoint.start()])
    await vtn.start()
    await ven.start()

    const venID = ven.venID as string
    const registration = vtn.registration(venID)
    assert.equal(registration?.httpPullModel, false)
    assert.equal(registration?.transportAddress, venEndpoint.jid)
    assert.ok(peers.some(p => p.transport === 'xmpp' && p.jid === venEndpoint.jid), 'the VTN saw the VEN\'s JID')
    await until(() => vtn.reportRequests(venID).filter(r => r.confirmed).length === 1)

    const responses: EventResponseRecord[] = []
    vtn.on('eventResponse', r => { responses.push(r) })
    const reports: StoredReport[] = []
    vtn.on('report', r => { reports.push(r) })

    const firstAnswer = once(vtn, 'eventResponse')
    await vtn.createEvent(dispatch('dispatch-1', venID, [120, 90, 60, 90]))
    await firstAnswer
    assert.deepEqual(responses.map(r => [r.eventID, r.optType]), [['dispatch-1', 'optIn']])
    assert.deepEqual(ven.events()[0]?.event.eiEventSignals[0]?.intervals.map(i => i.values[0]), [120, 90, 60, 90])
    await until(() => reports.length >= 2)

    // The server goes away; an event is created and reports fall due while it is down.
    const sessions = [vtnEndpoint.sessions, venEndpoint.sessions]
    await server.stop()
    await until(() => !vtnEndpoint.isOnline && !venEndpoint.isOnline)
    const reportsBeforeOutage = reports.length
    await vtn.createEvent(dispatch('dispatch-2', venID, [80, 80]))
    await new Promise(resolve => setTimeout(resolve, 500))
    await server.start()

    await until(() => responses.some(r => r.eventID === 'dispatch-2'))
    assert.deepEqual(responses.find(r => r.eventID === 'dispatch-2')?.optType, 'optIn')
    assert.ok(ven.events().some(e => e.event.eventDescriptor.eventID === 'dispatch-2'))
    assert.ok(vtnEndpoint.sessions > (sessions[0] ?? 0) && venEndpoint.sessions > (sessions[1] ?? 0), 'both ends reconnected')
    // Reports are numbered per request (eiReportID `<request>-<n>`): none lost, none stored twice.
    await until(() => reports.length >= reportsBeforeOutage + 8)
    await ven.stop()
    await new Promise(resolve => setTimeout(resolve, 300))
    const ids = reports.map(r => r.report.eiReportID ?? '')
    const requestID = vtn.reportRequests(venID)[0]?.request.reportRequestID
    const numbers = ids.map(id => Number(id.slice(`${requestID ?? ''}-`.length))).sort((a, b) => a - b)
    assert.deepEqual(numbers, numbers.map((_, i) => i), `reports 0..${numbers.length - 1} each once: ${ids.join(',')}`)
    assert.equal(responses.filter(r => r.eventID === 'dispatch-1').length, 1, 'dispatch-1 answered once')

    await assertSchemaValid(wire)
  })
})
