/**
 * The memory of ReplayProtect nonces: a nonce is accepted once within the freshness window; after the window
 * its timestamp alone refuses it, so it can be forgotten. Bounded so that a flood of signed messages cannot
 * grow it without limit.
 */
export class NonceCache {
  /** nonce → epoch ms after which it may be forgotten; Map order is insertion order, roughly time order. */
  private readonly seen = new Map<string, number>()

  constructor (private readonly maxEntries = 100_000) {}

  /** Records the nonce; false when it is already there (a replay). */
  remember (nonce: string, forgetAfterMs: number, nowMs: number): boolean {
    this.prune(nowMs)
    if (this.seen.has(nonce)) return false
    this.seen.set(nonce, forgetAfterMs)
    return true
  }

  get size (): number { return this.seen.size }

  private prune (nowMs: number): void {
    for (const [nonce, forgetAfterMs] of this.seen) {
      if (forgetAfterMs > nowMs && this.seen.size < this.maxEntries) break
      this.seen.delete(nonce)
    }
  }
}
