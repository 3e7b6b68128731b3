/**
 * The inter-matchmaking port the agent is given when it runs on the mesh: src/p2p's MeshMatchmaking (attached
 * once the mesh node has started) behind the rules of a node in a mesh that the agent's decisions leave to
 * the port:
 * - a cover request made while running a fellow's request is forwarded with that request's path and one hop
 *   less, and not at all once no hop is left (no A → B → A loops, hop limit honoured);
 * - a peer that fails, dies, refuses or commits only part is followed, in the same call and before the
 *   request's deadline, by the next candidate (live offers over the window, most reliable first), so the
 *   interval is not lost;
 * - advertised offers are sliced to the event's window;
 * - every commitment is kept for rating its outcome (meshRating.ts), and outcomes are rated on arrival.
 */
import { askPeersInOrder } from '../p2p/askInOrder.js'
import { forwardRequest, offerFromAdvert, type MeshMatchmaking } from '../p2p/matchmaking.js'
import type { FlexAdvert } from '../p2p/adverts.js'
import type { MeshLog } from '../p2p/log.js'
import { reliabilityOf } from '../actors/reliability.js'
import type { Clock } from '../util/clock.js'
import type { Agent } from './agent.js'
import { reliabilityPrior } from './agentDecisions.js'
import type {
  AskOptions, Commitment, CoverOutcome, CoverRequest, FlexWindow, InboundCoverHandler, InboundOutcomeHandler,
  InterMatchmakingPort, PeerOffer
} from './interMatchmaking.js'
import type { PeerRatings } from './meshRating.js'

/** The mesh side the port needs once the mesh node runs. */
export interface AttachedMesh {
  matchmaking: MeshMatchmaking
  selfId: string
  /** Fellows' live advertisements in a market context. */
  adverts: (marketContext: string, nowMs: number) => FlexAdvert[]
}

export interface MeshPortInit {
  /** Peers asked after the one the agent chose, when it fails or covers only part. @default 3 */
  maxFallbacks?: number
}

export interface MeshPortComponents {
  clock: Clock
  log: MeshLog
}

interface Bound { agent: Agent, ratings: PeerRatings }

const EPSILON_KW = 1e-9
/** Fellows' requests remembered for forwarding (a request is forwarded, if at all, while its event runs). */
const MAX_INBOUND = 1024

export class MeshAgentPort implements InterMatchmakingPort {
  private mesh: AttachedMesh | undefined
  private bound: Bound | undefined
  private coverHandler: InboundCoverHandler | undefined
  /** Fellows' requests this node is running, by request id: the path and hops its own requests inherit. */
  private readonly inbound = new Map<string, CoverRequest>()

  constructor (private readonly init: MeshPortInit, private readonly components: MeshPortComponents) {}

  bind (agent: Agent, ratings: PeerRatings): void { this.bound = { agent, ratings } }

  attach (mesh: AttachedMesh): void {
    this.mesh = mesh
    mesh.matchmaking.onCoverRequest(async (request, from) => {
      if (this.coverHandler === undefined) return { requestId: request.requestId, peerId: mesh.selfId, accepted: false, committedKw: request.amountsKw.map(() => 0), reason: 'node not ready' }
      this.inbound.set(request.requestId, request)
      // Refused requests never report an outcome: keep the most recent ones only.
      if (this.inbound.size > MAX_INBOUND) this.inbound.delete(this.inbound.keys().next().value as string)
      return await this.coverHandler(request, from)
    })
    mesh.matchmaking.onOutcome(async (outcome, from) => {
      if (this.bound === undefined) throw new Error('node not ready')
      const rated = await this.bound.ratings.rate(outcome, from)
      this.components.log.info({ peerId: from, requestId: outcome.requestId, basis: rated.basis, r: rated.reliability.r }, 'peer cover outcome rated')
    })
  }

  detach (): void { this.mesh = undefined }

  onCoverRequest (handler: InboundCoverHandler): void { this.coverHandler = handler }
  /** Outcomes are rated by this port; a handler given here is not needed. */
  onOutcome (_handler: InboundOutcomeHandler): void {}

  advertisedOffers (marketContext: string, nowMs: number, window?: FlexWindow): PeerOffer[] {
    const adverts = this.mesh?.adverts(marketContext, nowMs) ?? []
    if (window === undefined) return adverts.map(a => ({ peerId: a.peerId, flexUpKw: a.flexUpKw, flexDownKw: a.flexDownKw, expiresAtMs: a.validUntilMs }))
    return adverts.map(a => offerFromAdvert(a, window)).filter((o): o is PeerOffer => o !== null)
  }

  async queryFlexibility (window: FlexWindow, peerIds?: string[], options?: AskOptions): Promise<PeerOffer[]> {
    return await this.mesh?.matchmaking.queryFlexibility(window, peerIds, options) ?? []
  }

  async reportOutcome (requesterId: string, outcome: CoverOutcome, options?: AskOptions): Promise<void> {
    const mesh = this.mesh
    if (mesh === undefined) throw new Error('mesh not started')
    this.inbound.delete(outcome.requestId)
    // The requester checks the sender: the outcome names this node by its peer id, whatever its node id.
    await mesh.matchmaking.reportOutcome(requesterId, { ...outcome, peerId: mesh.selfId }, options)
  }

  async requestCover (peerId: string, request: CoverRequest): Promise<Commitment> {
    const refuse = (reason: string): Commitment => ({ requestId: request.requestId, peerId, accepted: false, committedKw: request.amountsKw.map(() => 0), reason })
    const mesh = this.mesh
    if (mesh === undefined) return refuse('mesh not started')
    const outbound = this.outbound(request, mesh.selfId)
    if (outbound === null) return refuse('hop limit reached: this request may not travel further')
    const { clock, log } = this.components
    const candidates = [peerId, ...this.fallbacks(outbound, peerId, mesh)].filter(p => !outbound.path.includes(p))
    const walk = await askPeersInOrder(candidates, outbound, async (p, r) => {
      if (clock.now() >= r.deadlineMs) throw new Error('deadline passed')
      return await mesh.matchmaking.requestCover(p, r)
    })
    for (const f of walk.failures) log.warn({ peerId: f.peerId, requestId: request.requestId, err: f.error.message }, 'peer failed a cover request; asking the next')
    for (const c of walk.commitments) await this.bound?.ratings.remember(outbound, c.peerId, c.committedKw, clock.now())
    const committedKw = request.amountsKw.map((_, t) => walk.commitments.reduce((s, c) => s + (c.committedKw[t] ?? 0), 0))
    if (walk.commitments.length === 0) {
      const reasons = [...walk.refusals.map(r => `${r.peerId}: ${r.reason}`), ...walk.failures.map(f => `${f.peerId}: ${f.error.message}`)]
      return refuse(reasons.join('; ') || 'no peer to ask')
    }
    return { requestId: request.requestId, peerId: walk.commitments[0]?.peerId ?? peerId, accepted: true, committedKw }
  }

  /**
   * The request as it goes out: this node's own, or a fellow's forwarded (path kept, one hop spent). A
   * fellow's request this port no longer remembers (a restart) keeps the path the agent carried in its
   * event, this node named by its peer id rather than its node id.
   */
  private outbound (request: CoverRequest, selfId: string): CoverRequest | null {
    const eventId = request.eventRef.eventId
    const fellow = eventId.startsWith('peer:') ? this.inbound.get(eventId.slice('peer:'.length)) : undefined
    if (fellow === undefined) {
      return request.path.length > 1 ? { ...request, path: [...request.path.slice(0, -1), selfId] } : { ...request, path: [selfId] }
    }
    const forwarded = forwardRequest(fellow, selfId)
    return forwarded === null ? null : { ...request, hopLimit: forwarded.hopLimit, path: forwarded.path }
  }

  /** Other fellows with room over the window in the direction asked, most reliable first. */
  private fallbacks (request: CoverRequest, chosen: string, mesh: AttachedMesh): string[] {
    const now = this.components.clock.now()
    const window = { marketContext: request.marketContext, startMs: request.startMs, intervalMs: request.intervalMs, intervals: request.amountsKw.length }
    const book = this.bound?.agent.reliabilityBook() ?? {}
    const rated = this.advertisedOffers(request.marketContext, now, window)
      .filter(o => o.peerId !== chosen && o.expiresAtMs > now)
      .filter(o => request.amountsKw.some((a, t) => Math.abs(a) > EPSILON_KW && ((a > 0 ? o.flexUpKw[t] : o.flexDownKw[t]) ?? 0) > EPSILON_KW))
      .map(o => ({ peerId: o.peerId, r: reliabilityOf(book, o.peerId, request.marketContext, reliabilityPrior).r }))
      .sort((a, b) => b.r - a.r || (a.peerId < b.peerId ? -1 : 1))
    return rated.slice(0, this.init.maxFallbacks ?? 3).map(p => p.peerId).filter(p => p !== mesh.selfId)
  }
}
