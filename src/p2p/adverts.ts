/**
 * Flexibility advertisements: on a gossipsub topic per market context, each node publishes, signed, how far
 * it can move its aggregate flow up and down per interval over the coming horizon, with a validity and a
 * sequence number. Received ones pass the topic validator (size, schema, freshness, sequence, signer = gossip
 * sender) or are rejected, which makes gossipsub score the sender down; accepted ones feed `offers()`.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PrivateKey, PeerId } from '@libp2p/interface'
import type { PeerOffer } from '../node/interMatchmaking.js'
import type { Clock } from '../util/clock.js'
import { advertTopic, CLOCK_SKEW_MS, MAX_ADVERT_BYTES, MAX_ADVERT_VALIDITY_MS, MAX_INTERVALS } from './constants.js'
import { InvalidSignedMessageError, MeshProtocolError } from './errors.js'
import { encodeEnvelope, openEnvelope, signEnvelope } from './signed.js'
import { asObject, int, numbers, str } from './schema.js'
import type { MeshLog } from './log.js'

const ADVERT_KIND = 'flex-advert'

export interface FlexAdvert {
  peerId: string
  marketContext: string
  /** Strictly increasing per sender; a lower or equal one is a replay. */
  seq: number
  issuedAtMs: number
  validUntilMs: number
  /** Start of interval 0 and interval length of the horizon. */
  startMs: number
  intervalMs: number
  flexUpKw: number[]
  flexDownKw: number[]
}

export type AdvertContent = Pick<FlexAdvert, 'marketContext' | 'validUntilMs' | 'startMs' | 'intervalMs' | 'flexUpKw' | 'flexDownKw'>

export function parseAdvert (body: Record<string, unknown>): FlexAdvert {
  const o = asObject(body, 'advertisement')
  const advert: FlexAdvert = {
    peerId: str(o, 'peerId'),
    marketContext: str(o, 'marketContext', 1024),
    seq: int(o, 'seq', 1),
    issuedAtMs: int(o, 'issuedAtMs'),
    validUntilMs: int(o, 'validUntilMs'),
    startMs: int(o, 'startMs'),
    intervalMs: int(o, 'intervalMs', 1),
    flexUpKw: numbers(o, 'flexUpKw', MAX_INTERVALS, 0),
    flexDownKw: numbers(o, 'flexDownKw', MAX_INTERVALS, 0)
  }
  if (advert.flexUpKw.length !== advert.flexDownKw.length) throw new MeshProtocolError('flexUpKw and flexDownKw differ in length')
  return advert
}

/** Why an advertisement is not acceptable at `nowMs`, or undefined when it is fresh. */
export function staleness (advert: FlexAdvert, nowMs: number): string | undefined {
  if (advert.issuedAtMs > nowMs + CLOCK_SKEW_MS) return 'issued in the future'
  if (advert.validUntilMs <= nowMs) return 'expired'
  if (advert.validUntilMs - advert.issuedAtMs > MAX_ADVERT_VALIDITY_MS) return 'validity too long'
  return undefined
}

export interface AdvertBoardComponents {
  pubsub: GossipSub
  privateKey: PrivateKey
  peerId: PeerId
  clock: Clock
  log: MeshLog
}

export interface AdvertBoardInit {
  marketContexts: string[]
}

/** Publishes this node's advertisements and keeps the latest valid one of every fellow. */
export class AdvertBoard {
  private seq = 0
  private readonly latest = new Map<string, Map<string, FlexAdvert>>()
  private readonly rejected = new Map<string, number>()
  private readonly listeners = new Set<(advert: FlexAdvert) => void>()
  private readonly own = new Map<string, FlexAdvert>()

  constructor (private readonly components: AdvertBoardComponents, private readonly init: AdvertBoardInit) {
    this.onMessage = this.onMessage.bind(this)
  }

  async start (): Promise<void> {
    const { pubsub } = this.components
    // seq starts at the clock, so a restarted node's first advert is not taken for a replay.
    this.seq = Math.floor(this.components.clock.now())
    pubsub.addEventListener('message', this.onMessage)
    for (const mc of this.init.marketContexts) {
      const topic = advertTopic(mc)
      pubsub.topicValidators.set(topic, async (from, message) => await this.validate(from, message))
      pubsub.subscribe(topic)
    }
  }

  async stop (): Promise<void> {
    const { pubsub } = this.components
    pubsub.removeEventListener('message', this.onMessage)
    for (const mc of this.init.marketContexts) {
      pubsub.topicValidators.delete(advertTopic(mc))
      pubsub.unsubscribe(advertTopic(mc))
    }
  }

  /** Signs and gossips an advertisement; returns it as sent. */
  async publish (content: AdvertContent): Promise<FlexAdvert> {
    const advert: FlexAdvert = {
      ...content,
      peerId: this.components.peerId.toString(),
      seq: ++this.seq,
      issuedAtMs: Math.floor(this.components.clock.now())
    }
    parseAdvert(advert as unknown as Record<string, unknown>)
    const bytes = encodeEnvelope(await signEnvelope(this.components.privateKey, ADVERT_KIND, advert))
    this.own.set(advert.marketContext, advert)
    await this.components.pubsub.publish(advertTopic(advert.marketContext), bytes)
    return advert
  }

  /** This node's last advertisement in `marketContext`. */
  ownAdvert (marketContext: string): FlexAdvert | undefined {
    return this.own.get(marketContext)
  }

  /** Fellows' latest advertisements in `marketContext`, still valid at `nowMs`. */
  adverts (marketContext: string, nowMs: number): FlexAdvert[] {
    return [...(this.latest.get(marketContext)?.values() ?? [])].filter(a => a.validUntilMs > nowMs)
  }

  offers (marketContext: string, nowMs: number): PeerOffer[] {
    return this.adverts(marketContext, nowMs).map(a => ({
      peerId: a.peerId,
      flexUpKw: a.flexUpKw,
      flexDownKw: a.flexDownKw,
      expiresAtMs: a.validUntilMs
    }))
  }

  /** How many advertisements from each sender were rejected (what gossipsub scored them down for). */
  rejections (): Map<string, number> {
    return new Map(this.rejected)
  }

  /** Gossipsub's score of a peer (below 0 once it sent invalid advertisements); undefined if not exposed. */
  gossipScore (peerId: string): number | undefined {
    // getScore is on gossipsub's implementation, not on its published interface.
    const pubsub = this.components.pubsub as GossipSub & { getScore?: (id: string) => number }
    return typeof pubsub.getScore === 'function' ? pubsub.getScore(peerId) : undefined
  }

  onAdvert (listener: (advert: FlexAdvert) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private async validate (from: PeerId, message: Message): Promise<TopicValidatorResult> {
    const sender = message.type === 'signed' ? message.from.toString() : from.toString()
    try {
      if (message.type !== 'signed') throw new InvalidSignedMessageError('unsigned gossip message')
      const advert = parseAdvert(await openEnvelope(message.data, ADVERT_KIND, MAX_ADVERT_BYTES, sender))
      // The gossip layer already proved who sent the message: the advert must speak for that same peer.
      if (advert.peerId !== sender) throw new InvalidSignedMessageError(`advert for ${advert.peerId} sent by ${sender}`)
      if (message.topic !== advertTopic(advert.marketContext)) throw new MeshProtocolError('advert on another market context topic')
      const stale = staleness(advert, this.components.clock.now())
      if (stale !== undefined) throw new InvalidSignedMessageError(`stale advert: ${stale}`)
      const previous = this.latest.get(advert.marketContext)?.get(advert.peerId)
      if (previous !== undefined && advert.seq <= previous.seq) throw new InvalidSignedMessageError(`replayed advert: seq ${advert.seq} <= ${previous.seq}`)
      return TopicValidatorResult.Accept
    } catch (err) {
      this.rejected.set(sender, (this.rejected.get(sender) ?? 0) + 1)
      this.components.log.warn({ peerId: sender, propagatedBy: from.toString(), err: (err as Error).message }, 'advertisement rejected')
      return TopicValidatorResult.Reject
    }
  }

  private onMessage (event: CustomEvent<Message>): void {
    const message = event.detail
    if (!this.init.marketContexts.some(mc => advertTopic(mc) === message.topic)) return
    let advert: FlexAdvert
    try {
      // Only validated messages are delivered here; the guard is for a gossipsub that ever lets one through.
      const envelope = JSON.parse(new TextDecoder().decode(message.data)) as { body: string }
      advert = parseAdvert(JSON.parse(envelope.body) as Record<string, unknown>)
    } catch (err) {
      this.components.log.warn({ err: (err as Error).message }, 'unreadable advertisement dropped')
      return
    }
    let byPeer = this.latest.get(advert.marketContext)
    if (byPeer === undefined) this.latest.set(advert.marketContext, byPeer = new Map())
    const previous = byPeer.get(advert.peerId)
    if (previous !== undefined && previous.seq >= advert.seq) return
    byPeer.set(advert.peerId, advert)
    for (const listener of this.listeners) listener(advert)
  }
}
