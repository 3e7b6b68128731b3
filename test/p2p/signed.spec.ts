import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { fromString, toString } from 'uint8arrays'
import { encodeEnvelope, openEnvelope, signEnvelope } from '../../src/p2p/signed.js'
import { InvalidSignedMessageError } from '../../src/p2p/errors.js'

describe('p2p signed envelopes', () => {
  it('an envelope signed by the peer its body names opens; one signed by another key does not', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const good = encodeEnvelope(await signEnvelope(key, 'test', { peerId }))
    assert.equal((await openEnvelope(good, 'test', 4096)).peerId, peerId)
    await assert.rejects(openEnvelope(good, 'other-kind', 4096), InvalidSignedMessageError, 'the kind is part of what is signed')
    const forged = encodeEnvelope(await signEnvelope(other, 'test', { peerId }))
    await assert.rejects(openEnvelope(forged, 'test', 4096), /signature does not verify/)
  })

  it('bytes whose signer the caller already verified skip the second verification only for a body naming that signer', async () => {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    // A body with a signature that does not verify: only the caller's earlier check can vouch for it.
    const unverifiable = fromString(JSON.stringify({ body: JSON.stringify({ peerId }), sig: toString(new Uint8Array(64), 'base64') }))
    assert.equal((await openEnvelope(unverifiable, 'test', 4096, peerId)).peerId, peerId)
    await assert.rejects(openEnvelope(unverifiable, 'test', 4096, someoneElse), /signature does not verify/)
    await assert.rejects(openEnvelope(unverifiable, 'test', 4096), /signature does not verify/)
  })

  it('a signature of the wrong length is an InvalidSignedMessageError, not a TypeError', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const short = fromString(JSON.stringify({ body: JSON.stringify({ peerId }), sig: 'AAAA' }))
    await assert.rejects(openEnvelope(short, 'test', 4096), (err: Error) => err instanceof InvalidSignedMessageError && /malformed signature/.test(err.message))
  })
})
