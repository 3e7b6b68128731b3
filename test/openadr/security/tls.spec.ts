import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import tls from 'node:tls'
import { OadrHttpServer, HttpPayloadSender } from '../../../src/openadr/http/index.js'
import { oadrFingerprintOfPem, sameFingerprint } from '../../../src/openadr/security/fingerprint.js'
import type { PeerIdentity } from '../../../src/openadr/transport.js'
import { testPki, type KeyKind } from '../../helpers/certs.js'

async function negotiate (port: number, init: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...init }, () => { resolve(socket) })
    socket.once('error', reject)
  })
}

for (const kind of ['ecdsa', 'rsa'] as KeyKind[]) {
  describe(`HTTPS with ${kind.toUpperCase()} certificates`, function () {
    this.timeout(30_000)
    const pki = testPki(kind)
    const peers: PeerIdentity[] = []
    let server: OadrHttpServer
    let port: number

    before(async () => {
      server = new OadrHttpServer({ tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert } }, {
        handler: async (_service, _xml, peer) => { peers.push(peer); return '<ok/>' }
      })
      await server.start()
      port = Number(new URL(server.url).port)
    })
    after(async () => { await server.stop() })

    it('hands the handler the client certificate fingerprint in OpenADR form', async () => {
      const client = pki.client('ven-a')
      const sender = new HttpPayloadSender({ baseUrl: server.url, tls: { cert: client.cert, key: client.key, ca: pki.ca.cert } })
      try {
        assert.equal(await sender.send('OadrPoll', '<poll/>'), '<ok/>')
      } finally {
        sender.stop()
      }
      const peer = peers.at(-1)
      assert.equal(peer?.transport, 'https')
      assert.ok(peer?.fingerprint !== undefined && sameFingerprint(peer.fingerprint, oadrFingerprintOfPem(client.cert)))
    })

    it('OpenADR fingerprint rule: the last 10 bytes of the SHA-256 of the DER certificate, colon-separated hex', () => {
      const client = pki.client('ven-a')
      const full = execFileSync('openssl', ['x509', '-in', client.certPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
      const hex = full.trim().split('=')[1]?.split(':') ?? []
      assert.equal(hex.length, 32)
      assert.equal(oadrFingerprintOfPem(client.cert), hex.slice(-10).join(':'))
      assert.match(oadrFingerprintOfPem(client.cert), /^([0-9A-F]{2}:){9}[0-9A-F]{2}$/)
    })

    it('refuses a client without a certificate', async () => {
      const before = peers.length
      await assert.rejects(async () => {
        const socket = await negotiate(port, { ca: pki.ca.cert })
        // TLS 1.3 reports the refusal after the handshake: the first read fails.
        await new Promise((resolve, reject) => { socket.once('data', resolve); socket.once('error', reject); socket.once('end', () => { reject(new Error('closed')) }); socket.write('POST /OpenADR2/Simple/2.0b/OadrPoll HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n<x>') })
      })
      assert.equal(peers.length, before)
    })

    it('refuses a client certificate from an unknown CA', async () => {
      const rogue = pki.rogue('ven-a')
      const sender = new HttpPayloadSender({ baseUrl: server.url, tls: { cert: rogue.cert, key: rogue.key, ca: pki.ca.cert } })
      const before = peers.length
      try {
        await assert.rejects(sender.send('OadrPoll', '<poll/>'))
      } finally {
        sender.stop()
      }
      assert.equal(peers.length, before)
    })

    it('TLS profile rule: refuses TLS 1.1 and below', async () => {
      const client = pki.client('ven-a')
      await assert.rejects(negotiate(port, { ca: pki.ca.cert, cert: client.cert, key: client.key, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }))
    })

    const mandated = kind === 'ecdsa' ? 'ECDHE-ECDSA-AES128-SHA256' : 'AES128-SHA256'
    it(`TLS profile rule: a TLS 1.2 client offering only ${mandated} gets it`, async () => {
      const client = pki.client('ven-a')
      const socket = await negotiate(port, { ca: pki.ca.cert, cert: client.cert, key: client.key, maxVersion: 'TLSv1.2', ciphers: mandated })
      try {
        assert.equal(socket.getProtocol(), 'TLSv1.2')
        assert.equal(socket.getCipher().name, mandated)
      } finally {
        socket.destroy()
      }
    })

    it('negotiates TLS 1.3 with a client that offers it', async () => {
      const client = pki.client('ven-a')
      const socket = await negotiate(port, { ca: pki.ca.cert, cert: client.cert, key: client.key })
      try {
        assert.equal(socket.getProtocol(), 'TLSv1.3')
      } finally {
        socket.destroy()
      }
    })
  })
}
