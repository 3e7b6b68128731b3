/**
 * One customer-session actor (src/machines/customerSession.ts) per customer: fed by the customer book's
 * activity (registration, capabilities, readings, deregistration) and by the agent (events the customer is
 * dispatched in), persisted on every transition (table `snapshots`, key `session:<venId>`) and restored on
 * start. A report to a session that is reporting does not go through the statechart: it only pushes back
 * the deadline its `reporting` state waits for (a plain field, `lastSeenMs`); the statechart hears of
 * reports only when they change its state (a lapsed or new session). Likewise a session hears of its
 * customer's capabilities when it has none or its market contexts change, not of each new forecast (the
 * book holds the current one). Neither is stored, nor are capabilities in any snapshot: on start each
 * restored session is told the newest reading and the capabilities the book holds (replayed from the VTN's
 * stored reports, if it keeps them).
 * The lapse deadlines are awaited through one durable-scheduler timer (kind `session-wait`) kept at the
 * earliest of them, so a session restored after a crash lapses on time, and a report costs a timer write
 * only when it moves the earliest deadline. A lapsed customer is left out of dispatch (`dispatchable`).
 */
import { createActor, fromPromise, type Actor, type SnapshotFrom } from 'xstate'
import { pino, type Logger } from 'pino'
import { customerSessionMachine } from '../machines/customerSession.js'
import type { WaitUntilInput, WaitUntilOutput } from '../machines/drEventTypes.js'
import type { Store, Table } from '../store/index.js'
import type { Clock } from '../util/clock.js'
import type { CustomerActivity, CustomerBook } from './agentCustomers.js'
import type { Scheduler } from './scheduler.js'

export interface CustomerSessionsInit {
  /** No report for this long (clock ms) and a session lapses. @default 900_000 */
  graceMs?: number
}

export interface CustomerSessionsComponents {
  store: Store
  clock: Clock
  book: CustomerBook
  scheduler: Scheduler
  logger?: Logger
}

/** What the JSON API shows of a session. */
export interface SessionView {
  state: 'registration' | 'reporting' | 'lapsed' | 'deregistered'
  participating: string[]
  lastReportMs: number
}

type SessionActor = Actor<typeof customerSessionMachine>
type SessionSnapshot = SnapshotFrom<typeof customerSessionMachine>
interface PersistedSession { venId: string, snapshot: unknown }
/** What a stored snapshot holds besides the time of the last report and the capabilities (context fields are replaced, never mutated). */
interface StoredShape { value: string, context: Omit<SessionSnapshot['context'], 'lastReportMs' | 'capabilities'> }
interface LiveSession {
  actor: SessionActor
  queue: Promise<void>
  stored: StoredShape | undefined
  /** Newest report the statechart was not told of (it was reporting and stays so). */
  lastSeenMs: number
}
interface Waiter { dueMs: number, resolve: (out: WaitUntilOutput) => void }

const snapshotKey = (venId: string): string => `session:${venId}`
const lapseTimerId = 'session-wait'

export class CustomerSessions {
  private readonly graceMs: number
  private readonly c: CustomerSessionsComponents
  private readonly log: Logger
  private readonly live = new Map<string, LiveSession>()
  /** Each session's pending lapse deadline, and how many sessions wait for each deadline. */
  private readonly waiters = new Map<string, Waiter>()
  private readonly dueCounts = new Map<number, number>()
  /** Due time of the scheduler's lapse timer, when armed. */
  private armedMs: number | undefined
  /** The lapse timer's last move that a report caused. */
  private pushedBack: Promise<void> = Promise.resolve()
  private unsubscribe: (() => void) | undefined

  constructor (init: CustomerSessionsInit, components: CustomerSessionsComponents) {
    this.graceMs = init.graceMs ?? 900_000
    this.c = components
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  private get table (): Table<PersistedSession> { return this.c.store.table<PersistedSession>('snapshots') }

  /** Restores the stored sessions, opens one for each customer without, and follows the book. Before the scheduler starts. */
  async start (): Promise<void> {
    this.c.scheduler.on('session-wait', async fire => {
      this.armedMs = undefined
      for (const [venId, w] of this.waiters) {
        if (w.dueMs > fire.firedAtMs) continue
        this.removeWaiter(venId, w)
        w.resolve({ firedAtMs: fire.firedAtMs })
      }
      await this.rearm()
    })
    for (const persisted of await this.table.values({ gte: snapshotKey(''), lt: snapshotKey('\uffff') })) {
      if (this.c.book.get(persisted.venId) === undefined) {
        await this.table.del(snapshotKey(persisted.venId))
        continue
      }
      const snapshot = persisted.snapshot as SessionSnapshot
      const session = this.spawn(persisted.venId, snapshot)
      // At once, before the restored deadline's wait can settle: reports newer than the snapshot move it.
      const lastReadingMs = this.c.book.lastReadingMs(persisted.venId)
      if (lastReadingMs !== undefined && lastReadingMs > snapshot.context.lastReportMs) session.actor.send({ type: 'REPORT', atMs: lastReadingMs })
      const c = this.c.book.get(persisted.venId)
      if (c !== undefined && c.capabilities !== null) session.actor.send({ type: 'CAPABILITIES', capabilities: c.capabilities, marketContexts: c.marketContexts })
    }
    for (const c of this.c.book.all()) {
      if (this.live.has(c.venId)) continue
      this.activity({ kind: 'registered', venId: c.venId, venName: c.venName, marketContexts: c.marketContexts, atMs: this.c.book.lastReadingMs(c.venId) ?? c.registeredAtMs })
      if (c.capabilities !== null) this.activity({ kind: 'capabilities', venId: c.venId, capabilities: c.capabilities, marketContexts: c.marketContexts })
    }
    this.unsubscribe = this.c.book.onActivity(e => { this.activity(e) })
  }

  /** Stops following the book and stops the actors once their transitions so far are stored. */
  async stop (): Promise<void> {
    this.unsubscribe?.()
    await Promise.allSettled([...this.live.values()].map(async s => await s.queue))
    for (const s of this.live.values()) s.actor.stop()
    await Promise.allSettled([...this.live.values()].map(async s => await s.queue))
    this.live.clear()
  }

  view (venId: string): SessionView | null {
    const snap = this.live.get(venId)?.actor.getSnapshot()
    if (snap === undefined) return null
    const state = snap.matches('registration')
      ? 'registration'
      : snap.matches('deregistered') ? 'deregistered' : snap.matches({ registered: { reports: 'lapsed' } }) ? 'lapsed' : 'reporting'
    return { state, participating: snap.context.events, lastReportMs: Math.max(snap.context.lastReportMs, this.live.get(venId)?.lastSeenMs ?? -Infinity) }
  }

  /** A customer no session knows of (not yet registered) may be dispatched; a lapsed one may not. */
  dispatchable (venId: string): boolean {
    // The one state of `view` that matters, without building the view: asked per customer and decision.
    return this.live.get(venId)?.actor.getSnapshot().matches({ registered: { reports: 'lapsed' } }) !== true
  }

  /** The customers an event dispatches now; those it no longer dispatches are released. */
  eventDispatches (eventId: string, venIds: readonly string[], previous: readonly string[]): void {
    const before = new Set(previous)
    const now = new Set(venIds)
    for (const venId of venIds) if (!before.has(venId)) this.live.get(venId)?.actor.send({ type: 'EVENT_ASSIGNED', eventId })
    for (const venId of previous) if (!now.has(venId)) this.live.get(venId)?.actor.send({ type: 'EVENT_RELEASED', eventId })
  }

  /** Resolves once every session transition so far, and the lapse timer's last move, is stored. */
  async settled (): Promise<void> {
    await Promise.all([...this.live.values()].map(async s => await s.queue))
    await this.pushedBack
  }

  private activity (e: CustomerActivity): void {
    let session = this.live.get(e.venId)
    if (session === undefined) {
      if (e.kind !== 'registered') return
      session = this.spawn(e.venId)
    }
    if (e.kind === 'reported' && this.pushBack(e.venId, e.atMs + this.graceMs)) {
      session.lastSeenMs = Math.max(session.lastSeenMs, e.atMs)
      return
    }
    if (e.kind === 'capabilities') {
      const known = session.actor.getSnapshot().context
      if (known.capabilities !== null && known.marketContexts === e.marketContexts) return
    }
    const send = session.actor.send.bind(session.actor)
    if (e.kind === 'registered') send({ type: 'REGISTERED', venName: e.venName, marketContexts: e.marketContexts, atMs: e.atMs })
    else if (e.kind === 'capabilities') send({ type: 'CAPABILITIES', capabilities: e.capabilities, marketContexts: e.marketContexts })
    else if (e.kind === 'reported') send({ type: 'REPORT', atMs: e.atMs })
    else send({ type: 'DEREGISTER' })
  }

  private spawn (venId: string, snapshot?: SnapshotFrom<typeof customerSessionMachine>): LiveSession {
    const actor = createActor(customerSessionMachine.provide({
      actors: { waitUntil: fromPromise<WaitUntilOutput, WaitUntilInput>(async ({ input, signal }) => await this.waitUntil(venId, input, signal)) }
    }), { input: { venId, graceMs: this.graceMs, registeredAtMs: this.c.clock.now() }, ...(snapshot === undefined ? {} : { snapshot }) })
    const session: LiveSession = { actor, queue: Promise.resolve(), stored: undefined, lastSeenMs: -Infinity }
    this.live.set(venId, session)
    actor.subscribe({
      next: snap => {
        const done = snap.status !== 'active'
        const shape = storedShape(snap)
        if (!done && session.stored !== undefined && sameShape(session.stored, shape)) return
        session.stored = shape
        const persisted = withoutCapabilities(actor.getPersistedSnapshot())
        session.queue = session.queue
          .then(async () => { await (done ? this.table.del(snapshotKey(venId)) : this.table.put(snapshotKey(venId), { venId, snapshot: persisted })) })
          .catch(err => { this.log.error({ err, venId }, 'persisting a customer session failed') })
        if (done) void session.queue.then(() => { if (this.live.get(venId) === session) this.live.delete(venId) })
      },
      error: err => { this.log.error({ err, venId }, 'customer session failed') }
    })
    actor.start()
    // A restored session was stored as it is: its next transition is stored only if it changes that.
    if (snapshot !== undefined) session.stored ??= storedShape(actor.getSnapshot())
    return session
  }

  private async waitUntil (venId: string, wait: WaitUntilInput, signal: AbortSignal): Promise<WaitUntilOutput> {
    if (wait.dueMs <= this.c.clock.now()) return { firedAtMs: this.c.clock.now() }
    let waiter: Waiter | undefined
    const promise = new Promise<WaitUntilOutput>(resolve => { waiter = { dueMs: wait.dueMs, resolve } })
    const replaced = this.addWaiter(venId, waiter as Waiter)
    signal.addEventListener('abort', () => {
      if (this.removeWaiter(venId, waiter as Waiter) && this.armedMs === wait.dueMs && !this.dueCounts.has(wait.dueMs)) {
        this.rearm().catch((err: unknown) => { this.log.error({ err }, 'arming the lapse timer failed') })
      }
    })
    const earliestGone = replaced !== undefined && replaced === this.armedMs && !this.dueCounts.has(replaced)
    if (this.armedMs === undefined || wait.dueMs < this.armedMs || earliestGone) await this.rearm()
    return await promise
  }

  /**
   * Moves the deadline of the session's pending lapse wait to `dueMs` if later; false when it has none (it is
   * not reporting, or its wait has just fired), and the statechart must hear of the report.
   */
  private pushBack (venId: string, dueMs: number): boolean {
    const w = this.waiters.get(venId)
    if (w === undefined) return false
    if (dueMs <= w.dueMs) return true
    const before = w.dueMs
    this.dropDue(before)
    w.dueMs = dueMs
    this.dueCounts.set(dueMs, (this.dueCounts.get(dueMs) ?? 0) + 1)
    if (before === this.armedMs && !this.dueCounts.has(before)) {
      this.pushedBack = this.rearm().catch((err: unknown) => { this.log.error({ err }, 'arming the lapse timer failed') })
    }
    return true
  }

  /** Makes `w` the session's wait; returns the deadline of the wait it replaces. */
  private addWaiter (venId: string, w: Waiter): number | undefined {
    const old = this.waiters.get(venId)
    if (old !== undefined) this.dropDue(old.dueMs)
    this.waiters.set(venId, w)
    this.dueCounts.set(w.dueMs, (this.dueCounts.get(w.dueMs) ?? 0) + 1)
    return old?.dueMs
  }

  private removeWaiter (venId: string, w: Waiter): boolean {
    if (this.waiters.get(venId) !== w) return false
    this.waiters.delete(venId)
    this.dropDue(w.dueMs)
    return true
  }

  private dropDue (dueMs: number): void {
    const left = (this.dueCounts.get(dueMs) ?? 1) - 1
    if (left > 0) this.dueCounts.set(dueMs, left)
    else this.dueCounts.delete(dueMs)
  }

  /**
   * Moves the lapse timer to the earliest deadline. Moved as reports push deadlines back, it fires only when
   * a session does lapse: a timer that fired for nothing would cost a step of a simulation's clock.
   */
  private async rearm (): Promise<void> {
    let next: number | undefined
    for (const dueMs of this.dueCounts.keys()) if (next === undefined || dueMs < next) next = dueMs
    if (next === this.armedMs) return
    this.armedMs = next
    if (next === undefined) await this.c.scheduler.cancel(lapseTimerId)
    else await this.c.scheduler.schedule({ id: lapseTimerId, kind: 'session-wait', dueMs: next })
  }
}

/** The customer's forecast (most of a snapshot's size) is left out: the book holds it and tells a restored session. */
function withoutCapabilities (persisted: unknown): unknown {
  const p = persisted as { context: SessionSnapshot['context'] }
  return { ...p, context: { ...p.context, capabilities: null } }
}

function storedShape (snap: SessionSnapshot): StoredShape {
  const { lastReportMs: _, capabilities: __, ...context } = snap.context
  return { value: JSON.stringify(snap.value), context }
}

function sameShape (a: StoredShape, b: StoredShape): boolean {
  if (a.value !== b.value) return false
  const keys = Object.keys(a.context) as Array<keyof StoredShape['context']>
  return keys.length === Object.keys(b.context).length && keys.every(k => a.context[k] === b.context[k])
}
