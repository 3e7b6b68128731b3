import { strict as assert } from 'node:assert'
import { OadrHttpServer, HttpPayloadSender } from '../../../src/openadr/http/index.js'
import { PayloadSigner, PayloadVerifier, SignatureError, signingHandler, signingSender, oadrFingerprintOfPem } from '../../../src/openadr/security/index.js'
import type { PeerIdentity } from '../../../src/openadr/transport.js'
import { testPki } from '../../helpers/certs.js'

const poll = '<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' +
  '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-1</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>'

function response (code: string): string {
  return '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject><oadrResponse xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' +
    `<ei:eiResponse><ei:responseCode>${code}</ei:responseCode></ei:eiResponse></oadrResponse></oadrSignedObject></oadrPayload>`
}

describe('signing sender and handler over HTTPS', function () {
  this.timeout(30_000)
  const pki = testPki('ecdsa')
  const ven = pki.client('ven-1')
  const vtnCert = pki.server
  const peers: PeerIdentity[] = []
  let server: OadrHttpServer

  before(async () => {
    const handler = signingHandler({
      handler: async (_service, _xml, peer) => { peers.push(peer); return response('200') },
      verifier: new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] }),
      signer: new PayloadSigner({ cert: vtnCert.cert, key: vtnCert.key }),
      refusal: (_service, _xml, error) => response(error.responseCode)
    })
    server = new OadrHttpServer({ tls: { cert: vtnCert.cert, key: vtnCert.key, ca: pki.ca.cert } }, { handler })
    await server.start()
  })
  after(async () => { await server.stop() })

  it('carries a signed request to the service and a signed answer back', async () => {
    const http = new HttpPayloadSender({ baseUrl: server.url, tls: { cert: ven.cert, key: ven.key, ca: pki.ca.cert } })
    const verifier = new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] })
    try {
      const answer = await signingSender({ sender: http, signer: new PayloadSigner({ cert: ven.cert, key: ven.key }), verifier }).send('OadrPoll', poll)
      assert.match(answer, /<ei:responseCode>200</)
      assert.match(answer, /<ds:Signature /)
      assert.equal(peers.at(-1)?.fingerprint, oadrFingerprintOfPem(ven.cert))
    } finally {
      http.stop()
    }
  })

  it('answers 463 to an unsigned payload, and to one signed with a certificate that is not the connection\'s', async () => {
    const http = new HttpPayloadSender({ baseUrl: server.url, tls: { cert: ven.cert, key: ven.key, ca: pki.ca.cert } })
    const before = peers.length
    try {
      assert.match(await http.send('OadrPoll', poll), /<ei:responseCode>463</)
      const other = pki.client('ven-2')
      const foreign = signingSender({ sender: http, signer: new PayloadSigner({ cert: other.cert, key: other.key }) })
      assert.match(await foreign.send('OadrPoll', poll), /<ei:responseCode>463</)
    } finally {
      http.stop()
    }
    assert.equal(peers.length, before)
  })

  it('rejects an answer whose signature does not check out', async () => {
    const http = new HttpPayloadSender({ baseUrl: server.url, tls: { cert: ven.cert, key: ven.key, ca: pki.ca.cert } })
    const rogueCaOnly = new PayloadVerifier({ requireSignature: true, trustedCa: [pki.rogue('x').cert] })
    try {
      await assert.rejects(signingSender({ sender: http, signer: new PayloadSigner({ cert: ven.cert, key: ven.key }), verifier: rogueCaOnly }).send('OadrPoll', poll), SignatureError)
    } finally {
      http.stop()
    }
  })
})
