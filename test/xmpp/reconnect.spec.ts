import assert from 'node:assert/strict'
import { decodePayload, encodePayload } from '../../src/openadr/codec/index.js'
import type { PayloadHandler } from '../../src/openadr/transport.js'
import { seededRandom } from '../../src/util/random.js'
import { XmppEndpoint } from '../../src/xmpp/xmppEndpoint.js'
import { startProsody, type ProsodyServer } from '../helpers/prosody.js'

/** Counts applications per requestID and answers with an oadrResponse echoing it. */
function countingHandler (applied: Map<string, number>, hook?: (requestID: string) => Promise<void>): PayloadHandler {
  return async (_service, document) => {
    const message = decodePayload(document)
    const requestID = message.type === 'oadrRequestEvent' ? message.requestID : '?'
    applied.set(requestID, (applied.get(requestID) ?? 0) + 1)
    await hook?.(requestID)
    return encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: '200', requestID }, venID: 'ven-1' })
  }
}

const request = (requestID: string): string => encodePayload({ type: 'oadrRequestEvent', requestID, venID: 'ven-1' })

function answeredRequestID (answer: string): string | undefined {
  const message = decodePayload(answer)
  return message.type === 'oadrResponse' ? message.eiResponse.requestID : undefined
}

async function until (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('xmpp: the server goes away mid-session', function () {
  this.timeout(40_000)
  let server: ProsodyServer
  let vtn: XmppEndpoint
  let ven: XmppEndpoint
  const vtnApplied = new Map<string, number>()
  const venApplied = new Map<string, number>()
  let hold: ((requestID: string) => Promise<void>) | undefined
  const endpoint = (username: string, handler: PayloadHandler, seed: number): XmppEndpoint => new XmppEndpoint(
    { service: server.service, domain: server.domain, username, password: `${username}-pw`, ca: server.caPem, ackTimeoutMs: 3_000, deliveryTimeoutMs: 20_000, reconnect: { initialDelayMs: 50, maxDelayMs: 400 }, resend: { initialDelayMs: 50, maxDelayMs: 400 } },
    { random: seededRandom(seed), handler })

  before(async () => {
    server = await startProsody({ users: { vtn: 'vtn-pw', ven1: 'ven1-pw' } })
    vtn = endpoint('vtn', countingHandler(vtnApplied, async id => { await hold?.(id) }), 1)
    ven = endpoint('ven1', countingHandler(venApplied), 2)
    await Promise.all([vtn.start(), ven.start()])
  })
  after(async () => {
    await Promise.allSettled([vtn?.stop(), ven?.stop()])
    await server?.dispose()
  })

  it('payloads sent both ways while the server is down arrive once it is back, each applied once', async () => {
    const sessionsBefore = [vtn.sessions, ven.sessions]
    await server.stop()
    await until(() => !vtn.isOnline && !ven.isOnline)
    const up = Array.from({ length: 6 }, async (_, i) => await ven.senderTo(vtn.jid).send('EiEvent', request(`up-${i}`)))
    const down = Array.from({ length: 3 }, async (_, i) => await vtn.senderTo(ven.jid).send('EiEvent', request(`down-${i}`)))
    await new Promise(resolve => setTimeout(resolve, 300))
    await server.start()
    const answers = await Promise.all([...up, ...down])
    assert.deepEqual(answers.map(answeredRequestID), [...Array.from({ length: 6 }, (_, i) => `up-${i}`), ...Array.from({ length: 3 }, (_, i) => `down-${i}`)])
    for (let i = 0; i < 6; i++) assert.equal(vtnApplied.get(`up-${i}`), 1, `up-${i} applied once`)
    for (let i = 0; i < 3; i++) assert.equal(venApplied.get(`down-${i}`), 1, `down-${i} applied once`)
    assert.ok(vtn.sessions > (sessionsBefore[0] ?? 0) && ven.sessions > (sessionsBefore[1] ?? 0), 'both ends reconnected')
  })

  it('a result lost with the session is not applied twice: the resend gets the kept answer', async () => {
    let signalReached!: () => void
    let release!: () => void
    const reached = new Promise<void>(resolve => { signalReached = resolve })
    const released = new Promise<void>(resolve => { release = resolve })
    hold = async id => { if (id === 'lost-ack') { signalReached(); await released } }
    const replaysBefore = vtn.stats.replays
    const resendsBefore = ven.stats.resends
    const sent = ven.senderTo(vtn.jid).send('EiEvent', request('lost-ack'))
    await reached
    // The VTN applied the payload; its result dies with the server.
    await server.stop()
    release()
    await new Promise(resolve => setTimeout(resolve, 200))
    await server.start()
    assert.equal(answeredRequestID(await sent), 'lost-ack')
    hold = undefined
    assert.equal(vtnApplied.get('lost-ack'), 1, 'applied exactly once')
    assert.ok(vtn.stats.replays > replaysBefore, 'the resend was answered from the replay cache')
    assert.ok(ven.stats.resends > resendsBefore, 'the VEN resent')
  })

  it('a push to a VEN that is offline is bounced by the server and resent until the VEN is back', async () => {
    await ven.stop()
    const pushed = vtn.senderTo(ven.jid).send('EiEvent', request('while-offline'))
    await until(() => vtn.stats.resends > 0)
    const resendsWhileOffline = vtn.stats.resends
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.ok(vtn.stats.resends >= resendsWhileOffline)
    assert.equal(venApplied.get('while-offline'), undefined)
    await ven.start()
    assert.equal(answeredRequestID(await pushed), 'while-offline')
    assert.equal(venApplied.get('while-offline'), 1)
  })
})
