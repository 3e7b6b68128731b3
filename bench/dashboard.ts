/**
 * `npm run bench -- dashboard [--json]`: the dashboard's costs. ELK layout of the DR-event chart (cold, the
 * first in a process, and warm); rendering an event page and its live-update fragments for an event of
 * 4 and 96 intervals (4 checkpoints each, a deviation and intra matchmaking at every checkpoint: the
 * longest trail the chart writes); and a /metrics scrape over 1,000 finished events, first (every trail
 * walked) and again (nothing changed). Medians of 7 after a warm-up.
 */
import { drEventMachine } from '../src/machines/drEvent.js'
import { machineGraph } from '../src/dashboard/machineGraph.js'
import { layoutChart } from '../src/dashboard/layout.js'
import { eventFragments, eventPage } from '../src/dashboard/pages.js'
import { DashboardMetrics } from '../src/dashboard/metrics.js'
import type { AuditEntryView, DashboardView, EventDetail } from '../src/dashboard/view.js'
import { ManualClock } from '../src/util/clock.js'

const T0 = Date.UTC(2026, 0, 1, 12)
const INTERVAL_MS = 900_000

/** The trail of an event whose every checkpoint deviates and is covered by intra matchmaking. */
function syntheticEvent (eventId: string, intervals: number): EventDetail {
  const audit: AuditEntryView[] = []
  let t = T0
  const step = (event: string, stateBefore: string, stateAfter: string, decision: unknown = null): void => {
    audit.push({ seq: audit.length + 1, timeMs: t, event, stateBefore, stateAfter, decision })
  }
  const done = (state: string): string => `xstate.done.actor.0.drEvent.${state}`
  step('xstate.init', '(none)', 'deciding')
  step(done('deciding'), 'deciding', 'scheduled.preparing', { accept: true, committedKw: Array(intervals).fill(-5) })
  step(done('deciding'), 'scheduled.preparing', 'scheduled.planning')
  step(done('scheduled.planning'), 'scheduled.planning', 'scheduled.notifying', { setpointsKw: { c1: Array(intervals).fill(5) }, uncoveredKw: Array(intervals).fill(0) })
  step(done('scheduled.notifying'), 'scheduled.notifying', 'scheduled.waitingStart', { optedOut: [] })
  step(done('scheduled.waitingStart'), 'scheduled.waitingStart', 'active.monitoring.waiting')
  for (let i = 0; i < intervals * 4; i++) {
    t += INTERVAL_MS / 4
    step(done('active.monitoring.waiting'), 'active.monitoring.waiting', 'active.monitoring.measuring')
    step(done('active.monitoring.measuring'), 'active.monitoring.measuring', 'active.monitoring.measured', { intervalIndex: i >> 2, aggregateKw: 32, requestedKw: 30, customerDeviationsKw: { c1: 2 }, missing: [] })
    step(done('active.monitoring.measuring'), 'active.monitoring.measured', 'active.intra')
    step(done('active.intra'), 'active.intra', 'active.intraDone', { coveredKw: Array(intervals).fill(2), residualKw: Array(intervals).fill(0), chosen: ['c2'] })
    step(done('active.intra'), 'active.intraDone', 'active.checkpointDone')
    step(done('active.intra'), 'active.checkpointDone', i === intervals * 4 - 1 ? 'completing.updatingReliabilities' : 'active.monitoring.waiting')
  }
  step(done('completing.updatingReliabilities'), 'completing.updatingReliabilities', 'completing.reporting')
  step(done('completing.reporting'), 'completing.reporting', 'completed')
  return {
    eventId, state: 'completed', status: 'done', origin: 'upstream', marketContext: 'http://market.example/ctx', startMs: T0, intervalMs: INTERVAL_MS, signalType: 'delta',
    intervals: Array.from({ length: intervals }, (_, index) => ({ index, startMs: T0 + index * INTERVAL_MS, requestedKw: 30, deliveredKw: 30.2, intraCoveredKw: 2, interCoveredKw: 0, shortfallKw: 0 })),
    failure: null, updatedAtMs: t, audit, customers: ['c1', 'c2'], peers: []
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

async function timed (runs: number, f: () => unknown): Promise<number> {
  await f()
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    await f()
    times.push(performance.now() - t0)
  }
  return median(times)
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const report = (name: string, ms: number, extra: Record<string, number | string> = {}, note = ''): void => {
    if (json) console.log(JSON.stringify({ case: name, ms: Number(ms.toFixed(3)), ...extra }))
    else console.log(`${name.padEnd(26)} ${ms.toFixed(2).padStart(9)} ms  ${Object.entries(extra).map(([k, v]) => `${k} ${v}`).join('  ')}${note}`)
  }
  const graph = machineGraph(drEventMachine)
  let t0 = performance.now()
  const layout = await layoutChart(graph)
  report('layout-cold', performance.now() - t0, { states: graph.states.length, edges: layout.transitions.length }, '  (first ELK layout in the process)')
  const warm = await timed(7, async () => await layoutChart(graph))
  report('layout-warm', warm, { states: graph.states.length })

  for (const intervals of [4, 96]) {
    const e = syntheticEvent(`ev-${intervals}`, intervals)
    const page = await timed(7, () => eventPage('node', graph, layout, e, '/stream'))
    const fragments = await timed(7, () => JSON.stringify(eventFragments(graph, e)))
    const bytes = Buffer.byteLength(eventPage('node', graph, layout, e, '/stream'))
    report(`event-page-${intervals}-intervals`, page, { auditEntries: e.audit.length, kB: Math.round(bytes / 1024) })
    report(`live-update-${intervals}-intervals`, fragments, { auditEntries: e.audit.length, 'ratio to page': (fragments / page).toFixed(2) })
  }

  const events = Array.from({ length: 1_000 }, (_, i) => syntheticEvent(`ev-${i}`, 4))
  const byId = new Map(events.map(e => [e.eventId, e]))
  const view: DashboardView = {
    nodeId: 'node',
    events: async () => events,
    event: async id => byId.get(id),
    auditLines: async () => [],
    customers: async () => [],
    peers: async () => [],
    subscribe: () => () => {}
  }
  const metrics = new DashboardMetrics({ view, clock: new ManualClock(T0) })
  t0 = performance.now()
  const text = await metrics.metrics()
  const first = performance.now() - t0
  report('metrics-first-scrape', first, { events: events.length, auditEntries: events.length * events[0]!.audit.length, bytes: text.length })
  const again = await timed(7, async () => await metrics.metrics())
  report('metrics-scrape-unchanged', again, { events: events.length, 'ratio to first': (again / first).toFixed(3) })
}
