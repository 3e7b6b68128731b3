import assert from 'node:assert/strict'
import { client as xmppClient, xml, type Client, type XmlElement } from '@xmpp/client'
import { decodePayload, encodeMessage, encodePayload } from '../../src/openadr/codec/index.js'
import { OadrError } from '../../src/openadr/errors.js'
import type { OadrServiceName, PayloadHandler, PeerIdentity } from '../../src/openadr/transport.js'
import { signingHandler, signingSender } from '../../src/openadr/security/signing.js'
import { PayloadSigner, PayloadVerifier } from '../../src/openadr/security/xmlSignature.js'
import { oadrFingerprintOfPem } from '../../src/openadr/security/fingerprint.js'
import { seededRandom } from '../../src/util/random.js'
import { XmppAuthenticationError, XmppDeliveryError, XmppPayloadError } from '../../src/xmpp/errors.js'
import { XmppEndpoint } from '../../src/xmpp/xmppEndpoint.js'
import { testPki } from '../helpers/certs.js'
import { startProsody, type ProsodyServer } from '../helpers/prosody.js'
import { validateAgainstSchema } from '../helpers/xsd.js'

const oadrNs = 'http://openadr.org/oadr-2.0b/2012/07'

interface Call { service: OadrServiceName, xml: string, peer: PeerIdentity }

/** A service that records what it got and answers oadrResponse echoing the venID (or the decode error's code). */
function recordingHandler (calls: Call[]): PayloadHandler {
  return async (service, document, peer) => {
    calls.push({ service, xml: document, peer })
    try {
      const message = decodePayload(document)
      const venID = 'venID' in message && typeof message.venID === 'string' ? message.venID : 'none'
      return encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: '200', responseDescription: service, requestID: '' }, venID })
    } catch (err) {
      const code = err instanceof OadrError ? err.responseCode : '500'
      return encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: code, responseDescription: (err as Error).message, requestID: '' } })
    }
  }
}

describe('xmpp: OpenADR payloads over a real Prosody', function () {
  this.timeout(30_000)
  let server: ProsodyServer
  let vtn: XmppEndpoint
  let ven: XmppEndpoint
  const vtnCalls: Call[] = []
  const venCalls: Call[] = []
  const endpoint = (username: string, handler?: PayloadHandler, extra: object = {}): XmppEndpoint => new XmppEndpoint(
    { service: server.service, domain: server.domain, username, password: `${username}-pw`, ca: server.caPem, ackTimeoutMs: 2_000, deliveryTimeoutMs: 5_000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, resend: { initialDelayMs: 50, maxDelayMs: 500 }, ...extra },
    { random: seededRandom(7), ...(handler !== undefined ? { handler } : {}) })

  before(async () => {
    server = await startProsody({ users: { vtn: 'vtn-pw', ven1: 'ven1-pw', raw: 'raw-pw', svtn: 'svtn-pw', sven: 'sven-pw' } })
    vtn = endpoint('vtn', recordingHandler(vtnCalls))
    ven = endpoint('ven1', recordingHandler(venCalls))
    await Promise.all([vtn.start(), ven.start()])
  })
  after(async () => {
    await Promise.allSettled([vtn?.stop(), ven?.stop()])
    await server?.dispose()
  })

  it('carries a VEN request to the VTN service and the answer back, over TLS with SASL', async () => {
    const answer = await ven.senderTo(vtn.jid).send('OadrPoll', encodePayload({ type: 'oadrPoll', venID: 'ven-1' }))
    const response = decodePayload(answer)
    assert.equal(response.type, 'oadrResponse')
    assert.equal(response.type === 'oadrResponse' && response.eiResponse.responseDescription, 'OadrPoll')
    assert.equal(response.type === 'oadrResponse' && response.venID, 'ven-1')
    const call = vtnCalls.at(-1)
    assert.equal(call?.service, 'OadrPoll')
    assert.equal(call?.peer.transport, 'xmpp')
    assert.equal(call?.peer.jid, ven.jid)
  })

  it('pushes from the VTN to a VEN JID (oadrDistributeEvent → the VEN\'s EiEvent handler)', async () => {
    const before = venCalls.length
    const request = encodePayload({ type: 'oadrRequestEvent', requestID: 'r-42', venID: 'ven-1' })
    const answer = await vtn.senderTo(ven.jid).send('EiEvent', request)
    assert.equal(decodePayload(answer).type, 'oadrResponse')
    assert.equal(venCalls.length, before + 1)
    assert.equal(venCalls.at(-1)?.service, 'EiEvent')
  })

  it('hands the service the document that was sent, schema-valid, although the server re-prefixed it', async () => {
    const message = { type: 'oadrRequestEvent', requestID: 'r-7', venID: 'ven-7' } as const
    const sent = encodePayload(message)
    await ven.senderTo(vtn.jid).send('EiEvent', sent)
    const received = vtnCalls.at(-1)?.xml ?? ''
    assert.deepEqual(decodePayload(received), decodePayload(sent))
    // The message element comes out character for character as the encoder wrote it.
    assert.ok(received.includes(encodeMessage(message)), received)
    const [result] = await validateAgainstSchema([received])
    assert.deepEqual(result?.errors, [])
  })

  it('carries XML-signed payloads whose signatures still verify at both ends', async () => {
    const pki = testPki('ecdsa')
    const venCert = pki.client('xmpp-ven')
    const vtnCert = pki.client('xmpp-vtn')
    const verified: PeerIdentity[] = []
    const signedVtn = endpoint('svtn', signingHandler({
      handler: async (service, document, peer) => { verified.push(peer); return await recordingHandler([])(service, document, peer) },
      verifier: new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] }),
      signer: new PayloadSigner({ cert: vtnCert.cert, key: vtnCert.key }),
      refusal: (_service, _xml, error) => encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: error.responseCode, responseDescription: error.message, requestID: '' } })
    }))
    const signedVen = endpoint('sven')
    await Promise.all([signedVtn.start(), signedVen.start()])
    try {
      const sender = signingSender({
        sender: signedVen.senderTo(signedVtn.jid),
        signer: new PayloadSigner({ cert: venCert.cert, key: venCert.key }),
        verifier: new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] })
      })
      const answer = decodePayload(await sender.send('OadrPoll', encodePayload({ type: 'oadrPoll', venID: 'ven-signed' })))
      assert.equal(answer.type === 'oadrResponse' && answer.eiResponse.responseCode, '200', 'the VTN verified the VEN\'s signature')
      assert.equal(verified.at(-1)?.fingerprint, oadrFingerprintOfPem(venCert.cert))
    } finally {
      await Promise.allSettled([signedVtn.stop(), signedVen.stop()])
    }
  })

  it('refuses a document that is not an oadrPayload before sending anything', async () => {
    await assert.rejects(ven.senderTo(vtn.jid).send('EiEvent', '<notPayload/>'), XmppPayloadError)
    await assert.rejects(ven.senderTo(vtn.jid).send('EiEvent', '<oadrPayload xmlns="' + oadrNs + '">'), XmppPayloadError)
  })

  it('advertises the OpenADR feature and services by service discovery (XEP-0030)', async () => {
    const raw = await rawClient(server, 'raw')
    try {
      const info = await raw.iqCaller.request(xml('iq', { type: 'get', to: vtn.jid }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })))
      const features = info.getChild('query')?.getChildElements().map(f => f.attrs.var)
      assert.ok(features?.includes('http://openadr.org/openadr2'))
      const items = await raw.iqCaller.request(xml('iq', { type: 'get', to: vtn.jid },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: 'http://openadr.org/openadr2#services' })))
      const nodes = items.getChild('query')?.getChildElements().map(i => `${i.attrs.node ?? ''} ${i.attrs.jid ?? ''}`)
      assert.ok(nodes?.includes(`http://openadr.org/OpenADR2/EiEvent ${vtn.jid}`))
    } finally { await raw.stop() }
  })

  describe('malformed stanzas are answered with an XMPP error and the session carries on', () => {
    let raw: Client
    before(async () => { raw = await rawClient(server, 'raw') })
    after(async () => { await raw?.stop() })

    const cases: Array<[string, () => XmlElement[], string]> = [
      ['oadrPayload without an OpenADR message', () => [xml('oadrPayload', { xmlns: oadrNs }, xml('oadrSignedObject', {}, xml('oadrNonsense')))], 'bad-request'],
      ['empty oadrPayload', () => [xml('oadrPayload', { xmlns: oadrNs })], 'bad-request'],
      ['two children in one IQ', () => [xml('oadrPayload', { xmlns: oadrNs }), xml('oadrPayload', { xmlns: oadrNs })], 'bad-request'],
      ['an unknown namespace', () => [xml('query', { xmlns: 'urn:example:nothing' })], 'service-unavailable']
    ]
    for (const [name, children, condition] of cases) {
      it(`${name} → ${condition}`, async () => {
        const refusedBefore = vtn.stats.refused
        const callsBefore = vtnCalls.length
        await assert.rejects(raw.iqCaller.request(xml('iq', { type: 'set', to: vtn.jid }, ...children()), 5_000),
          (err: Error & { condition?: string }) => err.condition === condition)
        assert.equal(vtnCalls.length, callsBefore, 'nothing reached the service')
        if (condition === 'bad-request' && children().length === 1) assert.equal(vtn.stats.refused, refusedBefore + 1)
        // Same session, next payload goes through.
        const answer = await raw.iqCaller.request(xml('iq', { type: 'set', to: vtn.jid }, oadrPoll('ven-raw')), 5_000)
        assert.ok(answer.getChild('oadrPayload', oadrNs) !== undefined)
        assert.equal(vtnCalls.length, callsBefore + 1)
        assert.ok(vtn.isOnline)
      })
    }

    it('a schema-invalid message reaches the service, whose oadrResponse travels back in the IQ result', async () => {
      const answer = await raw.iqCaller.request(xml('iq', { type: 'set', to: vtn.jid },
        xml('oadrPayload', { xmlns: oadrNs }, xml('oadrSignedObject', {}, xml('oadrPoll', {}, xml('wrong'))))), 5_000)
      const payload = answer.getChild('oadrPayload', oadrNs)
      assert.ok(payload !== undefined)
      const response = decodePayload(payload.toString())
      assert.equal(response.type === 'oadrResponse' && response.eiResponse.responseCode, '459')
    })
  })

  it('gives up with XmppDeliveryError when nobody is at the JID, after resending', async () => {
    const started = vtn.stats.resends
    await assert.rejects(
      vtn.deliver(`ven1@${server.domain}/nobody-here`, 'EiEvent', encodePayload({ type: 'oadrPoll', venID: 'x' }), { signal: AbortSignal.timeout(1_000) }),
      (err: Error) => err instanceof XmppDeliveryError && /service-unavailable/.test(err.message))
    assert.ok(vtn.stats.resends > started, 'the bounce was retried before giving up')
  })

  it('refuses wrong credentials at start with XmppAuthenticationError (no retry loop)', async () => {
    const intruder = new XmppEndpoint({ service: server.service, domain: server.domain, username: 'ven1', password: 'wrong', ca: server.caPem },
      { random: seededRandom(1) })
    await assert.rejects(intruder.start(), XmppAuthenticationError)
    await intruder.stop()
  })

  it('authenticates with SCRAM-SHA-1 when asked to', async () => {
    const scram = endpoint('ven1', undefined, { saslMechanism: 'SCRAM-SHA-1', resource: 'scram' })
    await scram.start()
    try {
      assert.equal(decodePayload(await scram.senderTo(vtn.jid).send('OadrPoll', encodePayload({ type: 'oadrPoll', venID: 'ven-scram' }))).type, 'oadrResponse')
    } finally { await scram.stop() }
  })

  it('refuses a server whose certificate does not chain to the configured CA, and keeps retrying', async () => {
    const warnings: string[] = []
    const logger = { debug: () => {}, warn: (obj: object) => { warnings.push(JSON.stringify(obj)) } }
    const other = new XmppEndpoint(
      { service: server.service, domain: server.domain, username: 'ven1', password: 'ven1-pw', resource: 'rogue-ca', ca: testPki('ecdsa').ca.cert, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
      { random: seededRandom(3), logger })
    const started = other.start()
    const outcome = await Promise.race([started.then(() => 'online', () => 'failed'), new Promise(resolve => setTimeout(resolve, 1_000, 'still trying'))])
    await other.stop()
    assert.equal(outcome, 'still trying')
    assert.ok(warnings.length >= 2, `retried: ${warnings.length}`)
    assert.match(warnings[0] ?? '', /certificate/i)
  })
})

function oadrPoll (venID: string): XmlElement {
  return xml('oadrPayload', { xmlns: oadrNs }, xml('oadrSignedObject', {},
    xml('oadrPoll', { 'xmlns:ei': 'http://docs.oasis-open.org/ns/energyinterop/201110', 'ei:schemaVersion': '2.0b' },
      xml('ei:venID', {}, venID))))
}

/** A plain @xmpp/client session for sending hand-made stanzas. */
async function rawClient (server: ProsodyServer, username: string): Promise<Client> {
  const password = `${username}-pw`
  const c = xmppClient({
    service: server.service, domain: server.domain, username, resource: `raw-${Math.floor(performance.now())}`,
    credentials: async authenticate => { await authenticate({ username, password }, 'PLAIN') }
  })
  c.reconnect.stop()
  const base = c.socketParameters.bind(c)
  c.socketParameters = service => ({ ...base(service), servername: server.domain, ca: server.caPem })
  c.on('error', () => {})
  await c.start()
  return c
}
