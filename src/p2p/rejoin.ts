/**
 * Keeps a node joined and connected to enough fellows: while it has no open connection, it redials its
 * bootstrap addresses with a growing pause; while it has fewer than `minPeers`, it asks the DHT for the peers
 * closest to itself and dials those it is not connected to. libp2p's bootstrap discovery dials once, and
 * libp2p 3 does not dial the peers the DHT discovers: a dial lost under load left nodes isolated for good, and
 * nodes joining through a busy bootstrap kept it as their only peer (one gossip neighbour, never "ready").
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { MeshLibp2p } from './host.js'
import type { MeshLog } from './log.js'

export interface RejoinInit {
  bootstrap: string[]
  /** First pause between checks. @default 1_000 */
  minIntervalMs: number
  /** Longest pause while dials keep failing. @default 30_000 */
  maxIntervalMs: number
  /** Connected peers below which the node looks for more (gossipsub's D, so its mesh can fill). @default 6 */
  minPeers: number
  /** Longest a DHT lookup or a dial of one check may take. @default 10_000 */
  dialTimeoutMs: number
}

export class Rejoin {
  private timer: NodeJS.Timeout | undefined
  private intervalMs: number
  private running = false

  constructor (private readonly libp2p: MeshLibp2p, private readonly log: MeshLog, private readonly init: RejoinInit) {
    this.intervalMs = init.minIntervalMs
  }

  start (): void {
    this.running = true
    this.schedule()
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  private schedule (): void {
    if (!this.running) return
    this.timer = setTimeout(() => { void this.check().finally(() => { this.schedule() }) }, this.intervalMs)
    this.timer.unref()
  }

  private async check (): Promise<void> {
    const peers = this.libp2p.getPeers().length
    if (peers === 0) {
      if (this.init.bootstrap.length > 0) await this.redialBootstrap()
      return
    }
    if (peers < this.init.minPeers) await this.fill(this.init.minPeers - peers)
    else this.intervalMs = this.init.minIntervalMs
  }

  private async redialBootstrap (): Promise<void> {
    const results = await Promise.allSettled(this.init.bootstrap.map(async addr =>
      await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })))
    if (results.some(r => r.status === 'fulfilled')) {
      this.intervalMs = this.init.minIntervalMs
      this.log.info({}, 'rejoined the mesh through a bootstrap peer')
    } else {
      this.backOff()
      const errors = results.map(r => r.status === 'rejected' ? (r.reason as Error).message : 'ok')
      this.log.warn({ retryInMs: this.intervalMs, errors }, 'isolated: no bootstrap peer answered')
    }
  }

  /** Dials up to `wanted` fellows the DHT knows and this node is not connected to. */
  private async fill (wanted: number): Promise<void> {
    const self = this.libp2p.peerId
    const connected = new Set(this.libp2p.getPeers().map(p => p.toString()))
    const candidates = new Map<string, PeerId>()
    try {
      for await (const event of this.libp2p.services.dht.getClosestPeers(self.toMultihash().bytes, { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })) {
        if (event.name === 'FINAL_PEER' || event.name === 'PEER_RESPONSE') {
          const found = event.name === 'FINAL_PEER' ? [event.peer] : event.closer
          for (const p of found) if (!p.id.equals(self) && !connected.has(p.id.toString())) candidates.set(p.id.toString(), p.id)
        }
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'closest-peers lookup ended early')
    }
    const picked = [...candidates.values()].slice(0, wanted)
    const results = await Promise.allSettled(picked.map(async id =>
      await this.libp2p.dial(id, { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })))
    const dialled = results.filter(r => r.status === 'fulfilled').length
    // Fewer fellows than wanted may simply be the whole mesh: back off rather than query it every second.
    if (dialled === 0) this.backOff()
    else this.intervalMs = this.init.minIntervalMs
  }

  private backOff (): void {
    this.intervalMs = Math.min(this.intervalMs * 2, this.init.maxIntervalMs)
  }
}
