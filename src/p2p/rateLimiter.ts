/**
 * Per-peer request rate limit: a token bucket per peer id on real time (a flood is a real-time thing, whatever
 * the simulation clock does). Buckets of peers that went quiet are forgotten so the map cannot grow unbounded.
 */
export interface RateLimiterInit {
  /** Sustained requests per second. */
  ratePerSecond: number
  /** Requests a quiet peer may send at once. */
  burst: number
}

interface Bucket { tokens: number, atMs: number }

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor (private readonly init: RateLimiterInit, private readonly nowMs: () => number) {}

  /** Takes one token for `peerId`; false when the peer is over its rate. */
  take (peerId: string): boolean {
    const now = this.nowMs()
    const bucket = this.buckets.get(peerId) ?? { tokens: this.init.burst, atMs: now }
    bucket.tokens = Math.min(this.init.burst, bucket.tokens + (now - bucket.atMs) * this.init.ratePerSecond / 1000)
    bucket.atMs = now
    if (this.buckets.size > 10_000) this.forgetFull(now)
    this.buckets.set(peerId, bucket)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  private forgetFull (now: number): void {
    const refillMs = this.init.burst * 1000 / this.init.ratePerSecond
    for (const [id, b] of this.buckets) if (now - b.atMs > refillMs) this.buckets.delete(id)
  }
}
