/**
 * Security rule of the 2.0b profile that the VTN relies on: a VEN is authenticated by its certificate, and
 * a venID belongs to the certificate it registered with. Anyone else presenting that venID (over their own
 * TLS client certificate, or in a payload signed with their own certificate) gets oadrResponse 463 (not
 * registered or authorised), and the VEN's records are left as they were.
 */
import assert from 'node:assert/strict'
import { ScaledClock } from '../../../src/util/clock.js'
import { OadrHttpClients, OadrHttpServer, securedHandler } from '../../../src/openadr/http/index.js'
import { decodePayload, encodePayload } from '../../../src/openadr/codec/index.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import type { OadrMessage } from '../../../src/openadr/model/message.js'
import type { PayloadSender } from '../../../src/openadr/transport.js'
import { oadrFingerprintOfPem } from '../../../src/openadr/security/index.js'
import { testPki } from '../../helpers/certs.js'
import { startVen, startVtn, t0, type VenSide, type VtnSide } from './harness.js'

async function exchange (sender: PayloadSender, message: OadrMessage): Promise<OadrMessage> {
  return decodePayload(await sender.send(message.type === 'oadrPoll' ? 'OadrPoll' : message.type === 'oadrCreateOpt' ? 'EiOpt' : 'EiRegisterParty', encodePayload(message)))
}

function codeOf (message: OadrMessage): string | undefined {
  return 'eiResponse' in message ? message.eiResponse?.responseCode : undefined
}

describe('rule: a venID is bound to the certificate it registered with (463 for any other sender)', function () {
  this.timeout(30_000)
  const pki = testPki('rsa')
  const clock = new ScaledClock(t0, 1)
  const wire: string[] = []
  let vtnSide: VtnSide
  let venSide: VenSide
  let venID: string

  before(async () => {
    vtnSide = await startVtn('https+signed', clock, wire)
    venSide = await startVen('https+signed', vtnSide.server.url, 'owner', {}, { clock }, wire)
    await venSide.ven.start()
    venID = venSide.ven.venID as string
  })
  after(async () => {
    await venSide.stop()
    await vtnSide.stop()
  })

  it('over HTTPS: another VEN certificate polling, re-registering or opting as the venID gets 463', async () => {
    const intruder = pki.client('intruder')
    const clients = new OadrHttpClients({ tls: { cert: intruder.cert, key: intruder.key, ca: pki.ca.cert }, signWith: { cert: intruder.cert, key: intruder.key } })
    try {
      const sender = clients.senderFor(vtnSide.server.url)
      const poll = await exchange(sender, { type: 'oadrPoll', venID })
      assert.equal(poll.type, 'oadrResponse')
      assert.equal(codeOf(poll), '463')
      const takeover = await exchange(sender, {
        type: 'oadrCreatePartyRegistration', requestID: 'r-1', venID, oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp',
        oadrReportOnly: false, oadrXmlSignature: true, oadrVenName: 'evil', oadrHttpPullModel: false, oadrTransportAddress: 'https://127.0.0.1:9/'
      })
      assert.equal(codeOf(takeover), '463')
      const opt = await exchange(sender, { type: 'oadrCreateOpt', optID: 'o-1', optType: 'optOut', optReason: 'emergency', venID, createdDateTimeMs: t0, requestID: 'r-2', eiTarget: {} })
      assert.equal(codeOf(opt), '463')
    } finally {
      clients.stop()
    }
    const registration = vtnSide.vtn.registration(venID)
    assert.equal(registration?.fingerprint, oadrFingerprintOfPem(pki.client('owner').cert))
    assert.equal(registration?.venName, 'owner')
    assert.equal(registration?.httpPullModel, true)
    assert.deepEqual(vtnSide.vtn.optSchedules(venID), [])
    // The owner still gets through.
    await venSide.ven.pollOnce()
  })

  it('over HTTPS: a payload signed with a certificate other than the connection\'s gets 463', async () => {
    const owner = pki.client('owner')
    const other = pki.client('intruder')
    const clients = new OadrHttpClients({ tls: { cert: owner.cert, key: owner.key, ca: pki.ca.cert }, signWith: { cert: other.cert, key: other.key } })
    try {
      const answer = await exchange(clients.senderFor(vtnSide.server.url), { type: 'oadrPoll', venID })
      assert.equal(codeOf(answer), '463')
    } finally {
      clients.stop()
    }
  })

  it('over plain HTTP with required signatures: the signing certificate stands for the sender', async () => {
    const vtn = new Vtn({ vtnID: 'vtn-plain' }, { clock })
    await vtn.start()
    const server = new OadrHttpServer({}, { handler: securedHandler(vtn.handler, { verify: { requireSignature: true, trustedCa: [pki.ca.cert] } }) })
    await server.start()
    const owner = pki.client('owner')
    const other = pki.client('intruder')
    const ownerClients = new OadrHttpClients({ signWith: { cert: owner.cert, key: owner.key } })
    const otherClients = new OadrHttpClients({ signWith: { cert: other.cert, key: other.key } })
    const unsignedClients = new OadrHttpClients({})
    try {
      const created = await exchange(ownerClients.senderFor(server.url), {
        type: 'oadrCreatePartyRegistration', requestID: 'r-1', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp',
        oadrReportOnly: false, oadrXmlSignature: true, oadrVenName: 'owner', oadrHttpPullModel: true
      })
      assert.equal(created.type, 'oadrCreatedPartyRegistration')
      const plainVenID = (created as { venID: string }).venID
      assert.equal(vtn.registration(plainVenID)?.fingerprint, oadrFingerprintOfPem(owner.cert))
      assert.equal(codeOf(await exchange(otherClients.senderFor(server.url), { type: 'oadrPoll', venID: plainVenID })), '463')
      assert.equal(codeOf(await exchange(unsignedClients.senderFor(server.url), { type: 'oadrPoll', venID: plainVenID })), '463')
      assert.equal(codeOf(await exchange(ownerClients.senderFor(server.url), { type: 'oadrPoll', venID: plainVenID })), '200')
    } finally {
      ownerClients.stop()
      otherClients.stop()
      unsignedClients.stop()
      await server.stop()
      await vtn.stop()
    }
  })

  it('over HTTPS: a certificate from a CA the VTN does not trust never gets past the handshake', async () => {
    const rogue = pki.rogue('owner')
    const clients = new OadrHttpClients({ tls: { cert: rogue.cert, key: rogue.key, ca: pki.ca.cert }, timeoutMs: 5_000 })
    try {
      await assert.rejects(clients.senderFor(vtnSide.server.url).send('OadrPoll', encodePayload({ type: 'oadrPoll', venID })))
    } finally {
      clients.stop()
    }
  })
})

describe('rule: an end that requires signatures refuses an unsigned answer', function () {
  this.timeout(30_000)
  it('a VEN requiring signed payloads rejects the answers of a VTN that does not sign', async () => {
    const vtn = new Vtn({ vtnID: 'vtn-unsigned' })
    await vtn.start()
    const server = new OadrHttpServer({}, { handler: vtn.handler })
    await server.start()
    const strict = new OadrHttpClients({ verify: { requireSignature: true } })
    const lax = new OadrHttpClients({})
    const query = encodePayload({ type: 'oadrQueryRegistration', requestID: 'q' })
    try {
      await assert.rejects(strict.senderFor(server.url).send('EiRegisterParty', query), { name: 'SignatureError' })
      assert.match(await lax.senderFor(server.url).send('EiRegisterParty', query), /oadrCreatedPartyRegistration/)
    } finally {
      strict.stop()
      lax.stop()
      await server.stop()
      await vtn.stop()
    }
  })
})
