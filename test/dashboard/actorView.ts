/**
 * A `DashboardView` over real DR-event actors (the real chart, `createActor`) run with the statechart
 * harness's implementations on a ManualClock: the audit trail is what `transitionRecorder` reports, the
 * intervals are the actor's context. Used where no agent is needed to exercise the dashboard.
 */
import { createActor, type Actor } from 'xstate'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { stateKey, transitionRecorder } from '../../src/machines/transitions.js'
import type { DrRequest } from '../../src/machines/drEventTypes.js'
import type { AuditEntryView, CustomerView, DashboardChange, DashboardView, EventDetail, EventOverview, PeerView } from '../../src/dashboard/view.js'
import { community, ManualTimers, World, type Customer } from '../machines/harness.js'

interface Running { actor: Actor<typeof drEventMachine>, audit: AuditEntryView[], updatedAtMs: number }

export class ActorView implements DashboardView {
  readonly nodeId = 'node-test'
  readonly timers: ManualTimers
  readonly world: World
  readonly harness: ReturnType<typeof community>
  private readonly running = new Map<string, Running>()
  private readonly listeners = new Set<(change: DashboardChange) => void>()

  constructor (customers: Customer[], startMs: number, peerCapacityKw = 0) {
    this.timers = new ManualTimers(startMs)
    this.world = new World(customers)
    this.harness = community(this.world, this.timers, { peerCapacityKw })
  }

  start (request: DrRequest, checksPerInterval = 2): void {
    const audit: AuditEntryView[] = []
    const entry: Running = { actor: undefined as unknown as Running['actor'], audit, updatedAtMs: this.timers.clock.now() }
    const inspect = transitionRecorder(r => {
      const output = (r.event as { output?: unknown }).output
      audit.push({ seq: audit.length + 1, timeMs: this.timers.clock.now(), event: r.event.type, stateBefore: r.from, stateAfter: r.to, decision: output ?? null })
    })
    entry.actor = createActor(drEventMachine.provide(this.harness.implementations), { input: { request, checksPerInterval, toleranceKw: 0.5 }, inspect })
    this.running.set(request.eventId, entry)
    entry.actor.subscribe(() => {
      entry.updatedAtMs = this.timers.clock.now()
      for (const l of this.listeners) l({ kind: 'event', eventId: request.eventId })
    })
    entry.actor.start()
  }

  private overview (r: Running): EventOverview {
    const snap = r.actor.getSnapshot()
    const { request, intervals, failure } = snap.context
    const baselineKw = this.world.customers.reduce((s, c) => s + c.baselineKw, 0)
    return {
      eventId: request.eventId,
      state: stateKey(snap.value),
      status: snap.status,
      origin: request.origin,
      marketContext: request.marketContext,
      startMs: request.startMs,
      intervalMs: request.intervalMs,
      signalType: request.signalType,
      intervals: intervals.map(i => ({ ...i, startMs: request.startMs + i.index * request.intervalMs, requestedKw: (request.signalType === 'delta' ? baselineKw : 0) + i.requestedKw })),
      failure: failure === null ? null : `${failure.stage}: ${failure.message}`,
      updatedAtMs: r.updatedAtMs
    }
  }

  async events (): Promise<EventOverview[]> { return [...this.running.values()].map(r => this.overview(r)) }

  async event (eventId: string): Promise<EventDetail | undefined> {
    const r = this.running.get(eventId)
    if (r === undefined) return undefined
    const ctx = r.actor.getSnapshot().context
    const peers = this.harness.calls.inter.length > 0 && (ctx.intervals.some(i => i.interCoveredKw !== 0)) ? ['peer-1'] : []
    return { ...this.overview(r), audit: [...r.audit], customers: Object.keys(ctx.plan?.setpointsKw ?? {}), peers }
  }

  async auditLines (eventId: string): Promise<string[] | undefined> {
    return this.running.get(eventId)?.audit.map(a => JSON.stringify(a))
  }

  async customers (): Promise<CustomerView[]> {
    return this.world.customers.map((c, i) => ({
      venId: c.venId, venName: c.venId.toUpperCase(), marketContexts: ['http://market.example/ctx'], cluster: `k${i % 2}`,
      reliability: { mean: 0.9, low: 0.8, high: 0.96 }, lastReports: [{ atMs: this.timers.clock.now() - 30_000, kw: c.baselineKw }]
    }))
  }

  async peers (): Promise<PeerView[]> {
    return [{ peerId: 'peer-1', flexUpKw: [2, 2], flexDownKw: [3, 3], reliability: { mean: 0.7, low: 0.5, high: 0.85 }, lastSeenMs: this.timers.clock.now() }]
  }

  subscribe (listener: (change: DashboardChange) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  stop (): void {
    for (const r of this.running.values()) r.actor.stop()
  }
}
