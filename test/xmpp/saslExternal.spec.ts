import assert from 'node:assert/strict'
import { decodePayload, encodePayload } from '../../src/openadr/codec/index.js'
import type { PayloadHandler, PeerIdentity } from '../../src/openadr/transport.js'
import { seededRandom } from '../../src/util/random.js'
import { XmppAuthenticationError } from '../../src/xmpp/errors.js'
import { XmppEndpoint } from '../../src/xmpp/xmppEndpoint.js'
import { startProsody, xmppClientCertificate, type ProsodyServer } from '../helpers/prosody.js'

describe('xmpp: SASL EXTERNAL with a TLS client certificate (Prosody + mod_auth_ccert)', function () {
  this.timeout(30_000)
  let server: ProsodyServer
  before(async () => { server = await startProsody({ users: {}, auth: 'certificate' }) })
  after(async () => { await server?.dispose() })

  /** An endpoint that logs in as `username` with a certificate naming `certJid`, and no password. */
  function withCertificate (username: string, certJid: string, seed: number, handler?: PayloadHandler): XmppEndpoint {
    const { cert, key } = xmppClientCertificate(certJid)
    return new XmppEndpoint(
      { service: server.service, domain: server.domain, username, ca: server.caPem, cert, key, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
      { random: seededRandom(seed), ...(handler !== undefined ? { handler } : {}) })
  }

  it('authenticates VTN and VEN by certificate and carries a payload between them', async () => {
    const peers: PeerIdentity[] = []
    const vtn = withCertificate('vtn', 'vtn@localhost', 1, async (_service, _xml, peer) => {
      peers.push(peer)
      return encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: '200', requestID: '' }, venID: 'ven-cert' })
    })
    const ven = withCertificate('ven-cert', 'ven-cert@localhost', 2)
    await Promise.all([vtn.start(), ven.start()])
    try {
      const answer = decodePayload(await ven.senderTo(vtn.jid).send('OadrPoll', encodePayload({ type: 'oadrPoll', venID: 'ven-cert' })))
      assert.equal(answer.type === 'oadrResponse' && answer.venID, 'ven-cert')
      assert.equal(peers[0]?.jid, 'ven-cert@localhost/openadr')
    } finally {
      await Promise.allSettled([vtn.stop(), ven.stop()])
    }
  })

  it('refuses a certificate that names another JID', async () => {
    const impostor = withCertificate('vtn', 'mallory@localhost', 3)
    await assert.rejects(impostor.start(), XmppAuthenticationError)
    await impostor.stop()
  })

  it('refuses a password where only certificates are accepted', async () => {
    const withPassword = new XmppEndpoint({ service: server.service, domain: server.domain, username: 'vtn', password: 'guess', ca: server.caPem }, { random: seededRandom(4) })
    await assert.rejects(withPassword.start(), XmppAuthenticationError)
    await withPassword.stop()
  })
})
