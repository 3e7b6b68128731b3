/**
 * The durable scheduler (the paper's "asynchronous, persistent and fault-tolerant scheduler"): every timer
 * of the node (interval boundaries, report deadlines, model-training and clustering timers, retries) is
 * written to the store with its absolute due time (clock time) before it is armed, and fires through the
 * handler registered for its kind. After a crash, `start()` reloads the timers and fires the overdue ones at
 * once, in due order.
 *
 * Guarantee: **at-least-once** firing, **exactly-once store effects**.
 * - A handler may return store operations; they are committed in the same atomic batch that marks the timer
 *   done (or moves a recurring timer to its next due time), so a crash either loses both or keeps both.
 * - Before a handler runs, its attempt is recorded. When a previous attempt may have run (the process died
 *   inside the handler, or the handler threw), the next call says `refire: true`; `fireKey` is stable across
 *   attempts of one occurrence, so effects outside the store (messages sent) can be made idempotent with it.
 *
 * Timers fire one at a time in due order; handlers should be quick and hand heavy work to the worker pool.
 * A recurring timer that missed several occurrences (the node was down) fires once, then resumes on its grid.
 */
import { pino, type Logger } from 'pino'
import { timerAt, type Clock, type TimerHandle } from '../util/clock.js'
import type { Store, StoreOp, Table } from '../store/index.js'

export interface TimerSpec {
  /** Unique; scheduling an existing id replaces that timer (so re-scheduling after a restart is harmless). */
  id: string
  /** Selects the handler, e.g. `interval-boundary`, `report-deadline`, `retrain`. */
  kind: string
  /** Absolute due time on the node's clock, epoch ms. */
  dueMs: number
  /** JSON handed to the handler. */
  payload?: unknown
  /** Repeat every `everyMs` after `dueMs`. */
  everyMs?: number
  /** Last instant a recurring timer may be due at. */
  untilMs?: number
}

export interface TimerRecord {
  id: string
  kind: string
  dueMs: number
  payload: unknown
  everyMs?: number
  untilMs?: number
  /** Handler calls already started for this occurrence. */
  attempts: number
}

export interface TimerFire {
  id: string
  kind: string
  dueMs: number
  payload: unknown
  /** Clock time the handler was called. */
  firedAtMs: number
  /** 1 on the first call for this occurrence. */
  attempt: number
  /** A previous call for this occurrence may have had effects (crash or throw): act idempotently. */
  refire: boolean
  /** `<id>@<dueMs>`: the same for every attempt at one occurrence, different for the next occurrence. */
  fireKey: string
}

/** Returns store operations to commit atomically with the timer's completion. */
export type TimerHandler = (fire: TimerFire) => Promise<StoreOp[] | undefined | void> | StoreOp[] | undefined | void

export interface SchedulerInit {
  /**
   * Calls of a throwing handler before the timer is dropped (logged at error level).
   * @default 5
   */
  maxAttempts?: number
  /**
   * Clock ms before the first retry of a throwing handler; doubled at each further retry.
   * @default 1_000
   */
  retryDelayMs?: number
}

export interface SchedulerComponents {
  store: Store
  clock: Clock
  /** @default a silent pino logger */
  logger?: Logger
}

export class TimerSpecError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TimerSpecError'
  }
}

export class Scheduler {
  private readonly maxAttempts: number
  private readonly retryDelayMs: number
  private readonly store: Store
  private readonly clock: Clock
  private readonly log: Logger
  private readonly handlers = new Map<string, TimerHandler>()
  private readonly timers = new Map<string, TimerRecord>()
  private armed: TimerHandle | undefined
  private started = false
  private draining: Promise<void> | undefined
  private redrain = false

  constructor (init: SchedulerInit, components: SchedulerComponents) {
    this.maxAttempts = init.maxAttempts ?? 5
    this.retryDelayMs = init.retryDelayMs ?? 1_000
    this.store = components.store
    this.clock = components.clock
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  private get table (): Table<TimerRecord> { return this.store.table<TimerRecord>('timers') }

  /** Registers the handler of a timer kind; timers of a kind without a handler wait for one. */
  on (kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler)
    this.arm()
  }

  /** Loads the stored timers and arms them; overdue ones fire at once, in due order. */
  async start (): Promise<void> {
    for (const record of await this.table.values()) this.timers.set(record.id, record)
    this.started = true
    this.log.info({ timers: this.timers.size }, 'scheduler started')
    this.arm()
  }

  /** Disarms and waits for the handler in flight; stored timers stay for the next start. */
  async stop (): Promise<void> {
    this.started = false
    this.disarm()
    await this.draining
  }

  /** Stores the timer (with `also`, atomically) and arms it. */
  async schedule (spec: TimerSpec, also: StoreOp[] = []): Promise<TimerRecord> {
    const record = toRecord(spec)
    await this.store.batch([this.table.putOp(record.id, record), ...also])
    this.timers.set(record.id, record)
    this.arm()
    return record
  }

  /** Deletes the timer (with `also`, atomically); false when there was none. */
  async cancel (id: string, also: StoreOp[] = []): Promise<boolean> {
    const had = this.timers.has(id)
    await this.store.batch([this.table.delOp(id), ...also])
    this.timers.delete(id)
    this.arm()
    return had
  }

  get (id: string): TimerRecord | undefined {
    return this.timers.get(id)
  }

  /** Pending timers in due order. */
  pending (): TimerRecord[] {
    return [...this.timers.values()].sort(byDue)
  }

  /** Fires every timer due by now (for a ManualClock, after moving it); resolves when they are done. */
  async runDue (): Promise<void> {
    await this.drain()
  }

  private nextFireable (): TimerRecord | undefined {
    let next: TimerRecord | undefined
    for (const record of this.timers.values()) {
      if (!this.handlers.has(record.kind)) continue
      if (next === undefined || byDue(record, next) < 0) next = record
    }
    return next
  }

  private disarm (): void {
    this.armed?.cancel()
    this.armed = undefined
  }

  private arm (): void {
    this.disarm()
    if (!this.started) return
    if (this.draining !== undefined) {
      this.redrain = true
      return
    }
    const next = this.nextFireable()
    if (next === undefined) return
    this.armed = timerAt(this.clock, next.dueMs, async () => { await this.drain() })
  }

  private async drain (): Promise<void> {
    if (this.draining !== undefined) {
      this.redrain = true
      await this.draining
      return
    }
    this.disarm()
    this.draining = (async () => {
      do {
        this.redrain = false
        for (let next = this.nextFireable(); next !== undefined && next.dueMs <= this.clock.now() && this.started;
          next = this.nextFireable()) {
          await this.fire(next)
        }
      } while (this.redrain && this.started)
    })()
    try {
      await this.draining
    } finally {
      this.draining = undefined
      this.arm()
    }
  }

  private async fire (record: TimerRecord): Promise<void> {
    const handler = this.handlers.get(record.kind)
    if (handler === undefined) return
    const attempt = record.attempts + 1
    const inFlight: TimerRecord = { ...record, attempts: attempt }
    // Recorded before the call, so that after a crash inside the handler the next call knows it re-fires.
    // Memory first: a schedule() or cancel() racing this write lands after it, in memory and in the store.
    this.timers.set(record.id, inFlight)
    await this.store.batch([this.table.putOp(record.id, inFlight)])
    if (this.timers.get(record.id) !== inFlight) return
    const fire: TimerFire = {
      id: record.id,
      kind: record.kind,
      dueMs: record.dueMs,
      payload: record.payload,
      firedAtMs: this.clock.now(),
      attempt,
      refire: attempt > 1,
      fireKey: `${record.id}@${record.dueMs}`
    }
    let effects: StoreOp[]
    try {
      effects = (await handler(fire)) ?? []
    } catch (err) {
      await this.failed(inFlight, err)
      return
    }
    // A timer cancelled or re-scheduled while its handler ran keeps what that call stored.
    const replaced = this.timers.get(record.id) !== inFlight
    const next = replaced ? undefined : nextOccurrence(inFlight, this.clock.now())
    const own = replaced ? [] : [next === undefined ? this.table.delOp(record.id) : this.table.putOp(record.id, next)]
    await this.store.batch([...own, ...effects])
    if (replaced) return
    if (next === undefined) this.timers.delete(record.id)
    else this.timers.set(record.id, next)
  }

  private async failed (record: TimerRecord, err: unknown): Promise<void> {
    if (this.timers.get(record.id) !== record) return
    if (record.attempts >= this.maxAttempts) {
      this.log.error({ err, timer: record }, 'timer handler failed at every attempt; timer dropped')
      await this.store.batch([this.table.delOp(record.id)])
      this.timers.delete(record.id)
      return
    }
    const retry: TimerRecord = {
      ...record,
      dueMs: Math.max(record.dueMs, this.clock.now() + this.retryDelayMs * 2 ** (record.attempts - 1))
    }
    this.log.warn({ err, timer: record.id, attempt: record.attempts, retryAtMs: retry.dueMs }, 'timer handler failed')
    await this.store.batch([this.table.putOp(retry.id, retry)])
    this.timers.set(retry.id, retry)
  }
}

function toRecord (spec: TimerSpec): TimerRecord {
  if (spec.id === '') throw new TimerSpecError('a timer needs an id')
  if (spec.kind === '') throw new TimerSpecError(`timer ${spec.id} needs a kind`)
  if (!Number.isFinite(spec.dueMs)) throw new TimerSpecError(`timer ${spec.id}: dueMs must be finite, got ${spec.dueMs}`)
  if (spec.everyMs !== undefined && !(spec.everyMs > 0)) {
    throw new TimerSpecError(`timer ${spec.id}: everyMs must be > 0, got ${spec.everyMs}`)
  }
  const record: TimerRecord = { id: spec.id, kind: spec.kind, dueMs: spec.dueMs, payload: spec.payload ?? null, attempts: 0 }
  if (spec.everyMs !== undefined) record.everyMs = spec.everyMs
  if (spec.untilMs !== undefined) record.untilMs = spec.untilMs
  return record
}

/** The next occurrence of a recurring timer after `nowMs` (missed ones coalesced), or none. */
function nextOccurrence (record: TimerRecord, nowMs: number): TimerRecord | undefined {
  if (record.everyMs === undefined) return undefined
  const missed = Math.max(1, Math.floor((nowMs - record.dueMs) / record.everyMs) + 1)
  const dueMs = record.dueMs + missed * record.everyMs
  if (record.untilMs !== undefined && dueMs > record.untilMs) return undefined
  return { ...record, dueMs, attempts: 0 }
}

function byDue (a: TimerRecord, b: TimerRecord): number {
  return a.dueMs - b.dueMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
