/**
 * Asking peers for cover one after the other: the requester's fallback when a peer refuses, fails or dies
 * mid-request. Each peer is asked for what is still uncovered; the walk stops when nothing is left or the
 * peers run out. Pure over the `ask` function, so it works over the mesh port or anything else.
 */
import type { Commitment, CoverRequest } from '../node/interMatchmaking.js'

export interface CoverWalk {
  /** Accepted commitments, in the order they were made. */
  commitments: Commitment[]
  /** Peers that refused, with their reason. */
  refusals: Array<{ peerId: string, reason: string }>
  /** Peers whose call failed (timeout, reset, protocol error). */
  failures: Array<{ peerId: string, error: Error }>
  /** What is still uncovered per interval, same sign convention as the ask. */
  remainingKw: number[]
}

const EPSILON_KW = 1e-9

export async function askPeersInOrder (
  peerIds: string[],
  request: CoverRequest,
  ask: (peerId: string, request: CoverRequest) => Promise<Commitment>
): Promise<CoverWalk> {
  const walk: CoverWalk = { commitments: [], refusals: [], failures: [], remainingKw: [...request.amountsKw] }
  for (const peerId of peerIds) {
    if (walk.remainingKw.every(kw => Math.abs(kw) <= EPSILON_KW)) break
    const ask1: CoverRequest = { ...request, amountsKw: [...walk.remainingKw] }
    try {
      const commitment = await ask(peerId, ask1)
      if (!commitment.accepted) {
        walk.refusals.push({ peerId, reason: commitment.reason ?? 'rejected' })
        continue
      }
      walk.commitments.push(commitment)
      walk.remainingKw = walk.remainingKw.map((kw, t) => kw - (commitment.committedKw[t] ?? 0))
    } catch (err) {
      walk.failures.push({ peerId, error: err as Error })
    }
  }
  return walk
}
