import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import forge from 'node-forge'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { certificateFingerprint, directoryKey, verifyDirectoryRecord, type DirectoryRecord } from '../../src/p2p/directory.js'
import { encodeEnvelope, signEnvelope } from '../../src/p2p/signed.js'
import { startMesh, MARKET_CONTEXT, waitUntil, type Mesh } from '../helpers/mesh.js'

const NOW = 1_800_000_000_000

function selfSignedPem (): string {
  const keys = forge.pki.rsa.generateKeyPair(1024)
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01'
  cert.validity.notBefore = new Date(NOW - 86_400_000)
  cert.validity.notAfter = new Date(NOW + 86_400_000)
  cert.setSubject([{ name: 'commonName', value: 'node-a' }])
  cert.setIssuer([{ name: 'commonName', value: 'node-a' }])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return forge.pki.certificateToPem(cert)
}

describe('p2p directory records', () => {
  let key: Awaited<ReturnType<typeof generateKeyPair>>
  let record: DirectoryRecord

  before(async () => {
    key = await generateKeyPair('Ed25519')
    record = {
      peerId: peerIdFromPrivateKey(key).toString(), marketContexts: [MARKET_CONTEXT], region: 'nl', openadrEndpoint: 'https://node-a.example/OpenADR2/Simple/2.0b',
      capabilities: ['inter-matchmaking'], certFingerprint: 'ab'.repeat(32), seq: 1, issuedAtMs: NOW, expiresAtMs: NOW + 3_600_000
    }
  })

  async function bytes (r: object, signer = key): Promise<Uint8Array> {
    return encodeEnvelope(await signEnvelope(signer, 'directory', r as DirectoryRecord))
  }

  it('a record signed by its peer key, under its own key, unexpired, verifies', async () => {
    assert.deepEqual(await verifyDirectoryRecord(directoryKey(record.peerId), await bytes(record), NOW + 1000), record)
  })

  it('a record signed by another key, stored under another peer, expired, tampered or with a bad fingerprint is refused', async () => {
    const other = await generateKeyPair('Ed25519')
    const otherId = peerIdFromPrivateKey(other).toString()
    await assert.rejects(verifyDirectoryRecord(directoryKey(record.peerId), await bytes(record, other), NOW), /signature does not verify/)
    await assert.rejects(verifyDirectoryRecord(directoryKey(otherId), await bytes(record), NOW), /another key/)
    await assert.rejects(verifyDirectoryRecord(directoryKey(record.peerId), await bytes(record), NOW + 3_600_000), /expired/)
    const tampered = new TextDecoder().decode(await bytes(record)).replace('"region\\":\\"nl', '"region\\":\\"de')
    await assert.rejects(verifyDirectoryRecord(directoryKey(record.peerId), new TextEncoder().encode(tampered), NOW), /signature does not verify/)
    await assert.rejects(verifyDirectoryRecord(directoryKey(record.peerId), await bytes({ ...record, certFingerprint: 'not-hex' }), NOW), /certFingerprint/)
  })

  it('the certificate fingerprint is the SHA-256 of the certificate DER, as the record states it', () => {
    const pem = selfSignedPem()
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    assert.equal(certificateFingerprint(pem), createHash('sha256').update(der).digest('hex'))
  })

  describe('in the DHT', function () {
    this.timeout(60_000)
    let mesh: Mesh
    const fingerprint = 'cd'.repeat(32)
    before(async () => { mesh = await startMesh({ n: 3, init: { recordTtlMs: 1500, certFingerprint: fingerprint, region: 'nl-north' } }) })
    after(async () => { await mesh?.stop() })

    it('a record states the node\'s certificate fingerprint and is republished before it expires', async () => {
      const [reader, owner] = mesh.nodes as [typeof mesh.nodes[0], typeof mesh.nodes[0]]
      const id = owner.peerId.toString()
      let first: DirectoryRecord | undefined
      await waitUntil('a first record', async () => (first = await reader.directory.lookup(id, AbortSignal.timeout(3000))) !== undefined)
      assert.equal(first!.certFingerprint, fingerprint)
      assert.equal(first!.region, 'nl-north')
      // TTL 1.5 s: a record still found after 2.5 s can only be a republished one.
      await new Promise(resolve => setTimeout(resolve, 2500))
      const later = await reader.directory.lookup(id, AbortSignal.timeout(3000))
      assert.ok(later !== undefined && later.seq > first!.seq && later.expiresAtMs > Date.now(), 'record refreshed')
    })
  })
})
