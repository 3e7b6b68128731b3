/**
 * `npm run bench -- codec [--json]`: the cost of the OpenADR codec on the VTN's hot path: decoding an
 * oadrPoll, encoding the common answers (oadrResponse, a queued oadrDistributeEvent), decoding a
 * distribute, and a whole oadrPoll answered by an in-process VTN handler (decode, look-up, encode).
 */
import { performance } from 'node:perf_hooks'
import { decodePayload, encodePayload } from '../src/openadr/codec/index.js'
import { Vtn } from '../src/openadr/vtn/vtn.js'
import { ManualClock } from '../src/util/clock.js'
import { powerRealKw } from '../src/openadr/model/index.js'
import type { OadrDistributeEvent } from '../src/openadr/model/index.js'

const t0 = Date.UTC(2026, 0, 1)

function measure (name: string, fn: () => unknown, json: boolean, minMs = 400): void {
  for (let i = 0; i < 2000; i++) fn()
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < minMs) {
    for (let i = 0; i < 1000; i++) fn()
    n += 1000
    elapsed = performance.now() - start
  }
  const usPerOp = elapsed * 1000 / n
  if (json) console.log(JSON.stringify({ case: name, opsPerSec: Math.round(n / elapsed * 1000), usPerOp: Number(usPerOp.toFixed(3)) }))
  else console.log(`${name.padEnd(34)} ${Math.round(n / elapsed * 1000).toLocaleString('en').padStart(12)} ops/s ${usPerOp.toFixed(2).padStart(9)} µs/op`)
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const poll = encodePayload({ type: 'oadrPoll', venID: 'ven-0042' })
  const distribute: OadrDistributeEvent = {
    type: 'oadrDistributeEvent',
    requestID: 'req-1',
    vtnID: 'vtn-1',
    oadrEvents: [{
      oadrResponseRequired: 'always',
      eiEvent: {
        eventDescriptor: { eventID: 'evt-1', modificationNumber: 3, marketContext: 'http://mc', createdDateTimeMs: t0, eventStatus: 'far', testEvent: 'false' },
        eiActivePeriod: { dtstartMs: t0 + 3_600_000, durationMs: 3_600_000 },
        eiEventSignals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 's', itemBase: powerRealKw(), intervals: [0, 1, 2, 3].map(i => ({ durationMs: 900_000, uid: String(i), values: [100 - i] })) }],
        eiTarget: { venID: ['ven-0042'] }
      }
    }]
  }
  const distributeXml = encodePayload(distribute)

  measure('decode oadrPoll', () => decodePayload(poll), json)
  measure('encode oadrResponse (empty poll)', () => encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: '200', responseDescription: 'OK', requestID: '' }, venID: 'ven-0042' }), json)
  measure('encode oadrDistributeEvent (4 iv)', () => encodePayload(distribute), json)
  measure('decode oadrDistributeEvent (4 iv)', () => decodePayload(distributeXml), json)

  const clock = new ManualClock(t0)
  const vtn = new Vtn({ vtnID: 'vtn-bench' }, { clock })
  await vtn.start()
  const register = encodePayload({ type: 'oadrCreatePartyRegistration', requestID: 'r', venID: 'ven-0042', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false })
  await vtn.handler('EiRegisterParty', register, { transport: 'local' })
  const peer = { transport: 'local' as const }
  const rounds = 50_000
  for (let i = 0; i < 5000; i++) await vtn.handler('OadrPoll', poll, peer)
  const start = performance.now()
  for (let i = 0; i < rounds; i++) await vtn.handler('OadrPoll', poll, peer)
  const elapsed = performance.now() - start
  const usPerOp = elapsed * 1000 / rounds
  if (json) console.log(JSON.stringify({ case: 'vtn handler oadrPoll round', opsPerSec: Math.round(rounds / elapsed * 1000), usPerOp: Number(usPerOp.toFixed(3)) }))
  else console.log(`${'vtn handler oadrPoll round'.padEnd(34)} ${Math.round(rounds / elapsed * 1000).toLocaleString('en').padStart(12)} ops/s ${usPerOp.toFixed(2).padStart(9)} µs/op  (target: 18,000 polls/s over HTTP needs ≤ 55 µs per poll on 2 cores, HTTP included)`)
  await vtn.stop()
}
