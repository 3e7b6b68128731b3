/**
 * Write-behind: writes staged in memory and committed to the store in bulk, for a caller that keeps the
 * values it reads in memory and whose writes are either durable elsewhere already (a customer's reading is
 * in the VTN's stored report, replayed on restart) or acknowledged only after `flush()`. A staged write of
 * a key replaces the one staged before it, so a record rewritten on every reading is written once per flush.
 *
 * Staged writes are committed when the oldest is `everyMs` old (by the times the callers give, their clock's),
 * when `maxOps` are staged, on `flush()`, and when the store stops. Flushes run one at a time, in order, so a
 * later write of a key lands after an earlier one. A failed flush keeps its writes staged (unless staged
 * again since) for the next. What a crash loses is what was staged and not flushed.
 */
import type { StoreOp } from './table.js'

export interface WriteBehindInit {
  /** Commit once the oldest staged write is this old (ms of the callers' clock). @default 900_000 */
  everyMs?: number
  /** Commit once this many writes are staged. @default 20_000 */
  maxOps?: number
}

/** What a write-behind needs of the store. */
export interface BatchTarget {
  batch: (ops: StoreOp[]) => Promise<void>
}

export class WriteBehind {
  private readonly everyMs: number
  private readonly maxOps: number
  private staged = new Map<string, StoreOp>()
  private oldestMs: number | undefined
  private flushing: Promise<void> | undefined

  constructor (private readonly target: BatchTarget, init: WriteBehindInit = {}) {
    this.everyMs = init.everyMs ?? 900_000
    this.maxOps = init.maxOps ?? 20_000
  }

  /** Writes staged and not yet being committed. */
  get size (): number { return this.staged.size }

  /** Stages `ops` (made at clock time `atMs`, when known); commits in the background when due and no commit is running. */
  stage (ops: readonly StoreOp[], atMs?: number): void {
    for (const op of ops) this.staged.set(`${op.table}\0${op.key}`, op)
    if (atMs !== undefined) this.oldestMs = Math.min(this.oldestMs ?? atMs, atMs)
    if (this.flushing !== undefined) return
    if (this.staged.size >= this.maxOps || (atMs !== undefined && atMs - (this.oldestMs ?? atMs) >= this.everyMs)) {
      // A failed commit keeps its writes staged: the next flush (at the latest the store's stop) retries them.
      this.flush().catch(() => {})
    }
  }

  /** Stages `ops` and resolves once they, and everything staged before, are committed. */
  async write (ops: readonly StoreOp[]): Promise<void> {
    this.stage(ops)
    await this.flush()
  }

  /** Resolves once everything staged so far is committed; rejects if that commit fails. */
  async flush (): Promise<void> {
    while (this.flushing !== undefined) await this.flushing.catch(() => {})
    if (this.staged.size === 0) return
    const batch = this.staged
    this.staged = new Map()
    this.oldestMs = undefined
    this.flushing = this.target.batch([...batch.values()])
      .catch((err: unknown) => {
        for (const [key, op] of batch) if (!this.staged.has(key)) this.staged.set(key, op)
        this.oldestMs ??= -Infinity
        throw err
      })
      .finally(() => { this.flushing = undefined })
    await this.flushing
  }
}
