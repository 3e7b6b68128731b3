/** 2.0b registration rules (quoted from the schema's annotations), as the VTN and VEN of this layer keep them. */
import assert from 'node:assert/strict'
import { ScaledClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import { localSender } from '../../../src/openadr/local.js'
import { decodePayload, encodePayload } from '../../../src/openadr/codec/index.js'
import type { OadrMessage } from '../../../src/openadr/model/index.js'
import type { PeerIdentity } from '../../../src/openadr/transport.js'

const t0 = Date.UTC(2026, 5, 1)
const cert: PeerIdentity = { transport: 'https', fingerprint: '01:02:03:04:05:06:07:08:09:0a' }

async function ask (vtn: Vtn, message: OadrMessage, peer: PeerIdentity): Promise<OadrMessage> {
  return decodePayload(await vtn.handler('EiRegisterParty', encodePayload(message), peer))
}

describe('conformance: registration', () => {
  it("rule 'venID not included in query unless already registered' (and likewise registrationID)", async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    const before = await ask(vtn, { type: 'oadrQueryRegistration', requestID: 'q1' }, cert)
    assert.equal(before.type, 'oadrCreatedPartyRegistration')
    assert.equal(before.venID, undefined)
    assert.equal(before.registrationID, undefined)
    const created = await ask(vtn, { type: 'oadrCreatePartyRegistration', requestID: 'c', venID: 'ven-9', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false }, cert)
    assert.equal(created.type, 'oadrCreatedPartyRegistration')
    const after = await ask(vtn, { type: 'oadrQueryRegistration', requestID: 'q2' }, cert)
    assert.equal(after.type === 'oadrCreatedPartyRegistration' ? after.venID : '', 'ven-9')
    assert.equal(after.type === 'oadrCreatedPartyRegistration' ? after.registrationID : '', created.registrationID)
    assert.equal(after.type === 'oadrCreatedPartyRegistration' ? after.eiResponse.requestID : '', 'q2', 'the answer echoes the requestID')
    await vtn.stop()
  })

  it("rule 'oadrTransportAddress: not required if http pull model' (required for push: 451 without it)", async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    const base = { type: 'oadrCreatePartyRegistration' as const, requestID: 'c', oadrProfileName: '2.0b' as const, oadrTransportName: 'simpleHttp' as const, oadrReportOnly: false, oadrXmlSignature: false }
    assert.equal((await ask(vtn, { ...base, venID: 'pull', oadrHttpPullModel: true }, { transport: 'local' })).type, 'oadrCreatedPartyRegistration')
    const push = await ask(vtn, { ...base, venID: 'push', oadrHttpPullModel: false }, { transport: 'local' })
    assert.equal(push.type === 'oadrResponse' ? push.eiResponse.responseCode : push.type, '451')
    await vtn.stop()
  })

  it("rule 'registrationID: used for re-registering an existing registration' (another one is refused with 452)", async () => {
    const vtn = new Vtn({ vtnID: 'vtn' })
    await vtn.start()
    const base = { type: 'oadrCreatePartyRegistration' as const, requestID: 'c', venID: 'ven-1', oadrProfileName: '2.0b' as const, oadrTransportName: 'simpleHttp' as const, oadrReportOnly: false, oadrXmlSignature: false }
    const first = await ask(vtn, base, { transport: 'local' })
    const again = await ask(vtn, { ...base, registrationID: first.type === 'oadrCreatedPartyRegistration' ? first.registrationID : '' }, { transport: 'local' })
    assert.equal(again.type === 'oadrCreatedPartyRegistration' ? again.registrationID : '', first.type === 'oadrCreatedPartyRegistration' ? first.registrationID : '-')
    const forged = await ask(vtn, { ...base, registrationID: 'not-mine' }, { transport: 'local' })
    assert.equal(forged.type === 'oadrResponse' ? forged.eiResponse.responseCode : forged.type, '452')
    await vtn.stop()
  })

  it("rule 'The VEN shall send an oadrPoll payload to the VTN at most once for each duration specified by oadrRequestedOadrPollFreq'", async () => {
    // 1 real ms = 100 simulated ms; the VTN asks for a 10 s period, so 1 s of real time allows at most 11 polls.
    const clock = new ScaledClock(t0, 100)
    const vtn = new Vtn({ vtnID: 'vtn', pollFreqMs: 10_000 }, { clock })
    await vtn.start()
    const pollTimes: number[] = []
    const handler = vtn.handler
    const ven = new Ven({ venName: 'v' }, {
      clock,
      sender: localSender(async (service, xml, peer) => {
        if (service === 'OadrPoll') pollTimes.push(clock.now())
        return await handler(service, xml, peer)
      })
    })
    await ven.start()
    await new Promise(resolve => setTimeout(resolve, 1000))
    await ven.stop()
    await vtn.stop()
    assert.ok(pollTimes.length >= 5, `polled ${pollTimes.length} times`)
    // Node timers may fire up to 1 ms (here 100 simulated ms) early: allow 2 real ms of that.
    for (let i = 1; i < pollTimes.length; i++) {
      assert.ok((pollTimes[i] as number) - (pollTimes[i - 1] as number) >= 10_000 - 200, `polls ${i - 1} and ${i} only ${(pollTimes[i] as number) - (pollTimes[i - 1] as number)} ms apart`)
    }
  })
})
