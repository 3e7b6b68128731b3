/**
 * Inter-matchmaking selection: split what intra matchmaking left uncovered across fellow nodes' advertised
 * offers, most reliable peer first, never above what a peer advertised in an interval, ignoring offers that
 * have expired. The output is one amount series per peer, ready to be a `CoverRequest.amountsKw`.
 *
 * Signs follow the port (src/node/interMatchmaking.ts): a positive shortfall asks peers to raise their
 * aggregate flow (drawn from their `flexUpKw`), a negative one to lower it (from `flexDownKw`). A peer is
 * asked for plain amounts, not reliability-inflated ones, because it must never be asked beyond its offer;
 * the expected delivery Σ r·amount is reported so the caller can see what it is likely to get. Offers are
 * aligned with the shortfall window (interval t of the offer is interval t of the shortfall).
 */
import type { PeerOffer } from '../node/interMatchmaking.js'

export interface InterInit {
  /** Peers rated below this are not asked. @default 0 */
  minReliability?: number
  /** Amounts below this (kW) are not worth a request. @default 0.001 */
  minAmountKw?: number
}

export interface PeerAllocation {
  peerId: string
  reliability: number
  /** Per interval, same sign as the shortfall, |amount| ≤ the peer's offer. */
  amountsKw: number[]
}

export interface InterAllocation {
  /** Peers in the order they were asked (most reliable first); peers with nothing to do are left out. */
  allocations: PeerAllocation[]
  /** Per interval, the part of the shortfall no offer covers (same sign). */
  unallocatedKw: number[]
  /** Per interval, Σ reliability × amount over the peers (same sign). */
  expectedKw: number[]
}

/** `reliabilityOf(peerId)` is this node's index for the peer (e.g. `reliabilityOf(book, peerId, ctx).r`). */
export function allocateToPeers (shortfallKw: readonly number[], offers: readonly PeerOffer[],
  reliabilityOf: (peerId: string) => number, nowMs: number, init: InterInit = {}): InterAllocation {
  const minReliability = init.minReliability ?? 0
  const minAmount = init.minAmountKw ?? 0.001
  const T = shortfallKw.length
  const live = offers
    .filter(o => o.expiresAtMs > nowMs)
    .map(o => ({ offer: o, reliability: reliabilityOf(o.peerId) }))
    .filter(p => p.reliability >= minReliability)
    .sort((a, b) => b.reliability - a.reliability || (a.offer.peerId < b.offer.peerId ? -1 : a.offer.peerId > b.offer.peerId ? 1 : 0))
  const left = shortfallKw.map(x => Math.abs(x) >= minAmount ? x : 0)
  const expectedKw = new Array<number>(T).fill(0)
  const allocations: PeerAllocation[] = []
  for (const { offer, reliability } of live) {
    const amountsKw = new Array<number>(T).fill(0)
    let any = false
    for (let t = 0; t < T; t++) {
      const need = left[t] as number
      if (need === 0) continue
      const room = Math.max(0, (need > 0 ? offer.flexUpKw[t] : offer.flexDownKw[t]) ?? 0)
      const take = Math.min(Math.abs(need), room)
      if (take < minAmount) continue
      const signed = Math.sign(need) * take
      amountsKw[t] = signed
      left[t] = need - signed
      expectedKw[t] = (expectedKw[t] as number) + reliability * signed
      any = true
    }
    if (any) allocations.push({ peerId: offer.peerId, reliability, amountsKw })
  }
  return { allocations, unallocatedKw: left, expectedKw }
}
