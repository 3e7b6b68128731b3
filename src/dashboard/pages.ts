/**
 * The dashboard's HTML pages, rendered on the server from a `DashboardView`: events list, event page
 * (statechart, audit timeline, requested vs delivered chart, customers and peers involved), customers and
 * peers. The event page's changing parts are separate fragments so the live stream can send them again.
 */
import { eventPageScript, stylesheet } from './assets.js'
import type { ChartLayout } from './layout.js'
import type { MachineGraph } from './machineGraph.js'
import { highlightOf, renderStatechart, type ChartHighlight } from './statechartSvg.js'
import { renderIntervalChart } from './intervalChart.js'
import { escapeXml as esc } from './scxml.js'
import type { AuditEntryView, CustomerView, EventDetail, EventOverview, PeerView, ReliabilityView } from './view.js'

export interface EventFragments {
  state: string
  highlight: ChartHighlight
  summaryHtml: string
  timelineHtml: string
  chartSvg: string
  involvedHtml: string
}

const hourMs = 3_600_000

export function page (nodeId: string, title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · ${esc(nodeId)}</title><style>${stylesheet}</style></head>
<body><header><h1>adrmesh · ${esc(nodeId)}</h1><a href="/">Events</a><a href="/customers">Customers</a><a href="/peers">Peers</a>
<a href="/api/openapi.json">API</a><a href="/api/machines/dr-event.scxml">SCXML</a></header>
<main>${body}</main>${script === '' ? '' : `<script>${script}</script>`}</body></html>`
}

/** Energy over the closed intervals (kWh): requested, delivered, and the shortfall reported. */
export function totals (e: Pick<EventOverview, 'intervals' | 'intervalMs'>): { requestedKwh: number, deliveredKwh: number, shortfallKwh: number, closed: number } {
  const h = e.intervalMs / hourMs
  const closed = e.intervals.filter(r => r.deliveredKw !== null)
  return {
    requestedKwh: closed.reduce((s, r) => s + r.requestedKw * h, 0),
    deliveredKwh: closed.reduce((s, r) => s + (r.deliveredKw ?? 0) * h, 0),
    shortfallKwh: e.intervals.reduce((s, r) => s + Math.abs(r.shortfallKw) * h, 0),
    closed: closed.length
  }
}

export function eventsPage (nodeId: string, events: EventOverview[]): string {
  const rows = [...events].sort((a, b) => b.startMs - a.startMs).map(e => {
    const t = totals(e)
    return `<tr data-event-id="${esc(e.eventId)}"><td><a href="/events/${encodeURIComponent(e.eventId)}">${esc(e.eventId)}</a></td>` +
      `<td><span class="badge">${esc(e.state)}</span></td><td>${esc(e.origin)}</td><td>${iso(e.startMs)}</td>` +
      `<td class="num">${t.closed}/${e.intervals.length}</td><td class="num">${kwh(t.requestedKwh)}</td><td class="num">${kwh(t.deliveredKwh)}</td>` +
      `<td class="num shortfall-cell">${kwh(t.shortfallKwh)}</td></tr>`
  })
  const table = rows.length === 0
    ? '<p>No DR event yet.</p>'
    : `<table id="events"><thead><tr><th>event</th><th>state</th><th>origin</th><th>start</th><th class="num">intervals closed</th>` +
      `<th class="num">requested kWh</th><th class="num">delivered kWh</th><th class="num">shortfall kWh</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  return page(nodeId, 'Events', `<section><h2>DR events</h2>${table}</section>`)
}

export function eventFragments (graph: MachineGraph, e: EventDetail): EventFragments {
  const t = totals(e)
  const summaryHtml = `<dl><dt>state</dt><dd class="state">${esc(e.state)}</dd><dt>status</dt><dd>${esc(e.status)}</dd>` +
    `<dt>origin</dt><dd>${esc(e.origin)}</dd><dt>market context</dt><dd>${esc(e.marketContext)}</dd>` +
    `<dt>window</dt><dd>${iso(e.startMs)} · ${e.intervals.length} × ${e.intervalMs / 60_000} min (${esc(e.signalType)})</dd>` +
    `<dt>requested / delivered so far</dt><dd>${kwh(t.requestedKwh)} / ${kwh(t.deliveredKwh)} kWh over ${t.closed} intervals</dd>` +
    `<dt>shortfall</dt><dd class="shortfall-cell">${kwh(t.shortfallKwh)} kWh</dd>` +
    (e.failure === null ? '' : `<dt>failure</dt><dd class="shortfall-cell">${esc(e.failure)}</dd>`) + '</dl>'
  return {
    state: e.state,
    highlight: highlightOf(graph, e.state, e.audit),
    summaryHtml,
    timelineHtml: timeline(graph, e.audit),
    chartSvg: renderIntervalChart(e.intervals),
    involvedHtml: involved(e)
  }
}

export function eventPage (nodeId: string, graph: MachineGraph, layout: ChartLayout, e: EventDetail, streamUrl: string): string {
  const f = eventFragments(graph, e)
  const id = encodeURIComponent(e.eventId)
  const body = `<div data-event-id="${esc(e.eventId)}" data-state="${esc(e.state)}" data-stream="${esc(streamUrl)}">
<section><h2>Event ${esc(e.eventId)} <span id="live" class="live">static</span></h2><div id="summary">${f.summaryHtml}</div>
<p><a href="/api/events/${id}/audit.jsonl">audit trail (JSON lines)</a> · <a href="/api/machines/dr-event.json">machine JSON</a> · <a href="/api/machines/dr-event.scxml">machine SCXML</a></p></section>
<section><h3>Statechart</h3><div id="statechart">${renderStatechart(layout, f.highlight)}</div></section>
<section><h3>Requested vs delivered per interval (aggregate kW)</h3><div id="chart">${f.chartSvg}</div></section>
<section><h3>Customers and peers involved</h3><div id="involved">${f.involvedHtml}</div></section>
<section><h3>Audit trail</h3><div id="timeline">${f.timelineHtml}</div></section></div>`
  return page(nodeId, `Event ${e.eventId}`, body, eventPageScript)
}

function timeline (graph: MachineGraph, audit: AuditEntryView[]): string {
  const labels = new Map(graph.transitions.map(t => [t.event, t.label]))
  const items = audit.map(a => {
    const label = labels.get(a.event) ?? a.event
    const step = stepOf(a, label)
    const decision = a.decision === null || a.decision === undefined ? '' : `<pre class="decision">${esc(clip(JSON.stringify(a.decision)))}</pre>`
    return `<li class="step-${step}" data-seq="${a.seq}" data-state-after="${esc(a.stateAfter)}"><span class="time">${iso(a.timeMs)}</span> ` +
      `<b class="input">${esc(label)}</b>: ${esc(a.stateBefore)} → <b>${esc(a.stateAfter)}</b>` +
      (step === 'intra' ? ' <span class="badge">intra matchmaking</span>' : step === 'inter' ? ' <span class="badge">inter matchmaking</span>' : '') +
      decision + '</li>'
  })
  return items.length === 0 ? '<p>No transition yet.</p>' : `<ol class="timeline">${items.join('')}</ol>`
}

function stepOf (a: AuditEntryView, label: string): string {
  if (label === 'done: intraMatch' || a.stateAfter === 'active.intra' || a.stateBefore === 'active.intra') return 'intra'
  if (label === 'done: interMatch' || a.stateAfter === 'active.inter' || a.stateBefore === 'active.inter') return 'inter'
  return 'other'
}

function involved (e: EventDetail): string {
  const list = (xs: string[]): string => xs.length === 0 ? '<p>none</p>' : `<ul>${xs.map(x => `<li>${esc(x)}</li>`).join('')}</ul>`
  return `<div class="customers"><h4>Customers</h4>${list(e.customers)}</div><div class="peers"><h4>Peers</h4>${list(e.peers)}</div>`
}

export function customersPage (nodeId: string, customers: CustomerView[]): string {
  const rows = customers.map(c => {
    const last = c.lastReports[c.lastReports.length - 1]
    return `<tr data-ven-id="${esc(c.venId)}"><td>${esc(c.venId)}</td><td>${esc(c.venName)}</td><td>${esc(c.marketContexts.join(', '))}</td>` +
      `<td>${esc(c.cluster ?? '—')}</td><td class="num">${reliability(c.reliability)}</td>` +
      `<td class="num">${last === undefined ? '—' : `${last.kw.toFixed(2)} kW at ${iso(last.atMs)}`}</td><td class="num">${c.lastReports.length}</td></tr>`
  })
  const table = rows.length === 0 ? '<p>No customer enrolled.</p>'
    : `<table id="customers"><thead><tr><th>venID</th><th>name</th><th>market contexts</th><th>cluster</th><th class="num">reliability (credible interval)</th>` +
      `<th class="num">last report</th><th class="num">recent reports</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  return page(nodeId, 'Customers', `<section><h2>Customers</h2>${table}</section>`)
}

export function peersPage (nodeId: string, peers: PeerView[]): string {
  const sum = (xs: number[]): string => xs.length === 0 ? '—' : `${Math.max(...xs).toFixed(2)} kW peak`
  const rows = peers.map(p => `<tr data-peer-id="${esc(p.peerId)}"><td>${esc(p.peerId)}</td><td class="num">${sum(p.flexUpKw)}</td>` +
    `<td class="num">${sum(p.flexDownKw)}</td><td class="num">${reliability(p.reliability)}</td><td>${p.lastSeenMs === null ? '—' : iso(p.lastSeenMs)}</td></tr>`)
  const table = rows.length === 0 ? '<p>No fellow node known.</p>'
    : `<table id="peers"><thead><tr><th>peer</th><th class="num">flex up</th><th class="num">flex down</th><th class="num">reliability (credible interval)</th><th>last seen</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  return page(nodeId, 'Peers', `<section><h2>Fellow nodes</h2>${table}</section>`)
}

export function notFoundPage (nodeId: string, what: string): string {
  return page(nodeId, 'Not found', `<section><h2>Not found</h2><p>${esc(what)}</p></section>`)
}

function reliability (r: ReliabilityView | null): string {
  return r === null ? '—' : `${r.mean.toFixed(3)} [${r.low.toFixed(3)}, ${r.high.toFixed(3)}]`
}

function iso (ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : '—'
}

function kwh (v: number): string {
  return v.toFixed(2)
}

function clip (s: string): string {
  return s.length > 2000 ? s.slice(0, 2000) + ' …' : s
}

