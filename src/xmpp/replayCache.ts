/**
 * Exactly-once application of resent payloads: the answer to each (sender, message id) is kept, so a resend
 * (the sender never saw our IQ result because the connection dropped) gets the same answer without the
 * payload being applied again. Bounded: the oldest entries go first.
 */
export class ReplayCache<T> {
  private readonly entries = new Map<string, Promise<T>>()

  constructor (private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`)
  }

  get size (): number { return this.entries.size }

  /** The answer already produced for `key`, else `produce()`'s, remembered. A failed production is forgotten. */
  async once (key: string, produce: () => Promise<T>): Promise<{ value: T, replayed: boolean }> {
    const existing = this.entries.get(key)
    if (existing !== undefined) return { value: await existing, replayed: true }
    const pending = produce()
    this.entries.set(key, pending)
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
    try {
      return { value: await pending, replayed: false }
    } catch (err) {
      if (this.entries.get(key) === pending) this.entries.delete(key)
      throw err
    }
  }
}
