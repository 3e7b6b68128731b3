/**
 * The `DashboardView` of a running agent (src/node/agent.ts), read through its public surface: event
 * summaries, audit trail, customer book, reliability book and the mesh port's advertised offers. Customers
 * and peers involved in an event are read off its audit trail (the plans, intra results, peer offers and
 * inter results the chart recorded). The agent has no change notification yet, so changes are found by
 * polling its summaries (each transition stores a new summary object) while someone is subscribed.
 */
import type { Agent, EventSummary } from '../node/agent.js'
import { reliabilityOf, type ReliabilityBook } from '../actors/reliability.js'
import type { AuditEntryView, CustomerView, DashboardChange, DashboardView, EventDetail, EventOverview, PeerView, ReliabilityView } from './view.js'

export interface AgentViewInit {
  /** How often (real ms) the summaries are checked for changes while someone is subscribed. @default 100 */
  pollMs?: number
  /** Readings listed per customer. @default 5 */
  lastReports?: number
}

export class AgentDashboardView implements DashboardView {
  readonly nodeId: string
  private readonly pollMs: number
  private readonly lastReports: number
  private readonly listeners = new Set<(change: DashboardChange) => void>()
  private readonly seen = new Map<string, EventSummary>()
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly agent: Agent, init: AgentViewInit = {}) {
    this.nodeId = agent.config.nodeId
    this.pollMs = init.pollMs ?? 100
    this.lastReports = init.lastReports ?? 5
  }

  async events (): Promise<EventOverview[]> {
    return this.agent.events().map(s => this.overview(s))
  }

  async event (eventId: string): Promise<EventDetail | undefined> {
    const summary = this.agent.event(eventId)
    if (summary === undefined) return undefined
    const audit: AuditEntryView[] = (await this.agent.audit.entries(eventId)).map(e => ({
      seq: e.seq, timeMs: e.timeMs, event: e.event, stateBefore: e.stateBefore, stateAfter: e.stateAfter, decision: e.decision
    }))
    return { ...this.overview(summary), audit, ...involvedIn(audit) }
  }

  async auditLines (eventId: string): Promise<string[] | undefined> {
    if (this.agent.event(eventId) === undefined) return undefined
    return await this.agent.audit.export(eventId)
  }

  async customers (): Promise<CustomerView[]> {
    const book = this.agent.reliabilityBook()
    return this.agent.book.all().map(c => ({
      venId: c.venId,
      venName: c.venName,
      marketContexts: c.marketContexts,
      cluster: clusterLabel(this.agent.models.clusterOf(c.venId)),
      reliability: reliabilityView(book, c.venId, c.marketContexts[0]),
      lastReports: this.agent.book.readings(c.venId, -Infinity, Infinity).slice(-this.lastReports).map(r => ({ atMs: r.atMs, kw: r.kw }))
    }))
  }

  async peers (): Promise<PeerView[]> {
    const now = this.agent.clockNow()
    const contexts = [...new Set(this.agent.book.all().flatMap(c => c.marketContexts))]
    const book = this.agent.reliabilityBook()
    const byPeer = new Map<string, PeerView>()
    for (const context of contexts) {
      for (const offer of this.agent.port.advertisedOffers(context, now)) {
        if (byPeer.has(offer.peerId)) continue
        byPeer.set(offer.peerId, { peerId: offer.peerId, flexUpKw: offer.flexUpKw, flexDownKw: offer.flexDownKw, reliability: reliabilityView(book, offer.peerId, context), lastSeenMs: null })
      }
    }
    return [...byPeer.values()]
  }

  subscribe (listener: (change: DashboardChange) => void): () => void {
    this.listeners.add(listener)
    if (this.timer === null) {
      for (const s of this.agent.events()) this.seen.set(s.eventId, s)
      this.timer = setInterval(() => { this.poll() }, this.pollMs)
      this.timer.unref()
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0 && this.timer !== null) {
        clearInterval(this.timer)
        this.timer = null
      }
    }
  }

  private poll (): void {
    for (const s of this.agent.events()) {
      if (this.seen.get(s.eventId) === s) continue
      this.seen.set(s.eventId, s)
      for (const l of this.listeners) l({ kind: 'event', eventId: s.eventId })
    }
  }

  private overview (s: EventSummary): EventOverview {
    const r = s.request
    const baselineKw = r.signalType === 'delta' ? this.agent.aggregateBaseline(r) : []
    return {
      eventId: s.eventId,
      state: s.state,
      status: s.status,
      origin: r.origin,
      marketContext: r.marketContext,
      startMs: r.startMs,
      intervalMs: r.intervalMs,
      signalType: r.signalType,
      intervals: s.intervals.map(i => ({
        ...i,
        startMs: r.startMs + i.index * r.intervalMs,
        requestedKw: (baselineKw[i.index] ?? 0) + i.requestedKw
      })),
      failure: s.failure,
      updatedAtMs: s.updatedAtMs
    }
  }
}

function reliabilityView (book: ReliabilityBook, subjectId: string, marketContext: string | undefined): ReliabilityView | null {
  if (book[subjectId] === undefined) return null
  const r = reliabilityOf(book, subjectId, marketContext ?? '*')
  return { mean: r.r, low: r.lower, high: r.upper }
}

/** Customers with setpoints in any plan the trail recorded; peers that offered, were asked or committed. */
function involvedIn (audit: AuditEntryView[]): { customers: string[], peers: string[] } {
  const customers = new Set<string>()
  const peers = new Set<string>()
  for (const a of audit) {
    const d = a.decision as Record<string, unknown> | unknown[] | null
    if (d === null || typeof d !== 'object') continue
    if (Array.isArray(d)) {
      for (const offer of d) if (typeof (offer as { peerId?: unknown })?.peerId === 'string') peers.add((offer as { peerId: string }).peerId)
      continue
    }
    // A plan, a decision carrying one, or the change an intra decision made to it (node/auditDecision.ts).
    const plan = (d.plan ?? d.planChange ?? d) as { setpointsKw?: unknown }
    if (plan.setpointsKw !== null && typeof plan.setpointsKw === 'object') for (const v of Object.keys(plan.setpointsKw)) customers.add(v)
    if (Array.isArray(d.peersAsked)) for (const p of d.peersAsked) if (typeof p === 'string') peers.add(p)
  }
  return { customers: [...customers].sort(), peers: [...peers].sort() }
}

/** The node numbers clusters from 0; people read "cluster 1" for the first. */
function clusterLabel (cluster: number | undefined): string | null {
  return cluster === undefined ? null : `cluster ${cluster + 1}`
}
