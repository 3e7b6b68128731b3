/**
 * The agent: one virtual node. It runs one DR-event actor (src/machines/drEvent.ts) per event, with the
 * decisions of agentDecisions.ts, and owns what makes them durable:
 * - every transition is appended to the event's audit trail, in the same atomic batch as the actor's
 *   persisted snapshot (eventSnapshot.ts; with the rows of its plan that changed, kept apart: planRows.ts,
 *   and its large context fields that changed, kept apart: contextParts.ts)
 *   and its summary (table `events`), before any effect of the transition goes out:
 *   effect actions wait in an outbox stored in that same batch (table `meta`, keys `outbox:…`) and are deleted once sent, so
 *   an effect the process died before sending (or that failed) is sent on the next start; invoked actors
 *   wait for that write before they act;
 * - every wait is a timer of the durable scheduler (kind `dr-wait`) on an absolute deadline;
 * - on start, every live event actor is restored from its snapshot and carries on.
 * The node's own lifecycle is the node chart (starting → ready → draining → stopped).
 */
import { createActor, fromPromise, type Actor, type SnapshotFrom, type StateValue } from 'xstate'
import { pino, type Logger } from 'pino'
import { drEventMachine } from '../machines/drEvent.js'
import { nodeMachine } from '../machines/node.js'
import { stateKey, transitionRecorder, type TransitionRecord } from '../machines/transitions.js'
import type { DispatchPlan, DrEventInput, DrRequest, IntervalRecord, OptAnswer, WaitUntilInput, WaitUntilOutput } from '../machines/drEventTypes.js'
import type { ReliabilityBook } from '../actors/reliability.js'
import { Store, type StoreOp } from '../store/index.js'
import type { Clock } from '../util/clock.js'
import { AuditTrail } from './audit.js'
import { auditDecision } from './auditDecision.js'
import { loadOrCreateNodeKey } from './nodeKey.js'
import { ReservationLedger, type FlexProfile, type LedgerWindow } from './ledger.js'
import { Scheduler } from './scheduler.js'
import { noPeers, type Commitment, type CoverRequest, type InterMatchmakingPort } from './interMatchmaking.js'
import { CustomerBook, onWindow, reportedBaseline, windowOf } from './agentCustomers.js'
import { holderOf, type DecisionComponents } from './agentDecisions.js'
import { noUpstream, type CustomerChannel, type UpstreamChannel } from './agentChannels.js'
import { eventImplementations, runEffect, type Effect } from './agentEvent.js'
import type { NodeConfig } from './config.js'
import type { WorkerPool } from './workerPool.js'
import { CustomerModels } from './customerModels.js'
import { CustomerSessions } from './customerSessions.js'
import { PlanRows } from './planRows.js'
import { ContextParts, type ReferringFields } from './contextParts.js'
import { persistedEvent, restoredEvent } from './eventSnapshot.js'
import { WindowSeries } from './windowSeries.js'
import type { DispatchPlan as SolvedDispatch, DispatchProblem } from '../actors/dispatch/index.js'

export interface AgentComponents {
  clock: Clock
  customers: CustomerChannel
  /** @default noUpstream (requests come from the JSON API; the audit trail keeps the answers) */
  upstream?: UpstreamChannel
  /** @default noPeers() */
  port?: InterMatchmakingPort
  /** @default a silent pino logger */
  logger?: Logger
  /**
   * Runs the heavy decisions (dispatch solves, clustering, training) off the event loop, tasks of workers/tasks.ts. The
   * caller starts and stops it. @default solves in this thread
   */
  pool?: WorkerPool
  /**
   * Fires the node's event waits one event at a time, each once the event before is back to waiting for the
   * clock: the simulator sets it, so that a node's events do not race for its customers and ledger and a
   * seeded run gives the same figures every time. @default false (waits due together fire together)
   */
  oneEventAtATime?: boolean
}

/** What the node keeps about each event, live or finished (table `events`). */
export interface EventSummary {
  eventId: string
  request: DrRequest
  state: string
  status: 'active' | 'done' | 'error' | 'stopped'
  intervals: IntervalRecord[]
  answer: OptAnswer['decision'] | null
  failure: string | null
  updatedAtMs: number
}

interface PersistedEvent { input: DrEventInput, snapshot: unknown }

/** A live event's summary and input hold the same objects as its context: stored as references to them (contextParts.ts). */
const summaryParts: ReferringFields = { request: 'request', intervals: 'intervals', answer: 'decision' }
const inputParts: ReferringFields = { request: 'request' }

interface PendingEffect { eventId: string, effect: Effect }

export class AgentError extends Error {
  constructor (message: string, readonly code: 'not-ready' | 'duplicate' | 'unknown-event' | 'stale' = 'not-ready') {
    super(message)
    this.name = 'AgentError'
  }
}

type EventActor = Actor<typeof drEventMachine>

interface LiveEvent {
  actor: EventActor
  input: DrEventInput
  /** Tail of this event's persistence queue: resolves when every transition so far is stored and its effects sent. */
  queue: Promise<void>
  /** Transitions queued and not yet stored with their effects sent. */
  storing: number
}

/** States in which an event actor waits for a timer. */
const clockWaitStates = new Set(['declined', 'scheduled.waitingStart', 'active.monitoring.waiting'])

/**
 * State keys by state value: whether the node is busy is asked of every live event at each turn of the event
 * loop, and a snapshot's value (never changed once made) stands until the next transition.
 */
const stateKeys = new WeakMap<object, string>()

function stateKeyOf (value: StateValue): string {
  if (typeof value === 'string') return value
  let key = stateKeys.get(value)
  if (key === undefined) stateKeys.set(value, key = stateKey(value))
  return key
}

export class Agent {
  readonly config: NodeConfig
  readonly store: Store
  readonly book: CustomerBook
  readonly ledger: ReservationLedger
  readonly scheduler: Scheduler
  /** The clustering and forecaster-training timers and their results. */
  readonly models: CustomerModels
  /** One session actor per customer (registration, reporting, lapsed, participation). */
  readonly sessions: CustomerSessions
  /** The setpoint rows of live events' plans, stored apart from their snapshots. */
  private readonly planRows: PlanRows
  /** The large context fields of live events, stored apart from their snapshots when they change. */
  private readonly contextParts: ContextParts
  readonly port: InterMatchmakingPort
  audit!: AuditTrail
  private readonly clock: Clock
  private readonly log: Logger
  private readonly customers: CustomerChannel
  private readonly upstream: UpstreamChannel
  private readonly pool: WorkerPool | undefined
  private readonly oneEventAtATime: boolean
  private readonly live = new Map<string, LiveEvent>()
  private readonly summaries = new Map<string, EventSummary>()
  private readonly waiters = new Map<string, (out: WaitUntilOutput) => void>()
  /** Waits whose timer is being stored, not yet armed. */
  private readonly arming = new Set<string>()
  private readonly peerAnswers = new Map<string, (answer: OptAnswer) => void>()
  private reliability: ReliabilityBook = {}
  private outboxSeq = 0
  private readonly lifecycle

  constructor (config: NodeConfig, components: AgentComponents) {
    this.config = config
    this.clock = components.clock
    this.log = components.logger ?? pino({ level: 'silent' })
    this.customers = components.customers
    this.upstream = components.upstream ?? noUpstream
    this.port = components.port ?? noPeers()
    this.pool = components.pool
    this.oneEventAtATime = components.oneEventAtATime ?? false
    this.store = new Store({ dataDir: config.dataDir })
    this.book = new CustomerBook(this.store)
    this.planRows = new PlanRows(this.store)
    this.contextParts = new ContextParts(this.store)
    const baseline = this.book.expectedKw
    this.book.expectedKw = (c, atMs) => this.setpointAt(c.venId, atMs) ?? baseline(c, atMs)
    this.scheduler = new Scheduler({}, { store: this.store, clock: this.clock, logger: this.log })
    this.models = new CustomerModels(
      { clusterEveryMs: config.clusterEveryMs, trainEveryMs: config.trainEveryMs, clusterK: config.clusterK },
      { store: this.store, clock: this.clock, book: this.book, scheduler: this.scheduler, logger: this.log, ...(this.pool === undefined ? {} : { pool: this.pool }) })
    this.sessions = new CustomerSessions({ graceMs: config.reportGraceMs }, { store: this.store, clock: this.clock, book: this.book, scheduler: this.scheduler, logger: this.log })
    this.book.dispatchable = venId => this.sessions.dispatchable(venId)
    const baselines = new WindowSeries<number[]>()
    this.book.windowBaseline = (c, window) => c.capabilities === null
      ? this.models.baselineFor(c, window, reportedBaseline(c, window))
      : baselines.get(c.capabilities, window, this.models.forecaster(c.venId), () => this.models.baselineFor(c, window, reportedBaseline(c, window)))
    const flexibility = new WindowSeries<FlexProfile>()
    this.ledger = new ReservationLedger({
      store: this.store,
      clock: this.clock,
      logger: this.log,
      // The ledger only reads what it is given.
      capabilities: (venId, window) => {
        const caps = this.book.get(venId)?.capabilities
        return caps == null ? undefined : flexibility.get(caps, window, undefined, () => ({ flexUpKw: onWindow(caps.flexUpKw, caps, window), flexDownKw: onWindow(caps.flexDownKw, caps, window) }))
      }
    })
    this.lifecycle = createActor(nodeMachine.provide({
      actors: {
        startServices: fromPromise(async () => { await this.startServices() }),
        drain: fromPromise(async () => { await this.drain() })
      }
    }), { input: { nodeId: config.nodeId } })
  }

  get state (): string { return stateKey(this.lifecycle.getSnapshot().value) }

  async start (): Promise<void> {
    this.lifecycle.start()
    const snap = await waitForLifecycle(this.lifecycle, ['ready', 'failed', 'stopped'])
    if (snap.value !== 'ready') throw new AgentError(`node failed to start: ${snap.context.failure ?? snap.value}`)
  }

  async stop (): Promise<void> {
    if (this.lifecycle.getSnapshot().status !== 'active') return
    this.lifecycle.send({ type: 'SHUTDOWN' })
    await waitForLifecycle(this.lifecycle, ['stopped', 'failed'])
  }

  private async startServices (): Promise<void> {
    await this.store.start()
    this.audit = new AuditTrail({ store: this.store, clock: this.clock, key: await loadOrCreateNodeKey(this.config.dataDir), logger: this.log })
    await this.ledger.start()
    await this.book.start()
    await this.customers.recover?.()
    this.reliability = (await this.store.table<ReliabilityBook>('meta').get('reliability')) ?? {}
    for (const s of await this.store.table<EventSummary>('events').values()) this.summaries.set(s.eventId, await this.contextParts.resolve(s.eventId, s, summaryParts))
    await this.sendStoredEffects()
    const snapshots = this.store.table<PersistedEvent>('snapshots')
    for (const [key, persisted] of await snapshots.entries({ gte: 'event:', lt: 'event:\uffff' })) {
      const summary = this.summaries.get(key.slice('event:'.length))
      if (summary?.status !== 'active') continue
      const whole = await this.contextParts.restore(summary.eventId, persisted.snapshot)
      const snapshot = restoredEvent(await this.planRows.restore(summary.eventId, whole))
      this.spawn(await this.contextParts.resolve(summary.eventId, persisted.input, inputParts), snapshot as SnapshotFrom<typeof drEventMachine>, summary.state)
    }
    this.scheduler.on('dr-wait', async fire => {
      const resolve = this.waiters.get(fire.id)
      this.waiters.delete(fire.id)
      resolve?.({ firedAtMs: fire.firedAtMs })
      if (this.oneEventAtATime) await this.untilWaiting((fire.payload as { eventId: string }).eventId)
    })
    this.port.onCoverRequest(async (request, from) => await this.coverRequested(request, from))
    await this.models.start()
    await this.sessions.start()
    await this.scheduler.start()
    await this.models.arm()
    this.log.info({ nodeId: this.config.nodeId, restored: this.live.size }, 'node ready')
  }

  private async drain (): Promise<void> {
    await this.scheduler.stop()
    await Promise.allSettled([...this.live.values()].map(async e => await e.queue))
    for (const e of this.live.values()) e.actor.stop()
    await Promise.allSettled([...this.live.values()].map(async e => await e.queue))
    this.live.clear()
    await this.sessions.stop()
    await this.audit?.stop()
    await this.ledger.stop()
    await this.store.stop()
    this.log.info({ nodeId: this.config.nodeId }, 'node stopped')
  }

  private ensureReady (): void {
    if (!this.lifecycle.getSnapshot().matches('ready')) throw new AgentError(`node is ${this.state}, not ready`)
  }

  /** A new DR request, or a modification of a live one (higher modificationNumber). */
  async submit (request: DrRequest): Promise<EventSummary> {
    this.ensureReady()
    const live = this.live.get(request.eventId)
    if (live !== undefined) {
      if (request.modificationNumber <= live.actor.getSnapshot().context.request.modificationNumber) {
        throw new AgentError(`event ${request.eventId}: modificationNumber ${request.modificationNumber} is not newer`, 'stale')
      }
      live.actor.send({ type: 'MODIFY', request })
      await this.settled(request.eventId)
      return this.summaries.get(request.eventId) as EventSummary
    }
    if (this.summaries.has(request.eventId)) throw new AgentError(`event ${request.eventId} already ran`, 'duplicate')
    this.spawn({
      request,
      toleranceKw: this.config.toleranceKw,
      checksPerInterval: this.config.checksPerInterval
    })
    await this.settled(request.eventId)
    return this.summaries.get(request.eventId) as EventSummary
  }

  async cancel (eventId: string): Promise<EventSummary> {
    this.ensureReady()
    const live = this.live.get(eventId)
    if (live === undefined) throw new AgentError(`no live event ${eventId}`, 'unknown-event')
    live.actor.send({ type: 'CANCEL' })
    await this.settled(eventId)
    return this.summaries.get(eventId) as EventSummary
  }

  customerOptedOut (eventId: string, venId: string): void {
    this.live.get(eventId)?.actor.send({ type: 'CUSTOMER_OPTED_OUT', venId })
  }

  events (): EventSummary[] { return [...this.summaries.values()] }
  event (eventId: string): EventSummary | undefined { return this.summaries.get(eventId) }
  liveEventIds (): string[] { return [...this.live.keys()] }

  /**
   * What the node can still offer fellows over a window: the free flexibility of its customers in the market
   * context that no live event has dispatched (a customer serves one event at a time) and that may cover.
   */
  async spareFlexibility (window: LedgerWindow & { marketContext: string }): Promise<FlexProfile> {
    const busy = this.dispatchedExcept()
    const ids = this.book.inMarket(window.marketContext).map(c => c.venId).filter(v => !busy.has(v) && this.mayCover(v))
    return await this.ledger.availableTotal(ids, window)
  }

  /**
   * Whether a customer may take on a fellow's cover: it reported within two poll periods (a customer that went
   * silent during an event would deliver nothing; one that never reported yet is not judged).
   */
  private mayCover (venId: string): boolean {
    const now = this.clock.now()
    return this.book.readings(venId, now - 2 * this.config.customerPollMs, now).length > 0 || this.book.lastReadingMs(venId) === undefined
  }

  /**
   * What this node is doing that will finish without the clock moving, by event: an actor mid-work (its
   * state), transitions being stored or their effects sent, a wait timer being stored. Empty while every
   * live event waits for the clock (a timer, or customers' answers, which come when they next poll); a
   * virtual clock (src/sim) moves on only then.
   */
  busy (): string[] {
    return [...this.live.keys()].flatMap(eventId => this.eventBusy(eventId) ?? [])
  }

  private eventBusy (eventId: string): string | undefined {
    const e = this.live.get(eventId)
    if (e === undefined) return undefined
    const state = stateKeyOf(e.actor.getSnapshot().value)
    if (e.storing > 0) return `event ${eventId} (${state}, storing ${e.storing} transition(s))`
    if (!clockWaitStates.has(state) && this.customers.awaitingAnswers?.(eventId) !== true) return `event ${eventId} (${state})`
    if (this.arming.size === 0) return undefined
    const waitIds = `dr-wait:${eventId}:`
    for (const id of this.arming) if (id.startsWith(waitIds)) return `event ${eventId} (arming its wait)`
    return undefined
  }

  /** Resolves once the event waits for the clock again (or is over), looking at each turn of the event loop. */
  private async untilWaiting (eventId: string): Promise<void> {
    do await new Promise<void>(resolve => setImmediate(resolve))
    while (this.eventBusy(eventId) !== undefined)
  }
  reliabilityBook (): ReliabilityBook { return this.reliability }

  /** Applies `update` to the reliability book and stores it: how a fellow node's cover outcome is rated. */
  async updateReliability (update: (book: ReliabilityBook) => ReliabilityBook): Promise<ReliabilityBook> {
    const book = update(this.reliability)
    this.reliability = book
    await this.store.table<ReliabilityBook>('meta').put('reliability', book)
    return book
  }
  clockNow (): number { return this.clock.now() }

  /** What the live events dispatched the customer to draw at `atMs`: one event's setpoint plus the others' changes. */
  private setpointAt (venId: string, atMs: number): number | undefined {
    for (const [eventId, { actor }] of this.live) {
      const ctx = actor.getSnapshot().context
      const t = Math.floor((atMs - ctx.request.startMs) / ctx.request.intervalMs)
      const setpoint = ctx.plan?.setpointsKw[venId]?.[t]
      if (t >= 0 && setpoint !== undefined) return setpoint + (this.changesAt(atMs, eventId).get(venId) ?? 0)
    }
    return undefined
  }

  /** Per customer, the change (setpoint − baseline) the live events other than `exceptEventId` dispatched at `atMs`. */
  private changesAt (atMs: number, exceptEventId?: string): Map<string, number> {
    const changes = new Map<string, number>()
    for (const [eventId, { actor }] of this.live) {
      if (eventId === exceptEventId) continue
      const { request, plan } = actor.getSnapshot().context
      const t = Math.floor((atMs - request.startMs) / request.intervalMs)
      if (plan === null || t < 0 || t >= request.amountsKw.length) continue
      for (const [venId, row] of Object.entries(plan.setpointsKw)) {
        const c = this.book.get(venId)
        const setpoint = row[t]
        if (c == null || setpoint === undefined) continue
        const base = this.book.windowBaseline(c, windowOf(request))[t] ?? 0
        changes.set(venId, (changes.get(venId) ?? 0) + setpoint - base)
      }
    }
    return changes
  }

  /** Per customer, when the live events other than `exceptEventId` last changed its setpoints. */
  private revisionsExcept (exceptEventId: string): Map<string, number> {
    const out = new Map<string, number>()
    for (const [eventId, { actor }] of this.live) {
      if (eventId === exceptEventId) continue
      for (const [venId, at] of Object.entries(actor.getSnapshot().context.plan?.revisedAtMs ?? {})) out.set(venId, Math.max(at, out.get(venId) ?? -Infinity))
    }
    return out
  }

  /** Customers the live events (other than `exceptEventId`) dispatched. */
  private dispatchedExcept (exceptEventId?: string): Set<string> {
    const out = new Set<string>()
    for (const [eventId, { actor }] of this.live) {
      if (eventId !== exceptEventId) for (const venId of Object.keys(actor.getSnapshot().context.plan?.setpointsKw ?? {})) out.add(venId)
    }
    return out
  }

  /** Σ baseline of the customers in the request's market context, per interval (kW). */
  aggregateBaseline (request: DrRequest): number[] {
    const window = windowOf(request)
    const total = new Array<number>(window.intervals).fill(0)
    for (const c of this.book.inMarket(request.marketContext)) {
      if (c.capabilities === null) continue
      this.book.windowBaseline(c, window).forEach((b, t) => { total[t] = (total[t] ?? 0) + b })
    }
    return total
  }

  /** Resolves once every transition of the event so far is stored and its effects sent. */
  async settled (eventId: string): Promise<void> {
    for (;;) {
      const live = this.live.get(eventId)
      if (live === undefined) return
      const tail = live.queue
      await tail
      await new Promise<void>(resolve => setImmediate(resolve))
      if (this.live.get(eventId)?.queue === tail) return
    }
  }

  /** The outbox lives in table `meta` under `outbox:` keys. */
  private get outbox () { return this.store.table<PendingEffect>('meta') }

  /** Effects stored with their transition and not known to be sent (a crash, or a failed send): send them now. */
  private async sendStoredEffects (): Promise<void> {
    for (const [key, pending] of await this.outbox.entries({ gte: 'outbox:', lt: 'outbox:\uffff' })) {
      // Kept entries keep their keys: new ones are numbered after them.
      this.outboxSeq = Math.max(this.outboxSeq, Number(key.slice(key.lastIndexOf('\0') + 1)) + 1)
      try {
        await runEffect(pending.effect, this.upstream, () => {})
        await this.outbox.del(key)
      } catch (err) {
        this.log.warn({ err, eventId: pending.eventId, effect: pending.effect.kind }, 'stored effect failed again; kept for the next start')
      }
    }
  }

  private decisions (): DecisionComponents {
    const pool = this.pool
    return {
      book: this.book, ledger: this.ledger, port: this.port, clock: this.clock, config: this.config, reliability: () => this.reliability,
      clusterOf: venId => this.models.clusterOf(venId),
      mayCover: venId => this.mayCover(venId),
      ...(pool === undefined ? {} : { solve: async (problem: DispatchProblem) => await pool.run<SolvedDispatch>('dispatch', problem) })
    }
  }

  private spawn (input: DrEventInput, snapshot?: SnapshotFrom<typeof drEventMachine>, fromState = '(none)'): void {
    const eventId = input.request.eventId
    const records: TransitionRecord[] = []
    const outbox: Effect[] = []
    const implementations = eventImplementations({
      eventId,
      decisions: this.decisions(),
      customers: this.customers,
      outbox,
      afterPersist: async () => { await Promise.resolve(); await this.live.get(eventId)?.queue },
      waitUntil: async (wait, signal) => await this.waitUntil(eventId, wait, signal),
      upstream: this.upstream,
      peerAnswered: answer => { this.answerPeer(answer) },
      aggregateBaseline: request => this.aggregateBaseline(request),
      othersChangeKw: atMs => this.changesAt(atMs, eventId),
      othersRevisedAtMs: () => this.revisionsExcept(eventId),
      othersDispatched: () => this.dispatchedExcept(eventId),
      interCoveredKw: index => this.live.get(eventId)?.actor.getSnapshot().context.intervals[index]?.interCoveredKw ?? 0,
      reliabilityUpdated: async (book) => {
        this.reliability = book
        await this.store.table<ReliabilityBook>('meta').put('reliability', book)
      }
    })
    const actor = createActor(drEventMachine.provide(implementations), {
      input,
      ...(snapshot !== undefined ? { snapshot } : {}),
      inspect: transitionRecorder(r => records.push(r), fromState)
    })
    const entry: LiveEvent = { actor, input, queue: Promise.resolve(), storing: 0 }
    this.live.set(eventId, entry)
    let dispatched: string[] = []
    // The plan before each transition: the audit records a decision that replaces it as the change (auditDecision.ts).
    let plan = snapshot?.context.plan ?? null
    actor.subscribe({
      next: snap => {
        const planBefore = plan
        plan = snap.context.plan ?? null
        const now = snap.status === 'active' ? Object.keys(snap.context.plan?.setpointsKw ?? {}) : []
        this.sessions.eventDispatches(eventId, now, dispatched)
        dispatched = now
        const taken = records.splice(0)
        const effects = outbox.splice(0)
        const persisted = persistedEvent(snap)
        const summary = this.summarise(input, snap)
        entry.storing++
        entry.queue = entry.queue.then(async () => await this.persist(eventId, input, persisted, summary, taken, effects, planBefore))
          .catch(err => { this.log.error({ err, eventId }, 'persisting an event transition failed') })
          .finally(() => { entry.storing-- })
        if (snap.status !== 'active') {
          void entry.queue.then(() => { if (this.live.get(eventId) === entry) this.live.delete(eventId) })
        }
      },
      error: err => { this.log.error({ err, eventId }, 'event actor failed') }
    })
    actor.start()
  }

  private answerPeer (answer: OptAnswer): void {
    const requestId = answer.peer?.requestId
    if (requestId === undefined) return
    this.peerAnswers.get(requestId)?.(answer)
    this.peerAnswers.delete(requestId)
  }

  private summarise (input: DrEventInput, snap: SnapshotFrom<typeof drEventMachine>): EventSummary {
    const ctx = snap.context
    return {
      eventId: ctx.request.eventId,
      request: ctx.request,
      state: stateKey(snap.value),
      status: snap.status,
      intervals: ctx.intervals,
      answer: ctx.decision,
      failure: ctx.failure === null ? null : `${ctx.failure.stage}: ${ctx.failure.message}`,
      updatedAtMs: this.clock.now()
    }
  }

  private async persist (eventId: string, input: DrEventInput, snapshot: unknown, summary: EventSummary,
    records: TransitionRecord[], effects: Effect[], planBefore: DispatchPlan | null): Promise<void> {
    const pending = effects.map(effect => ({ key: `outbox:${eventId}\0${String(this.outboxSeq++).padStart(12, '0')}`, effect }))
    const split = this.planRows.split(eventId, snapshot)
    const parts = this.contextParts.split(eventId, snapshot, split.snapshot)
    const ops: StoreOp[] = [
      this.store.table<PersistedEvent>('snapshots').putOp(`event:${eventId}`, { input: parts.refer(input, inputParts), snapshot: parts.snapshot }),
      ...split.ops,
      ...parts.ops,
      this.store.table<EventSummary>('events').putOp(eventId, parts.refer(summary, summaryParts)),
      ...pending.map(p => this.outbox.putOp(p.key, { eventId, effect: p.effect }))
    ]
    if (records.length === 0) await this.store.batch(ops)
    for (const [i, r] of records.entries()) {
      const output = (r.event as { output?: unknown }).output
      const decision = i > 0 ? null : auditDecision(output ?? eventDecision(r.event), planBefore)
      await this.audit.append(eventId, { event: r.event.type, stateBefore: r.from, stateAfter: r.to, decision }, i === records.length - 1 ? ops : [])
    }
    split.committed()
    parts.committed()
    this.summaries.set(eventId, summary)
    if (summary.status !== 'active') await this.ledger.release(holderOf(eventId))
    for (const { key, effect } of pending) {
      try {
        await runEffect(effect, this.upstream, answer => { this.answerPeer(answer) })
        await this.outbox.del(key)
      } catch (err) {
        this.log.warn({ err, eventId, effect: effect.kind }, 'effect failed; kept for the next start')
      }
    }
  }

  private async waitUntil (eventId: string, wait: WaitUntilInput, signal: AbortSignal): Promise<WaitUntilOutput> {
    // A wait already due goes through the scheduler too, not on at once: an event resumed by its customers'
    // answers would otherwise check in their turn of a virtual clock's instant (src/sim), racing the reports
    // they send then, and fire beside the node's other due events rather than one at a time.
    const id = `dr-wait:${eventId}:${wait.dueMs}`
    let resolve: (out: WaitUntilOutput) => void = () => {}
    const promise = new Promise<WaitUntilOutput>(r => { resolve = r })
    this.waiters.set(id, resolve)
    signal.addEventListener('abort', () => {
      this.waiters.delete(id)
      this.scheduler.cancel(id).catch(() => {})
    })
    this.arming.add(id)
    try {
      await this.scheduler.schedule({ id, kind: 'dr-wait', dueMs: wait.dueMs, payload: { eventId } })
    } finally {
      this.arming.delete(id)
    }
    return await promise
  }

  /** A fellow node's request: run it through the same chart; its first decision is the commitment. */
  private async coverRequested (request: CoverRequest, fromPeerId: string): Promise<Commitment> {
    const reject = (reason: string): Commitment => ({ requestId: request.requestId, peerId: this.config.nodeId, accepted: false, committedKw: request.amountsKw.map(() => 0), reason })
    if (!this.lifecycle.getSnapshot().matches('ready')) return reject('node not ready')
    if (request.deadlineMs <= this.clock.now()) return reject('deadline passed')
    if (request.path.includes(this.config.nodeId)) return reject('request already passed through this node')
    const eventId = `peer:${request.requestId}`
    const known = this.summaries.get(eventId)
    if (known !== undefined) {
      return known.answer === null ? reject('pending') : { requestId: request.requestId, peerId: this.config.nodeId, accepted: known.answer.accept, committedKw: known.answer.committedKw }
    }
    const answered = new Promise<OptAnswer>(resolve => this.peerAnswers.set(request.requestId, resolve))
    this.spawn({
      request: {
        eventId, modificationNumber: 0, origin: 'peer', marketContext: request.marketContext, startMs: request.startMs,
        intervalMs: request.intervalMs, amountsKw: request.amountsKw, signalType: request.signalType,
        peer: { requestId: request.requestId, fromPeerId, eventRef: request.eventRef, hopLimit: request.hopLimit, path: request.path }
      },
      toleranceKw: this.config.toleranceKw,
      checksPerInterval: this.config.checksPerInterval
    })
    const answer = await answered
    return { requestId: request.requestId, peerId: this.config.nodeId, accepted: answer.decision.accept, committedKw: answer.decision.committedKw, reason: answer.decision.reason }
  }
}

function eventDecision (event: { type: string }): unknown {
  if (event.type === 'MODIFY' && 'request' in event) return { request: event.request }
  if (event.type === 'CUSTOMER_OPTED_OUT' && 'venId' in event) return { venId: event.venId }
  return null
}

async function waitForLifecycle (actor: Actor<typeof nodeMachine>, states: string[]) {
  let resolve: (snap: SnapshotFrom<typeof nodeMachine>) => void = () => {}
  const promise = new Promise<SnapshotFrom<typeof nodeMachine>>(r => { resolve = r })
  const check = (snap: SnapshotFrom<typeof nodeMachine>): void => { if (states.includes(String(snap.value))) resolve(snap) }
  const sub = actor.subscribe(check)
  check(actor.getSnapshot())
  const snap = await promise
  sub.unsubscribe()
  return snap
}
