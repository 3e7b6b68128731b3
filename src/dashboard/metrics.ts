/**
 * The node's Prometheus metrics (prom-client, one registry per node so several nodes can share a process):
 * events by state, deviations, matchmaking actions by kind and outcome, customers' report lag, peers, HTTP
 * latency of the dashboard and API. Everything but HTTP latency is read from the `DashboardView` at scrape
 * time: deviations and matchmaking actions are counted from the audit trail of each event that changed since
 * the last scrape, so the agent needs no metric calls of its own and a restored node counts what it replays.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Clock } from '../util/clock.js'
import type { AuditEntryView, DashboardView } from './view.js'

export interface DashboardMetricsComponents {
  view: DashboardView
  clock: Clock
}

interface TrailCursor { seq: number, updatedAtMs: number, lastDeviationKw: number | null, interFailed: boolean }

const doneIntra = /^xstate\.done\.actor\..*\.active\.intra$/
const errorInter = /^xstate\.error\.actor\..*\.active\.inter$/

export class DashboardMetrics {
  readonly registry = new Registry()
  readonly contentType = this.registry.contentType
  private readonly view: DashboardView
  private readonly clock: Clock
  private readonly cursors = new Map<string, TrailCursor>()
  private readonly deviations: Counter<'direction'>
  private readonly matchmaking: Counter<'kind' | 'outcome'>
  private readonly http: Histogram<'route' | 'method' | 'status'>
  private refreshing: Promise<void> | null = null

  constructor (components: DashboardMetricsComponents) {
    this.view = components.view
    this.clock = components.clock
    const registers = [this.registry]
    const refresh = async (): Promise<void> => { await this.refresh() }
    this.deviations = new Counter({
      name: 'adrmesh_deviations_total',
      help: 'Monitoring checkpoints that violated an invariant, by direction of the aggregate deviation: shortage (flow above the request), excess (below), customer (aggregate within tolerance, a customer off its setpoint)',
      labelNames: ['direction'],
      registers,
      collect: refresh
    })
    this.matchmaking = new Counter({
      name: 'adrmesh_matchmaking_actions_total',
      help: 'Matchmaking actions by kind (intra, inter) and outcome (covered, residual, shortfall, error)',
      labelNames: ['kind', 'outcome'],
      registers,
      collect: refresh
    })
    const view = this.view
    const clock = this.clock
    new Gauge({
      name: 'adrmesh_events',
      help: 'DR events known to the node, by statechart state',
      labelNames: ['state'],
      registers,
      async collect () {
        this.reset()
        for (const e of await view.events()) this.inc({ state: e.state })
      }
    })
    new Gauge({
      name: 'adrmesh_peers',
      help: 'Fellow nodes known on the mesh',
      registers,
      async collect () { this.set((await view.peers()).length) }
    })
    new Histogram({
      name: 'adrmesh_report_lag_seconds',
      help: "Age of each customer's newest report at scrape time",
      buckets: [1, 5, 15, 60, 300, 900, 3600, 86_400],
      registers,
      async collect () {
        this.reset()
        const now = clock.now()
        for (const c of await view.customers()) {
          const last = c.lastReports[c.lastReports.length - 1]
          if (last !== undefined) this.observe(Math.max(0, now - last.atMs) / 1000)
        }
      }
    })
    this.http = new Histogram({
      name: 'adrmesh_http_request_duration_seconds',
      help: 'Latency of the HTTP requests the dashboard served, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers
    })
  }

  observeHttp (route: string, method: string, status: number, seconds: number): void {
    this.http.observe({ route, method, status: String(status) }, seconds)
  }

  async metrics (): Promise<string> {
    return await this.registry.metrics()
  }

  /** One walk of the changed trails per scrape, shared by the counters that need it. */
  private async refresh (): Promise<void> {
    this.refreshing ??= this.walkTrails().finally(() => { this.refreshing = null })
    await this.refreshing
  }

  private async walkTrails (): Promise<void> {
    for (const e of await this.view.events()) {
      const cursor = this.cursors.get(e.eventId) ?? { seq: 0, updatedAtMs: -Infinity, lastDeviationKw: null, interFailed: false }
      if (e.updatedAtMs === cursor.updatedAtMs) continue
      const detail = await this.view.event(e.eventId)
      if (detail === undefined) continue
      for (const entry of detail.audit) {
        if (entry.seq <= cursor.seq) continue
        this.count(entry, cursor)
        cursor.seq = entry.seq
      }
      cursor.updatedAtMs = e.updatedAtMs
      this.cursors.set(e.eventId, cursor)
    }
  }

  /** Reads the DR-event chart's decisions off its transitions (state names of src/machines/drEvent.ts). */
  private count (entry: AuditEntryView, cursor: TrailCursor): void {
    const decision = entry.decision as { aggregateKw?: unknown, requestedKw?: unknown } | null
    if (entry.stateAfter === 'active.monitoring.measured' && typeof decision?.aggregateKw === 'number' && typeof decision.requestedKw === 'number') {
      cursor.lastDeviationKw = decision.aggregateKw - decision.requestedKw
    }
    if (entry.stateAfter === 'active.intra') {
      const d = cursor.lastDeviationKw
      this.deviations.inc({ direction: d === null || d === 0 ? 'customer' : d > 0 ? 'shortage' : 'excess' })
    }
    if (entry.stateBefore === 'active.intra' && doneIntra.test(entry.event) === false && entry.stateAfter === 'failed') {
      this.matchmaking.inc({ kind: 'intra', outcome: 'error' })
    }
    if (entry.stateBefore === 'active.intraDone') {
      this.matchmaking.inc({ kind: 'intra', outcome: entry.stateAfter === 'active.checkpointDone' ? 'covered' : 'residual' })
    }
    if (entry.stateBefore === 'active.inter') cursor.interFailed = errorInter.test(entry.event)
    if (entry.stateBefore === 'active.interDone') {
      const outcome = cursor.interFailed ? 'error' : entry.stateAfter === 'active.checkpointDone' ? 'covered' : 'shortfall'
      this.matchmaking.inc({ kind: 'inter', outcome })
    }
  }
}
