/**
 * The mesh directory: each node's signed record in the DHT (`/adrmesh-dir/<peerId>`: market contexts,
 * region, OpenADR endpoint, capabilities and the fingerprint of its OpenADR certificate, which ties the mesh
 * identity to the OpenADR one), republished before it expires, plus a DHT provider record per market context
 * (one DHT key holds one value, so "who serves this market context" is a provider set). Owns the DHT
 * validator and selector of its namespace.
 */
import { X509Certificate } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString } from 'uint8arrays'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey, PeerId } from '@libp2p/interface'
import type { KadDHT, SelectFn, ValidateFn } from '@libp2p/kad-dht'
import { timerAt, type Clock, type TimerHandle } from '../util/clock.js'
import { DIRECTORY_NAMESPACE, CLOCK_SKEW_MS, MAX_ADVERT_BYTES, PROTOCOL_PREFIX } from './constants.js'
import { MeshProtocolError, InvalidSignedMessageError } from './errors.js'
import { openEnvelope, signEnvelope, encodeEnvelope } from './signed.js'
import { asObject, int, str, strings } from './schema.js'
import type { MeshLog } from './log.js'

const RECORD_KIND = 'directory'
const MAX_RECORD_BYTES = MAX_ADVERT_BYTES

/** What a node says about itself in the directory. */
export interface DirectoryRecord {
  peerId: string
  marketContexts: string[]
  region: string
  /** Where operators and child nodes reach this node's OpenADR VTN (URL). */
  openadrEndpoint: string
  capabilities: string[]
  /** SHA-256 of the node's OpenADR client/server certificate (DER), hex, as OpenADR fingerprints are. */
  certFingerprint: string
  /** Increases at every publication; the DHT keeps the highest. */
  seq: number
  issuedAtMs: number
  expiresAtMs: number
}

export type DirectoryEntry = Omit<DirectoryRecord, 'peerId' | 'seq' | 'issuedAtMs' | 'expiresAtMs'>

export function directoryKey (peerId: string): Uint8Array {
  return fromString(`/${DIRECTORY_NAMESPACE}/${peerId}`)
}

/** The CID under which the nodes serving `marketContext` announce themselves as providers. */
export async function marketContextCid (marketContext: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(fromString(`${PROTOCOL_PREFIX}/market-context/${marketContext}`)))
}

/** A string that may be empty: MeshNode publishes '' for a node with no region or no OpenADR endpoint. */
function textOrEmpty (o: Record<string, unknown>, field: string, maxLength: number): string {
  const v = o[field]
  if (typeof v !== 'string' || v.length > maxLength) throw new MeshProtocolError(`${field} must be a string of at most ${maxLength} characters`)
  return v
}

function parseRecord (body: Record<string, unknown>): DirectoryRecord {
  const o = asObject(body, 'directory record')
  const record: DirectoryRecord = {
    peerId: str(o, 'peerId'),
    marketContexts: strings(o, 'marketContexts', 64),
    region: textOrEmpty(o, 'region', 256),
    openadrEndpoint: textOrEmpty(o, 'openadrEndpoint', 2048),
    capabilities: strings(o, 'capabilities', 64),
    certFingerprint: str(o, 'certFingerprint', 128),
    seq: int(o, 'seq'),
    issuedAtMs: int(o, 'issuedAtMs'),
    expiresAtMs: int(o, 'expiresAtMs')
  }
  if (!/^[0-9a-f]{64}$/.test(record.certFingerprint)) throw new MeshProtocolError('certFingerprint must be 64 lowercase hex digits (SHA-256)')
  return record
}

/** Verifies a directory record's bytes against its DHT key and the clock; returns it or throws. */
export async function verifyDirectoryRecord (key: Uint8Array, value: Uint8Array, nowMs: number): Promise<DirectoryRecord> {
  const record = parseRecord(await openEnvelope(value, RECORD_KIND, MAX_RECORD_BYTES))
  const expected = `/${DIRECTORY_NAMESPACE}/${record.peerId}`
  if (new TextDecoder().decode(key) !== expected) throw new InvalidSignedMessageError(`record of ${record.peerId} stored under another key`)
  if (record.issuedAtMs > nowMs + CLOCK_SKEW_MS) throw new InvalidSignedMessageError('record issued in the future')
  if (record.expiresAtMs <= nowMs) throw new InvalidSignedMessageError('record expired')
  return record
}

/** DHT validator and selector for the directory namespace, on the injected clock. */
export function directoryDhtHooks (clock: Clock): { validator: ValidateFn, selector: SelectFn } {
  return {
    validator: async (key, value) => { await verifyDirectoryRecord(key, value, clock.now()) },
    selector: (_key, values) => {
      let best = 0
      let bestSeq = -1
      values.forEach((value, i) => {
        try {
          const envelope = JSON.parse(new TextDecoder().decode(value)) as { body: string }
          const seq = (JSON.parse(envelope.body) as { seq: number }).seq
          if (seq > bestSeq) { best = i; bestSeq = seq }
        } catch { /* an unreadable candidate never wins */ }
      })
      return best
    }
  }
}

export interface DirectoryInit {
  entry: DirectoryEntry
  /** @default 3_600_000 (one hour); republished at half of it */
  recordTtlMs: number
}

export interface DirectoryComponents {
  dht: KadDHT
  privateKey: PrivateKey
  peerId: PeerId
  clock: Clock
  log: MeshLog
}

export class Directory {
  private seq = 0
  private timer: TimerHandle | undefined
  private running = false
  private readonly cache = new Map<string, DirectoryRecord>()

  constructor (private readonly components: DirectoryComponents, private readonly init: DirectoryInit) {}

  async start (): Promise<void> {
    this.running = true
    this.scheduleRefresh(this.components.clock.now())
  }

  async stop (): Promise<void> {
    this.running = false
    this.timer?.cancel()
  }

  /** Signs and stores this node's record, then announces it as a provider of each of its market contexts. */
  async publish (signal?: AbortSignal): Promise<DirectoryRecord> {
    const { dht, privateKey, peerId, clock } = this.components
    const nowMs = clock.now()
    // seq from the clock too, so a restarted node (seq back at 0 in memory) still supersedes its old record.
    this.seq = Math.max(this.seq + 1, Math.floor(nowMs))
    const record: DirectoryRecord = {
      ...this.init.entry,
      peerId: peerId.toString(),
      seq: this.seq,
      issuedAtMs: Math.floor(nowMs),
      expiresAtMs: Math.floor(nowMs + this.init.recordTtlMs)
    }
    const value = encodeEnvelope(await signEnvelope(privateKey, RECORD_KIND, record))
    for await (const _ of dht.put(directoryKey(record.peerId), value, { signal })) { /* drain the query */ }
    for (const mc of record.marketContexts) {
      for await (const _ of dht.provide(await marketContextCid(mc), { signal })) { /* drain the query */ }
    }
    this.cache.set(record.peerId, record)
    return record
  }

  /** A fellow's current record, or undefined if the DHT holds no valid one. */
  async lookup (peerId: string, signal?: AbortSignal): Promise<DirectoryRecord | undefined> {
    const key = directoryKey(peerId)
    let best: DirectoryRecord | undefined
    try {
      for await (const event of this.components.dht.get(key, { signal })) {
        if (event.name !== 'VALUE') continue
        try {
          const record = await verifyDirectoryRecord(key, event.value, this.components.clock.now())
          if (best === undefined || record.seq > best.seq) best = record
        } catch (err) {
          this.components.log.warn({ peerId, err: (err as Error).message }, 'invalid directory record dropped')
        }
      }
    } catch (err) {
      if (signal?.aborted === true) throw err
      this.components.log.debug({ peerId, err: (err as Error).message }, 'directory lookup failed')
    }
    if (best !== undefined) this.cache.set(peerId, best)
    return best ?? this.fresh(this.cache.get(peerId))
  }

  /** Peer ids (self excluded) announced as providers of `marketContext`. */
  async providers (marketContext: string, signal?: AbortSignal): Promise<string[]> {
    const self = this.components.peerId.toString()
    const found = new Set<string>()
    for await (const event of this.components.dht.findProviders(await marketContextCid(marketContext), { signal })) {
      if (event.name !== 'PROVIDER') continue
      for (const provider of event.providers) {
        const id = provider.id.toString()
        if (id !== self) found.add(id)
      }
    }
    return [...found]
  }

  /** Records of the fellows serving `marketContext` (self excluded), each verified. */
  async findFellows (marketContext: string, signal?: AbortSignal): Promise<DirectoryRecord[]> {
    const ids = await this.providers(marketContext, signal)
    const records = await Promise.all(ids.map(async id => await this.lookup(id, signal)))
    return records.filter((r): r is DirectoryRecord => r !== undefined && r.marketContexts.includes(marketContext))
  }

  /** Records seen so far, still valid now. */
  knownRecords (): DirectoryRecord[] {
    return [...this.cache.values()].filter(r => this.fresh(r) !== undefined)
  }

  private fresh (record: DirectoryRecord | undefined): DirectoryRecord | undefined {
    return record !== undefined && record.expiresAtMs > this.components.clock.now() ? record : undefined
  }

  private scheduleRefresh (dueMs: number): void {
    if (!this.running) return
    // Not awaited: a virtual clock need not wait for the DHT, which answers in network time.
    this.timer = timerAt(this.components.clock, dueMs, () => {
      this.publish(AbortSignal.timeout(30_000)).then(
        record => { this.scheduleRefresh(record.issuedAtMs + this.init.recordTtlMs / 2) },
        err => {
          if (!this.running) return
          this.components.log.warn({ err: (err as Error).message }, 'directory publish failed, retrying')
          // A real second later: it is the network that has to change, not the clock.
          const retry = setTimeout(() => { this.scheduleRefresh(this.components.clock.now()) }, 1000).unref()
          this.timer = { cancel: () => { clearTimeout(retry) } }
        })
    }, { unref: true })
  }
}

/** The SHA-256 fingerprint of a certificate (PEM or DER), as the directory record states it: 64 lowercase hex. */
export function certificateFingerprint (certificate: string | Uint8Array): string {
  return new X509Certificate(certificate).fingerprint256.replaceAll(':', '').toLowerCase()
}

/** Checks that a string is a peer id (used on ids read from config and the API). */
export function isPeerId (text: string): boolean {
  try { peerIdFromString(text); return true } catch { return false }
}
