/**
 * The node's signing key: Ed25519, created on first start and persisted as PKCS#8 PEM in the data
 * directory (mode 0600), so the audit trails a node signs stay verifiable with one public key across
 * restarts. Public keys travel as the base64url of their 32 raw bytes (the JWK `x`).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface NodeKey {
  /** base64url of the raw Ed25519 public key. */
  readonly publicKey: string
  /** Ed25519 signature of `data`, base64url. */
  sign: (data: string | Uint8Array) => string
}

export class NodeKeyError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'NodeKeyError'
  }
}

/** File name of the key inside the data directory. */
export const nodeKeyFile = 'node-key.pem'

/** Loads the node key from `<dataDir>/node-key.pem`, creating it on first use. */
export async function loadOrCreateNodeKey (dataDir: string): Promise<NodeKey> {
  const path = join(dataDir, nodeKeyFile)
  await mkdir(dataDir, { recursive: true })
  const { privateKey } = generateKeyPairSync('ed25519')
  try {
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 })
    return nodeKeyFrom(privateKey)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const pem = await readFile(path, 'utf8')
  let existing: KeyObject
  try {
    existing = createPrivateKey(pem)
  } catch (err) {
    throw new NodeKeyError(`${path} is not a PEM private key: ${(err as Error).message}`)
  }
  if (existing.asymmetricKeyType !== 'ed25519') {
    throw new NodeKeyError(`${path} holds a ${existing.asymmetricKeyType ?? 'unknown'} key, not Ed25519`)
  }
  return nodeKeyFrom(existing)
}

export function nodeKeyFrom (privateKey: KeyObject): NodeKey {
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return {
    publicKey,
    sign: data => sign(null, typeof data === 'string' ? Buffer.from(data) : data, privateKey).toString('base64url')
  }
}

/** True when `signature` (base64url) is `publicKey`'s Ed25519 signature of `data`; false on any malformed input. */
export function verifySignature (publicKey: string, data: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' })
    return verify(null, Buffer.from(data), key, Buffer.from(signature, 'base64url'))
  } catch {
    return false
  }
}

/**
 * Reads a public key given as base64url raw bytes or as a PEM (SPKI public key, or the node's private
 * key file, from which the public half is taken).
 */
export function parsePublicKey (text: string): string {
  const trimmed = text.trim()
  if (/^[A-Za-z0-9_-]{43}$/.test(trimmed)) return trimmed
  try {
    const key = createPublicKey(trimmed)
    if (key.asymmetricKeyType !== 'ed25519') throw new NodeKeyError(`not an Ed25519 key but ${key.asymmetricKeyType ?? 'unknown'}`)
    return rawPublicKey(key)
  } catch (err) {
    if (err instanceof NodeKeyError) throw err
    throw new NodeKeyError('not an Ed25519 public key (expected 43 base64url characters or a PEM)')
  }
}

function rawPublicKey (key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' })
  if (typeof jwk.x !== 'string') throw new NodeKeyError('Ed25519 key without a public part')
  return jwk.x
}
