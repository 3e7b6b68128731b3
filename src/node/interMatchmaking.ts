/**
 * The inter-matchmaking port: how a virtual node asks fellow nodes for flexibility and cover, and how a
 * fellow's request reaches it. The node depends only on this interface; `noPeers()` is the implementation
 * for a node without a mesh (everything it asks is refused), and `src/p2p` implements it over libp2p.
 *
 * Amounts follow docs/design.md: kW per interval, load convention; a positive `amountsKw[t]` asks the peer
 * to raise its aggregate flow, a negative one to lower it.
 */
export interface FlexWindow {
  marketContext: string
  startMs: number
  intervalMs: number
  intervals: number
}

/** What a peer says it can still do over a window, per interval. */
export interface PeerOffer {
  peerId: string
  flexUpKw: number[]
  flexDownKw: number[]
  /** After this instant the offer no longer binds the peer. */
  expiresAtMs: number
}

export interface CoverRequest {
  /** Unique per request; a peer that sees the same id twice answers the same way once. */
  requestId: string
  /** The event on the requesting node that needs the cover. */
  eventRef: { nodeId: string, eventId: string }
  marketContext: string
  startMs: number
  intervalMs: number
  amountsKw: number[]
  signalType: 'setpoint' | 'delta'
  /** Answer before this instant or the request is void. */
  deadlineMs: number
  /** Decremented at each forward; a request with 0 is not forwarded, so no A → B → A loops. */
  hopLimit: number
  /** Node ids the request has passed through, requester first. */
  path: string[]
}

export interface Commitment {
  requestId: string
  peerId: string
  accepted: boolean
  /** Per interval, never above what was asked (in magnitude, same sign); zeros when rejected. */
  committedKw: number[]
  reason?: string
}

/** Sent by the peer that covered, after the window ends. */
export interface CoverOutcome {
  requestId: string
  peerId: string
  committedKw: number[]
  deliveredKw: number[]
}

export interface AskOptions {
  signal?: AbortSignal
}

export type InboundCoverHandler = (request: CoverRequest, fromPeerId: string) => Promise<Commitment>
export type InboundOutcomeHandler = (outcome: CoverOutcome, fromPeerId: string) => Promise<void>

export interface InterMatchmakingPort {
  /** Before an event: ask candidate peers (all known ones when `peerIds` is absent) for their flexibility. */
  queryFlexibility: (window: FlexWindow, peerIds?: string[], options?: AskOptions) => Promise<PeerOffer[]>
  /** Ask one peer for cover; resolves to its commitment, or a rejection on timeout or error. */
  requestCover: (peerId: string, request: CoverRequest, options?: AskOptions) => Promise<Commitment>
  /** After the window: tell the requester what was delivered on its behalf. */
  reportOutcome: (requesterId: string, outcome: CoverOutcome, options?: AskOptions) => Promise<void>
  /**
   * Offers received from advertisements, still valid at `nowMs`; with `window`, each offer sliced to it
   * (interval t of the offer is interval t of the window) and offers that do not cover it left out.
   */
  advertisedOffers: (marketContext: string, nowMs: number, window?: FlexWindow) => PeerOffer[]
  /** The inbound side: a peer's request arrives here; at most one handler. */
  onCoverRequest: (handler: InboundCoverHandler) => void
  onOutcome: (handler: InboundOutcomeHandler) => void
}

/** A node without a mesh: no offers, every request refused. */
export function noPeers (): InterMatchmakingPort {
  return {
    queryFlexibility: async () => [],
    requestCover: async (peerId, request) => ({
      requestId: request.requestId,
      peerId,
      accepted: false,
      committedKw: request.amountsKw.map(() => 0),
      reason: 'no mesh'
    }),
    reportOutcome: async () => {},
    advertisedOffers: () => [],
    onCoverRequest: () => {},
    onOutcome: () => {}
  }
}
