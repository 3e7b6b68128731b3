/**
 * The node's persistent mesh identity: an Ed25519 key kept in the data directory, so a restarted node has the
 * same peer id (fellows' directory entries, allow-lists and reliability records stay valid across restarts).
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const IDENTITY_FILE = 'peer-key.pb'

/** Loads the key from `<dataDir>/peer-key.pb`, creating it (mode 0600) on first start. */
export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, IDENTITY_FILE)
  try {
    return privateKeyFromProtobuf(await readFile(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true })
  // Written aside then renamed: a crash mid-write must not leave a truncated key that changes the peer id.
  await writeFile(`${file}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 })
  await rename(`${file}.tmp`, file)
  return key
}
