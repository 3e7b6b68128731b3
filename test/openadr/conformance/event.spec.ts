/** 2.0b event rules, as the VTN and VEN of this layer keep them. */
import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import { localSender } from '../../../src/openadr/local.js'
import { decodePayload } from '../../../src/openadr/codec/index.js'
import type { EventSignal, OadrMessage } from '../../../src/openadr/model/index.js'
import type { PayloadHandler } from '../../../src/openadr/transport.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8)
const signal: EventSignal = { signalName: 'LOAD_DISPATCH', signalType: 'delta', signalID: 'd', intervals: [{ durationMs: 30 * minute, values: [-10] }, { durationMs: 30 * minute, values: [-20] }] }

/** A VTN and a VEN whose messages to the VTN are recorded. */
async function pair (clock: ManualClock): Promise<{ vtn: Vtn, ven: Ven, sent: OadrMessage[] }> {
  const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
  await vtn.start()
  const sent: OadrMessage[] = []
  const recording: PayloadHandler = async (service, xml, peer) => { sent.push(decodePayload(xml)); return await vtn.handler(service, xml, peer) }
  const ven = new Ven({ venName: 'v', venID: 'ven-1' }, { clock, sender: localSender(recording) })
  // Registered, then its poll timer stopped: the tests drive each poll themselves.
  await ven.start()
  await ven.stop()
  return { vtn, ven, sent }
}

describe('conformance: events', () => {
  it('rule: each modification of an event increments its modificationNumber by one, cancellation too (status cancelled)', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const e = await vtn.createEvent({ eventID: 'e', marketContext: 'http://mc', dtstartMs: t0 + 60 * minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    assert.equal(e.eventDescriptor.modificationNumber, 0)
    const m1 = await vtn.modifyEvent('e', { signals: [{ ...signal, intervals: [{ durationMs: 60 * minute, values: [-30] }] }] })
    const m2 = await vtn.modifyEvent('e', { dtstartMs: t0 + 90 * minute })
    const c = await vtn.cancelEvent('e')
    assert.deepEqual([m1, m2, c].map(x => x.eventDescriptor.modificationNumber), [1, 2, 3])
    assert.equal(m1.eiActivePeriod.durationMs, 60 * minute)
    assert.equal(m2.eiActivePeriod.dtstartMs, t0 + 90 * minute)
    assert.equal(c.eventDescriptor.eventStatus, 'cancelled')
    assert.equal(m2.eventDescriptor.modificationDateTimeMs, t0)
    await vtn.stop()
  })

  it("rule: the VEN answers every event with oadrResponseRequired 'always' in an oadrCreatedEvent naming its modificationNumber, and none with 'never'", async () => {
    const clock = new ManualClock(t0)
    const { vtn, ven, sent } = await pair(clock)
    await vtn.createEvent({ eventID: 'always', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    await vtn.createEvent({ eventID: 'never', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-1'] }, signals: [signal], responseRequired: 'never' })
    await vtn.modifyEvent('always', { priority: 2 })
    await ven.pollOnce()
    const created = sent.filter(m => m.type === 'oadrCreatedEvent')
    assert.equal(created.length, 1)
    const responses = created[0]?.type === 'oadrCreatedEvent' ? created[0].eventResponses ?? [] : []
    assert.deepEqual(responses.map(r => [r.qualifiedEventID.eventID, r.qualifiedEventID.modificationNumber, r.optType]), [['always', 1, 'optIn']])
    assert.deepEqual(vtn.eventResponses().map(r => r.eventID), ['always'])
    assert.deepEqual(ven.events().map(e => e.event.eventDescriptor.eventID).sort(), ['always', 'never'])
    await vtn.stop()
  })

  it('rule: an unchanged event (same modificationNumber) is not answered again; a changed one is', async () => {
    const clock = new ManualClock(t0)
    const { vtn, ven, sent } = await pair(clock)
    await vtn.createEvent({ eventID: 'e', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    await ven.pollOnce()
    await vtn.createEvent({ eventID: 'f', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    await ven.pollOnce()
    const answered = sent.flatMap(m => m.type === 'oadrCreatedEvent' ? (m.eventResponses ?? []).map(r => r.qualifiedEventID.eventID) : [])
    assert.deepEqual(answered, ['e', 'f'])
    await vtn.stop()
  })

  it('rule: the eventStatus sent reflects the clock when the payload is made (far, then active)', async () => {
    const clock = new ManualClock(t0)
    const { vtn, ven } = await pair(clock)
    await vtn.createEvent({ eventID: 'e', marketContext: 'http://mc', dtstartMs: t0 + 60 * minute, targets: { venIDs: ['ven-1'] }, signals: [signal] })
    await ven.pollOnce()
    assert.equal(ven.events()[0]?.event.eventDescriptor.eventStatus, 'far')
    clock.set(t0 + 61 * minute)
    await vtn.modifyEvent('e', { vtnComment: 'now' })
    await ven.pollOnce()
    assert.equal(ven.events()[0]?.event.eventDescriptor.eventStatus, 'active')
    await vtn.stop()
  })
})
