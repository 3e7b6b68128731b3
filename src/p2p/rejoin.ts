/**
 * Keeps a node joined: while it has no open connection, it redials its bootstrap addresses with a growing
 * pause. libp2p's bootstrap discovery dials once; a dial lost under load (a handshake timeout while many
 * nodes join at once) left nodes isolated for good.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import type { MeshLog } from './log.js'

export interface RejoinInit {
  bootstrap: string[]
  /** First pause between checks. @default 1_000 */
  minIntervalMs: number
  /** Longest pause while dials keep failing. @default 30_000 */
  maxIntervalMs: number
}

export class Rejoin {
  private timer: NodeJS.Timeout | undefined
  private intervalMs: number
  private running = false

  constructor (private readonly libp2p: Libp2p, private readonly log: MeshLog, private readonly init: RejoinInit) {
    this.intervalMs = init.minIntervalMs
  }

  start (): void {
    if (this.init.bootstrap.length === 0) return
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
    if (this.libp2p.getConnections().length > 0) {
      this.intervalMs = this.init.minIntervalMs
      return
    }
    const results = await Promise.allSettled(this.init.bootstrap.map(async addr =>
      await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) })))
    if (results.some(r => r.status === 'fulfilled')) {
      this.intervalMs = this.init.minIntervalMs
      this.log.info({}, 'rejoined the mesh through a bootstrap peer')
    } else {
      this.intervalMs = Math.min(this.intervalMs * 2, this.init.maxIntervalMs)
      const errors = results.map(r => r.status === 'rejected' ? (r.reason as Error).message : 'ok')
      this.log.warn({ retryInMs: this.intervalMs, errors }, 'isolated: no bootstrap peer answered')
    }
  }
}
