import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ManualClock, ScaledClock } from '../../src/util/clock.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { localMessageSender, localSender } from '../../src/openadr/local.js'
import type { AnySender, MessageHandler, PayloadHandler } from '../../src/openadr/transport.js'
import type { OadrMessage } from '../../src/openadr/model/message.js'
import type { EventSignal } from '../../src/openadr/model/event.js'
import { decodePayload } from '../../src/openadr/codec/index.js'
import { OadrResponseError } from '../../src/openadr/errors.js'
import { telemetryOffer } from './fixtures.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8)
const signals: EventSignal[] = [{ signalName: 'SIMPLE', signalType: 'level', signalID: 's', intervals: [{ durationMs: minute, values: [1] }] }]

/** Registration, report offer and request, an event answered optIn, one report: what the VTN ends up holding, and the request types it saw. */
async function session (transport: 'xml' | 'objects'): Promise<{ seen: string[], held: unknown }> {
  // 600 times real time: the requested report falls due within 100 ms.
  const clock = new ScaledClock(t0, 600)
  let n = 0
  const vtn = new Vtn({ vtnID: 'vtn', requestReports: () => [] }, { clock, newId: () => `id-${n++}` })
  await vtn.start()
  const seen: string[] = []
  const xml: PayloadHandler = async (service, doc, peer) => {
    seen.push(decodePayload(doc).type)
    return await vtn.handler(service, doc, peer)
  }
  const objects: MessageHandler = async (service, message, peer) => {
    seen.push(message.type)
    return await vtn.messageHandler(service, message, peer)
  }
  const sender: AnySender = transport === 'xml' ? localSender(xml) : localMessageSender(objects)
  let m = 0
  const ven = new Ven({ venName: 'v', venID: 'ven-1', reports: [telemetryOffer] }, { clock, sender, readReport: () => 7, newId: () => `ven-${m++}` })
  await ven.start()
  await vtn.createEvent({ eventID: 'e1', marketContext: 'http://mc', dtstartMs: t0 + 10 * minute, targets: { venIDs: ['ven-1'] }, signals })
  await ven.pollOnce()
  const reported = once(vtn, 'report')
  await vtn.requestReport('ven-1', { reportRequestID: 'rq', reportSpecifier: { reportSpecifierID: 'telemetry-usage', granularityMs: minute, reportBackDurationMs: minute, specifierPayloads: [{ rID: 'site-power', readingType: 'Direct Read' }] } })
  await ven.pollOnce()
  const [report] = await Promise.race([reported, new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('no report')) }, 5_000))]) as [{ report: { intervals?: Array<{ payloads: Array<{ value: unknown }> }> } }]
  await ven.stop()
  const held = {
    registration: vtn.registration('ven-1')?.registrationID,
    responses: vtn.eventResponses('e1').map(r => [r.venID, r.optType, r.modificationNumber]),
    venEvents: ven.events().map(h => [h.event.eventDescriptor.eventID, h.optType]),
    confirmed: vtn.reportRequests('ven-1').map(r => [r.request.reportRequestID, r.confirmed]),
    value: report.report.intervals?.[0]?.payloads[0]?.value
  }
  ven.removeAllListeners()
  await vtn.stop()
  return { seen, held }
}

describe('in-process object transport (localMessageSender)', () => {
  it('runs the same VTN and VEN services as the XML transport: the same requests, the same outcome', async () => {
    const xml = await session('xml')
    const objects = await session('objects')
    // Polls also come from the VEN's poll timer, on real time: their count may differ, the rest may not.
    const requests = (seen: string[]): string[] => seen.filter(type => type !== 'oadrPoll')
    assert.deepEqual(requests(objects.seen), requests(xml.seen))
    assert.ok(xml.seen.includes('oadrCreatedEvent') && xml.seen.includes('oadrUpdateReport'), xml.seen.join(' '))
    assert.deepEqual(objects.held, xml.held)
    assert.deepEqual((objects.held as { responses: unknown }).responses, [['ven-1', 'optIn', 0]])
  assert.equal((objects.held as { value: unknown }).value, 7)
  })

  it('answers bad requests with an oadrResponse carrying the response code, which the VEN raises', async () => {
    const clock = new ManualClock(t0)
    const vtn = new Vtn({ vtnID: 'vtn' }, { clock })
    await vtn.start()
    const sender = localMessageSender(vtn.messageHandler)
    const answer = await sender.sendMessage('EiEvent', { type: 'oadrRequestEvent', requestID: 'r1', venID: 'stranger' })
    assert.equal(answer.type, 'oadrResponse')
    assert.equal((answer as Extract<OadrMessage, { type: 'oadrResponse' }>).eiResponse.responseCode, '463')
    assert.equal((answer as Extract<OadrMessage, { type: 'oadrResponse' }>).eiResponse.requestID, 'r1')
    const wrongService = await sender.sendMessage('EiOpt', { type: 'oadrRequestEvent', requestID: 'r2', venID: 'stranger' })
    assert.equal((wrongService as Extract<OadrMessage, { type: 'oadrResponse' }>).eiResponse.responseCode, '453')
    const ven = new Ven({ venName: 'v', venID: 'ven-1' }, { clock, sender })
    await vtn.stop()
    await assert.rejects(ven.start(), (err: Error) => err instanceof OadrResponseError && err.message.includes('VTN answered'))
  })

  it('pushes to a push-model VEN as decoded messages, which answers as it would over XML', async () => {
    const clock = new ManualClock(t0)
    const vens = new Map<string, Ven>()
    const vtn = new Vtn({ vtnID: 'vtn' }, {
      clock,
      senderFor: address => localMessageSender(async (service, message, peer) => {
        const ven = vens.get(address)
        if (ven === undefined) throw new Error(`nothing at ${address}`)
        return await ven.messageHandler(service, message, peer)
      })
    })
    await vtn.start()
    const ven = new Ven({ venName: 'p', venID: 'ven-p', httpPullModel: false, transportAddress: 'local://ven-p' }, { clock, sender: localMessageSender(vtn.messageHandler) })
    vens.set('local://ven-p', ven)
    await ven.start()
    const answered = once(vtn, 'eventResponse')
    await vtn.createEvent({ eventID: 'e1', marketContext: 'http://mc', dtstartMs: t0 + minute, targets: { venIDs: ['ven-p'] }, signals })
    const [response] = await answered as [{ venID: string, optType: string }]
    assert.deepEqual([response.venID, response.optType], ['ven-p', 'optIn'])
    assert.deepEqual(ven.events().map(h => h.event.eventDescriptor.eventID), ['e1'])
    await ven.stop()
    await vtn.stop()
  })
})
