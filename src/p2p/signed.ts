/**
 * Signed envelopes: a JSON body signed by a peer's Ed25519 key. The body travels as the exact string that was
 * signed, so no canonical JSON is needed; the signer is named inside the body (`peerId`) and the signature
 * must verify under that peer id's public key, so a node cannot speak for another.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { fromString, toString } from 'uint8arrays'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidSignedMessageError } from './errors.js'

export interface SignedEnvelope {
  /** The body, JSON, exactly as signed. */
  body: string
  /** Ed25519 signature of the UTF-8 body, base64. */
  sig: string
}

const DOMAIN = 'adrmesh-signed-v1:'

function signedBytes (kind: string, body: string): Uint8Array {
  // The kind is part of what is signed: a directory record can never be replayed as an advertisement.
  return fromString(`${DOMAIN}${kind}:${body}`)
}

export async function signEnvelope (key: PrivateKey, kind: string, body: { peerId: string }): Promise<SignedEnvelope> {
  const text = JSON.stringify(body)
  const sig = await key.sign(signedBytes(kind, text))
  return { body: text, sig: toString(sig, 'base64') }
}

export function encodeEnvelope (envelope: SignedEnvelope): Uint8Array {
  return fromString(JSON.stringify(envelope))
}

/**
 * Parses and verifies an envelope; returns the body (still to be schema-checked by the caller).
 * Throws InvalidSignedMessageError when the bytes are not an envelope, the body names no valid peer id, or the
 * signature does not verify under it.
 * `signedBy`: a peer whose signature over these very bytes the caller has already verified (gossipsub's
 * StrictSign does so before any topic validator runs). A body that names that peer needs no second Ed25519
 * verification (~160 µs of CPU at every receiver of every advert); a body naming anyone else is still verified.
 */
export async function openEnvelope (bytes: Uint8Array, kind: string, maxBytes: number, signedBy?: string): Promise<{ peerId: string } & Record<string, unknown>> {
  if (bytes.byteLength > maxBytes) throw new InvalidSignedMessageError(`envelope of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
  let envelope: unknown
  try {
    envelope = JSON.parse(toString(bytes))
  } catch {
    throw new InvalidSignedMessageError('envelope is not JSON')
  }
  if (typeof envelope !== 'object' || envelope === null) throw new InvalidSignedMessageError('envelope is not an object')
  const { body, sig } = envelope as Record<string, unknown>
  if (typeof body !== 'string' || typeof sig !== 'string') throw new InvalidSignedMessageError('envelope lacks body or sig')
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new InvalidSignedMessageError('body is not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { peerId?: unknown }).peerId !== 'string') {
    throw new InvalidSignedMessageError('body names no peerId')
  }
  const signer = (parsed as { peerId: string }).peerId
  if (signer === signedBy) return parsed as { peerId: string } & Record<string, unknown>
  let publicKey
  try {
    publicKey = peerIdFromString(signer).publicKey
  } catch {
    throw new InvalidSignedMessageError(`body peerId ${signer} is not a peer id`)
  }
  if (publicKey === undefined) throw new InvalidSignedMessageError(`peer id ${signer} does not embed its public key`)
  let valid: boolean
  try {
    valid = await publicKey.verify(signedBytes(kind, body), fromString(sig, 'base64'))
  } catch (err) {
    // A signature of the wrong length makes the key throw a TypeError instead of answering false.
    throw new InvalidSignedMessageError(`malformed signature: ${(err as Error).message}`)
  }
  if (!valid) throw new InvalidSignedMessageError(`signature does not verify under ${signer}`)
  return parsed as { peerId: string } & Record<string, unknown>
}
