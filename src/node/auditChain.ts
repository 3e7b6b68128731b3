/**
 * The audit trail's chain, without storage: canonical JSON, entry hashes, the signed head, and
 * `verifyTrail` over exported JSON lines (used by `adrmesh audit verify` without a running node).
 *
 * Export format, one JSON object per line: the entries of one DR event in `seq` order (1, 2, …), each with
 * `prevHash` (the previous entry's `hash`, 64 zeros for the first) and `hash` = SHA-256 (hex) of the
 * canonical JSON of the entry without `hash`; then a head line `{type: 'head', eventId, entries, hash,
 * signedAtMs, publicKey, signature}`, where `signature` is the Ed25519 signature (base64url) of the
 * canonical JSON of the head without `signature`. Several events may follow one another in a file.
 * Canonical JSON: object keys sorted, no whitespace, values as JSON.stringify writes them.
 */
import { createHash } from 'node:crypto'
import { verifySignature, type NodeKey } from './nodeKey.js'

export interface AuditEntry {
  eventId: string
  /** 1 for the event's first entry. */
  seq: number
  /** Clock time of the transition, epoch ms. */
  timeMs: number
  /** What caused the transition (the statechart event type). */
  event: string
  stateBefore: string
  stateAfter: string
  /** The decision taken: setpoints sent, deviation measured, candidates chosen, peers asked (any JSON). */
  decision: unknown
  prevHash: string
  hash: string
}

export interface AuditHead {
  type: 'head'
  eventId: string
  /** Number of entries covered, i.e. the last `seq`. */
  entries: number
  /** `hash` of the last entry (the genesis hash for an empty trail). */
  hash: string
  signedAtMs: number
  /** base64url raw Ed25519 public key of the signer. */
  publicKey: string
  signature: string
}

export const genesisHash = '0'.repeat(64)

export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) {
    // A series of numbers (a plan's setpoint rows, most of a decision) is written as JSON.stringify writes it: natively.
    return value.every(v => typeof v === 'number') ? JSON.stringify(value) : `[${value.map(canonicalJson).join(',')}]`
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort()
    return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function entryHash (entry: Omit<AuditEntry, 'hash'>): string {
  const { eventId, seq, timeMs, event, stateBefore, stateAfter, decision, prevHash } = entry
  return createHash('sha256')
    .update(canonicalJson({ eventId, seq, timeMs, event, stateBefore, stateAfter, decision, prevHash }))
    .digest('hex')
}

export function signHead (key: NodeKey, eventId: string, entries: number, hash: string, signedAtMs: number): AuditHead {
  const unsigned = { type: 'head' as const, eventId, entries, hash, signedAtMs, publicKey: key.publicKey }
  return { ...unsigned, signature: key.sign(canonicalJson(unsigned)) }
}

export interface VerifiedEvent {
  eventId: string
  entries: number
  publicKey: string
}

export type VerifyResult =
  | { valid: true, events: VerifiedEvent[] }
  | { valid: false, /** 1-based line of the first bad line (the line after the last for a missing head). */ line: number,
    eventId?: string, seq?: number, reason: string }

export interface VerifyOptions {
  /** Accept only heads signed by this key (base64url raw); without it the key in each head is trusted. */
  publicKey?: string
}

interface Chain { entries: number, hash: string, headed: boolean }

/** Checks chain and signatures of exported lines; blank lines are skipped. */
export function verifyTrail (lines: string[], options: VerifyOptions = {}): VerifyResult {
  const chains = new Map<string, Chain>()
  const verified: VerifiedEvent[] = []
  for (const [index, text] of lines.entries()) {
    const line = index + 1
    if (text.trim() === '') continue
    let record: unknown
    try {
      record = JSON.parse(text)
    } catch {
      return { valid: false, line, reason: 'not JSON' }
    }
    if (!isObject(record) || typeof record.eventId !== 'string') return { valid: false, line, reason: 'not an audit entry or head' }
    const eventId = record.eventId
    const chain = chains.get(eventId) ?? { entries: 0, hash: genesisHash, headed: false }
    chains.set(eventId, chain)
    if (chain.headed) return { valid: false, line, eventId, reason: 'line after the signed head of its event' }
    if (record.type === 'head') {
      const problem = headProblem(record, chain, options)
      if (problem !== undefined) return { valid: false, line, eventId, reason: problem }
      chain.headed = true
      verified.push({ eventId, entries: chain.entries, publicKey: record.publicKey as string })
      continue
    }
    const seq = typeof record.seq === 'number' ? record.seq : undefined
    const problem = entryProblem(record, chain)
    if (problem !== undefined) return { valid: false, line, eventId, ...(seq === undefined ? {} : { seq }), reason: problem }
    chain.entries += 1
    chain.hash = record.hash as string
  }
  for (const [eventId, chain] of chains) {
    if (!chain.headed) {
      return { valid: false, line: lines.length + 1, eventId, reason: `truncated: no signed head after entry ${chain.entries}` }
    }
  }
  if (verified.length === 0) return { valid: false, line: 1, reason: 'empty trail' }
  return { valid: true, events: verified }
}

function entryProblem (record: Record<string, unknown>, chain: Chain): string | undefined {
  const { seq, timeMs, event, stateBefore, stateAfter, prevHash, hash } = record
  if (typeof seq !== 'number' || typeof timeMs !== 'number' || typeof event !== 'string' ||
    typeof stateBefore !== 'string' || typeof stateAfter !== 'string' || typeof prevHash !== 'string' ||
    typeof hash !== 'string' || !('decision' in record)) return 'malformed entry'
  if (seq !== chain.entries + 1) return `expected seq ${chain.entries + 1}, found ${seq} (entries missing or reordered)`
  if (prevHash !== chain.hash) return 'prevHash does not match the previous entry (chain broken)'
  if (entryHash(record as unknown as AuditEntry) !== hash) return 'hash does not match the entry (entry changed)'
  return undefined
}

function headProblem (record: Record<string, unknown>, chain: Chain, options: VerifyOptions): string | undefined {
  const { eventId, entries, hash, signedAtMs, publicKey, signature } = record
  if (typeof entries !== 'number' || typeof hash !== 'string' || typeof signedAtMs !== 'number' ||
    typeof publicKey !== 'string' || typeof signature !== 'string') return 'malformed head'
  if (entries !== chain.entries) return `head covers ${entries} entries, the trail has ${chain.entries} (truncated)`
  if (hash !== chain.hash) return 'head hash does not match the last entry'
  if (options.publicKey !== undefined && publicKey !== options.publicKey) return `head signed by ${publicKey}, not by the expected key`
  const unsigned = { type: 'head', eventId, entries, hash, signedAtMs, publicKey }
  if (!verifySignature(publicKey, canonicalJson(unsigned), signature)) {
    return 'head signature invalid: the trail was changed after it was signed'
  }
  return undefined
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
