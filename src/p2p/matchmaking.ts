/**
 * Inter matchmaking over the mesh: the `InterMatchmakingPort` on libp2p request/response streams. Outbound:
 * flexibility queries (in parallel, failures dropped), cover requests (one peer, rejects on timeout or a
 * broken answer so the caller moves on), outcome reports. Inbound: the agent's handlers behind the checks
 * the protocol owes it (loops, past deadlines, duplicates answered once, commitments clamped to the ask).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type {
  AskOptions, Commitment, CoverOutcome, CoverRequest, FlexWindow, InboundCoverHandler, InboundOutcomeHandler,
  InterMatchmakingPort, PeerOffer
} from '../node/interMatchmaking.js'
import type { Clock } from '../util/clock.js'
import { advertTopic, COVER_PROTOCOL, FLEX_QUERY_PROTOCOL, OUTCOME_PROTOCOL } from './constants.js'
import { MeshProtocolError } from './errors.js'
import type { AdvertBoard, FlexAdvert } from './adverts.js'
import type { MeshLibp2p } from './host.js'
import type { MeshLog } from './log.js'
import {
  clampToAsked, parseAck, parseCommitment, parseCoverRequest, parseFlexAnswer, parseFlexQuery, parseOutcome,
  WIRE_VERSION, withinAsked
} from './messages.js'
import { RateLimiter } from './rateLimiter.js'
import { request, serve } from './rpc.js'

/** Answers a fellow's pre-event flexibility query; null when this node offers nothing over the window. */
export type FlexQueryHandler = (window: FlexWindow, fromPeerId: string) => Promise<PeerOffer | null>

export interface MatchmakingInit {
  /** @default 2_000 (REQUEST_TIMEOUT_MS) */
  requestTimeoutMs: number
  /** @default 65_536 (MAX_MESSAGE_BYTES) */
  maxMessageBytes: number
  /** @default 20 */
  requestRatePerSecond: number
  /** @default 40 */
  requestBurst: number
  /** How many answered request ids are remembered to answer a duplicate the same way. @default 1_024 */
  rememberedRequests?: number
}

export interface MatchmakingComponents {
  libp2p: MeshLibp2p
  adverts: AdvertBoard
  clock: Clock
  /** Real time for rate limiting (a flood is real whatever the simulation clock does). */
  realNowMs: () => number
  log: MeshLog
}

/** The part of this node's last advertisement that falls in `window`, as an offer. */
export function offerFromAdvert (advert: FlexAdvert, window: FlexWindow): PeerOffer | null {
  if (advert.intervalMs !== window.intervalMs) return null
  const first = (window.startMs - advert.startMs) / advert.intervalMs
  if (!Number.isInteger(first) || first < 0 || first + window.intervals > advert.flexUpKw.length) return null
  return {
    peerId: advert.peerId,
    flexUpKw: advert.flexUpKw.slice(first, first + window.intervals),
    flexDownKw: advert.flexDownKw.slice(first, first + window.intervals),
    expiresAtMs: advert.validUntilMs
  }
}

export class MeshMatchmaking implements InterMatchmakingPort {
  private coverHandler: InboundCoverHandler | undefined
  private outcomeHandler: InboundOutcomeHandler | undefined
  private flexHandler: FlexQueryHandler | undefined
  private readonly answered = new Map<string, Promise<Commitment>>()
  private readonly limiter: RateLimiter
  private readonly selfId: string

  constructor (private readonly components: MatchmakingComponents, private readonly init: MatchmakingInit) {
    this.limiter = new RateLimiter({ ratePerSecond: init.requestRatePerSecond, burst: init.requestBurst }, components.realNowMs)
    this.selfId = components.libp2p.peerId.toString()
  }

  async start (): Promise<void> {
    const { libp2p, log } = this.components
    const options = { maxBytes: this.init.maxMessageBytes, timeoutMs: this.init.requestTimeoutMs, limiter: this.limiter, log }
    await serve(libp2p, FLEX_QUERY_PROTOCOL, async (body, from) => await this.answerFlexQuery(body, from), options)
    await serve(libp2p, COVER_PROTOCOL, async (body, from) => await this.answerCover(body, from), options)
    await serve(libp2p, OUTCOME_PROTOCOL, async (body, from) => await this.answerOutcome(body, from), options)
  }

  async stop (): Promise<void> {
    const { libp2p } = this.components
    await libp2p.unhandle([FLEX_QUERY_PROTOCOL, COVER_PROTOCOL, OUTCOME_PROTOCOL])
  }

  onCoverRequest (handler: InboundCoverHandler): void { this.coverHandler = handler }
  onOutcome (handler: InboundOutcomeHandler): void { this.outcomeHandler = handler }
  /** Replaces the default answer (the slice of this node's last advertisement over the window). */
  onFlexQuery (handler: FlexQueryHandler): void { this.flexHandler = handler }

  advertisedOffers (marketContext: string, nowMs: number): PeerOffer[] {
    return this.components.adverts.offers(marketContext, nowMs)
  }

  /** Fellows known in `marketContext`: gossip subscribers and advertisers. */
  knownPeers (marketContext: string): string[] {
    const ids = new Set(this.components.libp2p.services.pubsub.getSubscribers(advertTopic(marketContext)).map(p => p.toString()))
    for (const a of this.components.adverts.adverts(marketContext, this.components.clock.now())) ids.add(a.peerId)
    ids.delete(this.selfId)
    return [...ids]
  }

  async queryFlexibility (window: FlexWindow, peerIds?: string[], options: AskOptions = {}): Promise<PeerOffer[]> {
    const peers = peerIds ?? this.knownPeers(window.marketContext)
    const answers = await Promise.allSettled(peers.map(async peerId => {
      const answer = await this.ask(peerId, FLEX_QUERY_PROTOCOL, { v: WIRE_VERSION, window }, options)
      return parseFlexAnswer(answer, peerId)
    }))
    const offers: PeerOffer[] = []
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') {
        if (a.value !== null && a.value.flexUpKw.length === window.intervals) offers.push(a.value)
      } else {
        this.components.log.debug({ peerId: peers[i], err: (a.reason as Error).message }, 'flexibility query failed')
      }
    })
    return offers
  }

  async requestCover (peerId: string, req: CoverRequest, options: AskOptions = {}): Promise<Commitment> {
    if (req.path.includes(peerId)) throw new MeshProtocolError(`cover request ${req.requestId} already passed through ${peerId}`)
    const answer = parseCommitment(await this.ask(peerId, COVER_PROTOCOL, { v: WIRE_VERSION, request: req }, options))
    if (answer.requestId !== req.requestId) throw new MeshProtocolError(`${peerId} answered request ${answer.requestId}, not ${req.requestId}`)
    if (!withinAsked(req.amountsKw, answer.committedKw)) throw new MeshProtocolError(`${peerId} committed outside what was asked`)
    if (!answer.accepted && answer.committedKw.some(c => c !== 0)) throw new MeshProtocolError(`${peerId} rejected with non-zero amounts`)
    return { ...answer, peerId }
  }

  async reportOutcome (requesterId: string, outcome: CoverOutcome, options: AskOptions = {}): Promise<void> {
    parseAck(await this.ask(requesterId, OUTCOME_PROTOCOL, { v: WIRE_VERSION, outcome }, options))
  }

  private async ask (peerId: string, protocol: string, body: unknown, options: AskOptions): Promise<unknown> {
    return await request(this.components.libp2p, peerIdFromString(peerId), protocol, body, {
      timeoutMs: this.init.requestTimeoutMs,
      maxBytes: this.init.maxMessageBytes,
      signal: options.signal
    })
  }

  private async answerFlexQuery (body: unknown, from: string): Promise<unknown> {
    const window = parseFlexQuery(body)
    let offer: PeerOffer | null
    if (this.flexHandler !== undefined) {
      offer = await this.flexHandler(window, from)
    } else {
      const own = this.components.adverts.ownAdvert(window.marketContext)
      offer = own === undefined || own.validUntilMs <= this.components.clock.now() ? null : offerFromAdvert(own, window)
    }
    return { v: WIRE_VERSION, offer: offer === null ? null : { flexUpKw: offer.flexUpKw, flexDownKw: offer.flexDownKw, expiresAtMs: offer.expiresAtMs } }
  }

  private async answerCover (body: unknown, from: string): Promise<unknown> {
    const req = parseCoverRequest(body)
    let answer = this.answered.get(req.requestId)
    if (answer === undefined) {
      answer = this.decideCover(req, from)
      this.answered.set(req.requestId, answer)
      const max = this.init.rememberedRequests ?? 1024
      if (this.answered.size > max) this.answered.delete(this.answered.keys().next().value as string)
    }
    return { v: WIRE_VERSION, commitment: await answer }
  }

  private async decideCover (req: CoverRequest, from: string): Promise<Commitment> {
    const reject = (reason: string): Commitment => ({ requestId: req.requestId, peerId: this.selfId, accepted: false, committedKw: req.amountsKw.map(() => 0), reason })
    if (req.path.includes(this.selfId)) return reject('loop: request already passed through this node')
    if (req.deadlineMs <= this.components.clock.now()) return reject('deadline passed')
    if (this.coverHandler === undefined) return reject('not accepting cover requests')
    try {
      const c = await this.coverHandler(req, from)
      const committedKw = c.accepted ? clampToAsked(req.amountsKw, c.committedKw) : req.amountsKw.map(() => 0)
      return { requestId: req.requestId, peerId: this.selfId, accepted: c.accepted, committedKw, ...(c.reason === undefined ? {} : { reason: c.reason }) }
    } catch (err) {
      this.components.log.error({ requestId: req.requestId, err: (err as Error).message }, 'cover handler failed')
      return reject('internal error')
    }
  }

  private async answerOutcome (body: unknown, from: string): Promise<unknown> {
    const outcome = parseOutcome(body)
    if (outcome.peerId !== from) throw new MeshProtocolError(`outcome for ${outcome.peerId} sent by ${from}`)
    await this.outcomeHandler?.(outcome, from)
    return { v: WIRE_VERSION, ok: true }
  }
}

/** A forwardable copy of `req` (hop spent, this node on the path), or null when it may not travel further. */
export function forwardRequest (req: CoverRequest, selfId: string): CoverRequest | null {
  if (req.hopLimit <= 0 || req.path.includes(selfId)) return null
  return { ...req, hopLimit: req.hopLimit - 1, path: [...req.path, selfId] }
}
