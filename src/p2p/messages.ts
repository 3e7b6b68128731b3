/**
 * The wire messages of the request/response protocols (flexibility query, cover request, outcome report),
 * version 1, as JSON: builders for what we send and strict parsers for what we receive. The types inside are
 * the inter-matchmaking port's own.
 */
import type { CoverOutcome, CoverRequest, Commitment, FlexWindow, PeerOffer } from '../node/interMatchmaking.js'
import { MAX_INTERVALS } from './constants.js'
import { MeshProtocolError } from './errors.js'
import { asObject, bool, int, numbers, optionalStr, str, strings, type Json } from './schema.js'

export const WIRE_VERSION = 1

function envelope (value: unknown, what: string): Json {
  const o = asObject(value, what)
  if (o.v !== WIRE_VERSION) throw new MeshProtocolError(`${what}: unsupported version ${String(o.v)}`)
  return o
}

export function parseWindow (value: unknown): FlexWindow {
  const o = asObject(value, 'window')
  return {
    marketContext: str(o, 'marketContext', 1024),
    startMs: int(o, 'startMs'),
    intervalMs: int(o, 'intervalMs', 1),
    intervals: int(o, 'intervals', 1, MAX_INTERVALS)
  }
}

export function parseFlexQuery (value: unknown): FlexWindow {
  return parseWindow(envelope(value, 'flex query').window)
}

/** The answer to a flexibility query: the peer's offer (peerId is set by the caller from the stream). */
export function parseFlexAnswer (value: unknown, peerId: string): PeerOffer | null {
  const o = envelope(value, 'flex answer')
  if (o.offer === null) return null
  const offer = asObject(o.offer, 'offer')
  const flexUpKw = numbers(offer, 'flexUpKw', MAX_INTERVALS, 0)
  const flexDownKw = numbers(offer, 'flexDownKw', MAX_INTERVALS, 0)
  if (flexUpKw.length !== flexDownKw.length) throw new MeshProtocolError('offer: flexUpKw and flexDownKw differ in length')
  return { peerId, flexUpKw, flexDownKw, expiresAtMs: int(offer, 'expiresAtMs') }
}

export function parseCoverRequest (value: unknown): CoverRequest {
  const o = asObject(envelope(value, 'cover request').request, 'request')
  const ref = asObject(o.eventRef, 'eventRef')
  const signalType = str(o, 'signalType')
  if (signalType !== 'setpoint' && signalType !== 'delta') throw new MeshProtocolError('signalType must be setpoint or delta')
  const amountsKw = numbers(o, 'amountsKw', MAX_INTERVALS)
  if (amountsKw.length === 0) throw new MeshProtocolError('amountsKw is empty')
  return {
    requestId: str(o, 'requestId'),
    eventRef: { nodeId: str(ref, 'nodeId'), eventId: str(ref, 'eventId') },
    marketContext: str(o, 'marketContext', 1024),
    startMs: int(o, 'startMs'),
    intervalMs: int(o, 'intervalMs', 1),
    amountsKw,
    signalType,
    deadlineMs: int(o, 'deadlineMs'),
    hopLimit: int(o, 'hopLimit', 0, 16),
    path: strings(o, 'path', 17)
  }
}

export function parseCommitment (value: unknown): Commitment {
  const o = asObject(envelope(value, 'cover answer').commitment, 'commitment')
  const reason = optionalStr(o, 'reason', 1024)
  return {
    requestId: str(o, 'requestId'),
    peerId: str(o, 'peerId'),
    accepted: bool(o, 'accepted'),
    committedKw: numbers(o, 'committedKw', MAX_INTERVALS),
    ...(reason === undefined ? {} : { reason })
  }
}

export function parseOutcome (value: unknown): CoverOutcome {
  const o = asObject(envelope(value, 'outcome').outcome, 'outcome')
  const committedKw = numbers(o, 'committedKw', MAX_INTERVALS)
  const deliveredKw = numbers(o, 'deliveredKw', MAX_INTERVALS)
  if (committedKw.length !== deliveredKw.length) throw new MeshProtocolError('outcome: committedKw and deliveredKw differ in length')
  return { requestId: str(o, 'requestId'), peerId: str(o, 'peerId'), committedKw, deliveredKw }
}

export function parseAck (value: unknown): void {
  const o = envelope(value, 'ack')
  if (o.ok !== true) throw new MeshProtocolError('outcome not acknowledged')
}

/**
 * Clamps a commitment to what was asked: per interval, same sign as the ask and never larger in magnitude.
 * Non-finite or missing amounts become 0.
 */
export function clampToAsked (askedKw: number[], committedKw: number[]): number[] {
  return askedKw.map((asked, t) => {
    const c = committedKw[t] ?? 0
    if (!Number.isFinite(c)) return 0
    return asked >= 0 ? Math.min(Math.max(c, 0), asked) : Math.max(Math.min(c, 0), asked)
  })
}

/** True when `committedKw` is exactly within what was asked (as `clampToAsked` would leave it). */
export function withinAsked (askedKw: number[], committedKw: number[]): boolean {
  if (committedKw.length !== askedKw.length) return false
  const clamped = clampToAsked(askedKw, committedKw)
  return clamped.every((c, t) => c === committedKw[t])
}
