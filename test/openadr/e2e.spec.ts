/**
 * End to end in one process: a VEN of this layer registers with a VTN of this layer, receives a
 * LOAD_DISPATCH event with several intervals, opts in, and sends TELEMETRY_USAGE reports; once polling
 * (pull model) and once being pushed to (push model).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ScaledClock } from '../../src/util/clock.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { LocalNetwork, localSender } from '../../src/openadr/local.js'
import { powerRealKw } from '../../src/openadr/model/index.js'
import { telemetryOffer } from './fixtures.js'
import type { StoredReport } from '../../src/openadr/vtn/types.js'
import type { PayloadHandler } from '../../src/openadr/transport.js'
import { assertSchemaValid } from '../helpers/xsd.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)

/** Wraps a handler so every document in and out is kept for a schema check. */
function recording (handler: PayloadHandler, log: string[]): PayloadHandler {
  return async (service, xml, peer) => {
    log.push(xml)
    const answer = await handler(service, xml, peer)
    log.push(answer)
    return answer
  }
}

async function scenario (pull: boolean): Promise<void> {
  const wire: string[] = []
  // 1 real ms = 600 simulated ms: a 1-minute report period passes in 100 ms.
  const clock = new ScaledClock(t0, 600)
  const network = new LocalNetwork()
  const vtn = new Vtn({ vtnID: 'vtn-e2e', pollFreqMs: 30_000 }, { clock, senderFor: address => network.senderFor(address) })
  await vtn.start()
  const ven = new Ven({
    venName: 'site-1', reports: [telemetryOffer], httpPullModel: pull,
    ...(pull ? {} : { transportAddress: 'local://site-1' })
  }, {
    sender: localSender(recording(vtn.handler, wire)),
    clock,
    decideOpt: event => event.eiEventSignals.some(s => s.signalName === 'LOAD_DISPATCH') ? 'optIn' : 'optOut',
    readReport: (_rID, startMs) => 100 + (startMs % 7)
  })
  if (!pull) network.listen('local://site-1', recording(ven.handler, wire))
  try {
    await ven.start()
    const venID = ven.venID as string
    assert.equal(vtn.registration(venID)?.httpPullModel, pull)
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
    const [response] = await responded as [{ venID: string, eventID: string, optType: string, modificationNumber: number }]
    assert.deepEqual([response.venID, response.eventID, response.optType, response.modificationNumber], [venID, 'dispatch-1', 'optIn', 0])
    const held = ven.events()[0]
    assert.ok(held !== undefined)
    assert.deepEqual(held.event.eiEventSignals[0]?.intervals.map(i => i.values[0]), setpoints)
    assert.equal(held.event.eiActivePeriod.durationMs, 60 * minute)
    assert.equal(held.event.eventDescriptor.eventStatus, 'far')

    // A modification (new setpoints) reaches the VEN with the next modificationNumber and is answered again.
    const again = once(vtn, 'eventResponse')
    await vtn.modifyEvent('dispatch-1', { signals: [{ ...held.event.eiEventSignals[0]!, intervals: [{ durationMs: 60 * minute, values: [50] }] }], reason: 'deeper' })
    if (pull) await ven.pollOnce()
    const [second] = await again as [{ modificationNumber: number }]
    assert.equal(second.modificationNumber, 1)
    assert.deepEqual(ven.events()[0]?.event.eiEventSignals[0]?.intervals.map(i => i.values[0]), [50])

    const reports: StoredReport[] = []
    await new Promise<void>(resolve => {
      vtn.on('report', r => { reports.push(r); if (reports.length >= 2) resolve() })
    })
    const first = reports[0]?.report
    assert.equal(first?.reportName, 'TELEMETRY_USAGE')
    assert.equal(first?.intervals?.[0]?.payloads[0]?.rID, 'site-power')
    assert.equal(typeof first?.intervals?.[0]?.payloads[0]?.value, 'number')
    assert.ok((await vtn.readReports(venID)).length >= 2)
    assert.ok(wire.length > 10)
    await assertSchemaValid(wire)
  } finally {
    await ven.stop()
    await vtn.stop()
  }
}

describe('OpenADR end to end, in process', () => {
  it('pull: a VEN registers, polls, receives a multi-interval LOAD_DISPATCH event, opts in and sends TELEMETRY_USAGE', async () => {
    await scenario(true)
  })

  it('push: the same with the VTN pushing to the VEN', async () => {
    await scenario(false)
  })
})
