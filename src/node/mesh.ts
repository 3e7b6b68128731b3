/**
 * The virtual node on the mesh: builds the MeshNode (src/p2p) for an agent, gives the agent its port
 * (meshPort.ts), and owns what the node tells its fellows: its flexibility, net of the ledger's reservations,
 * gossiped per market context on a schedule over the coming horizon, and the same figures, live, as the
 * answer to a fellow's pre-event query. `peers()` is what `GET /api/peers` shows: each fellow's directory
 * record, advertised flexibility and reliability with its uncertainty.
 *
 * Order: construct, give `port` to the Agent, `bind(agent)`, start the agent, then `start()`; stop before the
 * agent stops.
 */
import { MeshNode, type MeshNodeInit } from '../p2p/meshNode.js'
import type { DirectoryRecord } from '../p2p/directory.js'
import { defaultMeshLog, type MeshLog } from '../p2p/log.js'
import { MeshNotStartedError } from '../p2p/errors.js'
import { reliabilityOf, type Reliability } from '../actors/reliability.js'
import { timerAt, type Clock, type TimerHandle } from '../util/clock.js'
import type { Agent } from './agent.js'
import { reliabilityPrior } from './agentDecisions.js'
import type { FlexWindow, PeerOffer } from './interMatchmaking.js'
import { MeshAgentPort } from './meshPort.js'
import { PeerRatings, type CoverObserver } from './meshRating.js'

export interface AgentMeshInit extends MeshNodeInit {
  /** Clock ms between two advertisements of the node's flexibility. @default 60_000 */
  advertEveryMs?: number
  /** Interval length of the advertised horizon (events on this grid can use the offers). @default 900_000 */
  advertIntervalMs?: number
  /** Intervals advertised, from the current one. @default 24 */
  advertIntervals?: number
  /** How long an advertisement or a query answer binds the node. @default 2 × advertEveryMs */
  offerValidityMs?: number
  /** Peers asked after the one chosen when it fails or covers only part. @default 3 */
  maxFallbacks?: number
}

export interface AgentMeshComponents {
  clock: Clock
  /** @default pino at level warn */
  log?: MeshLog
  /** Figures of a fellow's delivery this node does not get from the fellow. @default none (the report, bounded) */
  observer?: CoverObserver
  /** Real time for the mesh's rate limits. @default Date.now */
  realNowMs?: () => number
}

/** A fellow as `GET /api/peers` shows it. */
export interface PeerStatus {
  peerId: string
  connected: boolean
  record: DirectoryRecord | null
  /** Per market context: its live advertisement (null when none) and this node's reliability of it. */
  markets: Array<{ marketContext: string, advert: { startMs: number, intervalMs: number, flexUpKw: number[], flexDownKw: number[], validUntilMs: number, seq: number } | null, reliability: Reliability }>
}

const zeroFlex = (f: { flexUpKw: number[], flexDownKw: number[] }): boolean => [...f.flexUpKw, ...f.flexDownKw].every(v => v <= 0)

export class AgentMesh {
  readonly port: MeshAgentPort
  private meshNode: MeshNode | undefined
  private marketContexts: string[] = []
  private agent: Agent | undefined
  private timer: TimerHandle | undefined
  private republish: NodeJS.Timeout | undefined
  /** Aborted at stop: a directory lookup in flight does not hold the node's shutdown. */
  private lookups = new AbortController()
  private advertising: Promise<void> = Promise.resolve()
  private readonly clock: Clock
  private readonly log: MeshLog

  constructor (private readonly init: AgentMeshInit, private readonly components: AgentMeshComponents) {
    this.clock = components.clock
    this.log = components.log ?? defaultMeshLog()
    this.port = new MeshAgentPort({ maxFallbacks: init.maxFallbacks ?? 3 }, { clock: this.clock, log: this.log })
  }

  bind (agent: Agent): void {
    this.agent = agent
    this.port.bind(agent, new PeerRatings(agent, this.components.observer))
  }

  /** The mesh node; there once `start()` has begun. */
  get node (): MeshNode {
    if (this.meshNode === undefined) throw new MeshNotStartedError()
    return this.meshNode
  }

  get peerId (): string { return this.node.peerId.toString() }

  /**
   * Starts the mesh node serving the configured market contexts and those of the agent's customers (known
   * once the agent has started); `overrides` are what is known only then (the OpenADR endpoint's URL).
   */
  async start (overrides: Partial<MeshNodeInit> = {}): Promise<void> {
    const customerContexts = this.agent?.book.all().flatMap(c => c.marketContexts) ?? []
    this.marketContexts = [...new Set([...this.init.marketContexts, ...customerContexts])]
    const { realNowMs } = this.components
    const node = new MeshNode({ ...this.init, ...overrides, marketContexts: this.marketContexts }, { clock: this.clock, log: this.log, ...(realNowMs === undefined ? {} : { realNowMs }) })
    this.meshNode = node
    this.lookups = new AbortController()
    await node.start()
    node.port.onFlexQuery(async window => await this.offer(window))
    this.port.attach({ matchmaking: node.port, selfId: this.peerId, adverts: (mc, now) => node.adverts.adverts(mc, now) })
    // The record published at start reached nobody when the node was alone: publish again once fellows join
    // (after identify, when the DHT knows they speak its protocol).
    node.libp2p.addEventListener('peer:identify', this.onConnect)
    await this.advertise()
    this.schedule()
  }

  async stop (): Promise<void> {
    if (this.timer === undefined) return
    this.lookups.abort()
    this.timer.cancel()
    this.timer = undefined
    clearTimeout(this.republish)
    this.node.libp2p.removeEventListener('peer:identify', this.onConnect)
    await this.advertising
    this.port.detach()
    await this.node.stop()
  }

  /** Coalesces a burst of new fellows into one publication and lookup, a second after the last. */
  private readonly onConnect = (): void => {
    clearTimeout(this.republish)
    this.republish = setTimeout(() => {
      this.node.publishRecord(AbortSignal.any([this.lookups.signal, AbortSignal.timeout(30_000)]))
        .catch(err => { this.log.debug({ err: (err as Error).message }, 'directory republish failed') })
        .then(async () => { await this.discover() }, () => {})
    }, 1000)
    this.republish.unref()
  }

  private schedule (): void {
    const every = this.init.advertEveryMs ?? 60_000
    this.timer = timerAt(this.clock, this.clock.now() + every, async () => {
      const advertised = this.advertise().catch(err => { this.log.warn({ err: (err as Error).message }, 'advertisement failed') })
      this.advertising = advertised.then(async () => { await this.discover() })
      void this.advertising.then(() => { if (this.timer !== undefined) this.schedule() })
      // A virtual clock waits for the adverts to go out, not for the DHT lookups after them (network time).
      await advertised
    })
  }

  /** The coming horizon, from the start of the current interval of the advertised grid. */
  horizon (marketContext: string): FlexWindow {
    const intervalMs = this.init.advertIntervalMs ?? 900_000
    return { marketContext, startMs: Math.floor(this.clock.now() / intervalMs) * intervalMs, intervalMs, intervals: this.init.advertIntervals ?? 24 }
  }

  /** Gossips, per market context, what the ledger has not reserved of the customers' flexibility. */
  async advertise (): Promise<void> {
    for (const marketContext of this.marketContexts) {
      const window = this.horizon(marketContext)
      const flex = await this.spare(window)
      if (flex === null) continue
      await this.node.publishAdvert({ ...window, validUntilMs: this.validUntil(), flexUpKw: flex.flexUpKw, flexDownKw: flex.flexDownKw })
    }
  }

  /** Looks fellows up in the directory (DHT), so their verified records are known to `peers()`. */
  async discover (): Promise<void> {
    for (const marketContext of this.marketContexts) {
      await this.node.fellows(marketContext, AbortSignal.any([this.lookups.signal, AbortSignal.timeout(10_000)])).catch(err => { this.log.debug({ err: (err as Error).message }, 'directory lookup failed') })
    }
  }

  /** A fellow's pre-event query, answered from the ledger now (not from the last advertisement). */
  async offer (window: FlexWindow): Promise<PeerOffer | null> {
    const flex = await this.spare(window)
    if (flex === null || zeroFlex(flex)) return null
    return { peerId: this.peerId, ...flex, expiresAtMs: this.validUntil() }
  }

  private validUntil (): number {
    return Math.floor(this.clock.now() + (this.init.offerValidityMs ?? 2 * (this.init.advertEveryMs ?? 60_000)))
  }

  private async spare (window: FlexWindow): Promise<{ flexUpKw: number[], flexDownKw: number[] } | null> {
    const agent = this.agent
    if (agent === undefined || agent.state !== 'ready') return null
    return await agent.spareFlexibility(window)
  }

  /** Every fellow known: connected peers and directory records, with adverts and reliabilities. */
  peers (): PeerStatus[] {
    if (this.timer === undefined) return []
    const now = this.clock.now()
    const book = this.agent?.reliabilityBook() ?? {}
    return this.node.peers().map(p => ({
      peerId: p.peerId,
      connected: p.connected,
      record: p.record ?? null,
      markets: this.marketContexts.map(marketContext => {
        const a = this.node.adverts.adverts(marketContext, now).find(x => x.peerId === p.peerId)
        return {
          marketContext,
          advert: a === undefined ? null : { startMs: a.startMs, intervalMs: a.intervalMs, flexUpKw: a.flexUpKw, flexDownKw: a.flexDownKw, validUntilMs: a.validUntilMs, seq: a.seq },
          reliability: reliabilityOf(book, p.peerId, marketContext, reliabilityPrior)
        }
      })
    }))
  }
}
