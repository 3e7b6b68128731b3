import assert from 'node:assert/strict'
import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { machineGraph } from '../../src/dashboard/machineGraph.js'
import { routeOf } from '../../src/dashboard/dashboard.js'
import { renderIntervalChart } from '../../src/dashboard/intervalChart.js'
import { EVENT, INTERVALS, serveDashboard, startDeviatingEvent, type Served } from './fixture.js'
import { MINUTE, T0 } from '../machines/harness.js'

function svgOf (html: string, cls: string): Document {
  const start = html.indexOf(`<svg xmlns="http://www.w3.org/2000/svg" class="${cls}"`)
  const end = html.indexOf('</svg>', start)
  assert.ok(start >= 0 && end > start, `the page has an ${cls} SVG`)
  const problems: string[] = []
  const doc = new DOMParser({ onError: (l, m) => { problems.push(`${l}: ${m}`) } }).parseFromString(html.slice(start, end + 6), 'image/svg+xml')
  assert.deepEqual(problems, [])
  return doc
}

function elements (doc: Document, name: string): Element[] {
  return Array.from(doc.getElementsByTagName(name))
}

/** Reads server-sent events from a fetch body until `until` accepts one. */
async function readEvents (body: ReadableStream<Uint8Array>, until: (data: any) => boolean): Promise<any[]> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const seen: any[] = []
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error('stream ended')
    buffer += decoder.decode(value, { stream: true })
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const data = block.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
      if (data === '') continue
      const parsed = JSON.parse(data)
      seen.push(parsed)
      if (until(parsed)) { reader.releaseLock(); return seen }
    }
  }
}

describe('dashboard: pages, exports and live stream over HTTP', function () {
  this.timeout(20_000)
  let s: Served
  afterEach(async () => { await s?.close() })

  it('draws every state of the chart on the event page, the current one highlighted and the path taken marked', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    await s.view.timers.advanceTo(T0 + 10 * MINUTE + 15 * MINUTE + 8 * MINUTE)
    const html = await (await fetch(`${s.url}/events/${EVENT}`)).text()
    const svg = svgOf(html, 'statechart')
    const drawn = elements(svg, 'g').filter(g => g.hasAttribute('data-state-id'))
    const graph = machineGraph(drEventMachine)
    assert.deepEqual(drawn.map(g => g.getAttribute('data-state-id')).sort(), graph.states.map(st => st.id).sort())
    const current = drawn.filter(g => (g.getAttribute('class') ?? '').split(' ').includes('current')).map(g => g.getAttribute('data-state-id'))
    const state = (await s.view.event(EVENT))?.state ?? ''
    assert.deepEqual(current, ['drEvent.' + state])
    const visited = drawn.filter(g => (g.getAttribute('class') ?? '').split(' ').includes('visited')).map(g => g.getAttribute('data-state-id'))
    for (const id of ['drEvent.received', 'drEvent.deciding', 'drEvent.scheduled.planning', 'drEvent.active.intra']) assert.ok(visited.includes(id), `${id} visited`)
    assert.ok(!visited.includes('drEvent.declined'))
    const taken = elements(svg, 'g').filter(g => (g.getAttribute('class') ?? '').includes('taken'))
    assert.ok(taken.some(g => g.getAttribute('data-source') === 'drEvent.active.monitoring.measured' && g.getAttribute('data-target') === 'drEvent.active.intra'))
    assert.ok(taken.some(g => g.getAttribute('data-source') === 'drEvent.received' && g.getAttribute('data-target') === 'drEvent.deciding'), 'the eventless first step is marked')
    assert.ok(!taken.some(g => g.getAttribute('data-target') === 'drEvent.declined' || g.getAttribute('data-target') === 'drEvent.failed'))
    // Nested states are drawn inside their parent's box.
    const box = (id: string): number[] => {
      const rect = elements(svg, 'g').find(g => g.getAttribute('data-state-id') === id)?.getElementsByTagName('rect')[0] as Element
      return ['x', 'y', 'width', 'height'].map(a => Number(rect.getAttribute(a)))
    }
    const [px = 0, py = 0, pw = 0, ph = 0] = box('drEvent.active.monitoring')
    const [cx = 0, cy = 0, cw = 0, ch = 0] = box('drEvent.active.monitoring.waiting')
    assert.ok(cx >= px && cy >= py && cx + cw <= px + pw && cy + ch <= py + ph)
    await s.view.timers.advanceTo(endMs)
  })

  it('lists events with requested, delivered and shortfall, and charts one point per interval', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    await s.view.timers.advanceTo(endMs)
    const list = await (await fetch(`${s.url}/`)).text()
    assert.match(list, new RegExp(`<tr data-event-id="${EVENT}">.*completed.*3/3`))
    const page = await (await fetch(`${s.url}/events/${EVENT}`)).text()
    const chart = svgOf(page, 'interval-chart')
    const points = elements(chart, 'circle')
    assert.equal(points.filter(c => c.getAttribute('class') === 'point requested').length, INTERVALS)
    assert.equal(points.filter(c => c.getAttribute('class') === 'point delivered').length, INTERVALS)
    const e = await s.view.event(EVENT)
    assert.deepEqual(points.filter(c => c.getAttribute('class') === 'point delivered').map(c => Number(c.getAttribute('data-kw'))), e?.intervals.map(i => i.deliveredKw))
    assert.match(page, /<li class="step-intra"[^>]*>.*done: intraMatch/)
    assert.match(page, /<li>c2<\/li>/)
  })

  it('serves the machine as JSON with its eventless transitions, the audit trail as JSON lines, and the OpenAPI document', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    await s.view.timers.advanceTo(endMs)
    const graph = await (await fetch(`${s.url}/api/machines/dr-event.json`)).json() as { states: unknown[], transitions: Array<{ event: string }> }
    assert.equal(graph.states.length, machineGraph(drEventMachine).states.length)
    assert.ok(graph.transitions.some(t => t.event === ''))
    const scxml = await fetch(`${s.url}/api/machines/dr-event.scxml`)
    assert.match(scxml.headers.get('content-type') ?? '', /application\/scxml\+xml/)
    const audit = await fetch(`${s.url}/api/events/${EVENT}/audit.jsonl`)
    assert.equal(audit.status, 200)
    const lines = (await audit.text()).trim().split('\n').map(l => JSON.parse(l) as { stateAfter: string })
    assert.equal(lines.length, (await s.view.event(EVENT))?.audit.length)
    assert.equal(lines[lines.length - 1]?.stateAfter, 'completed')
    assert.equal((await fetch(`${s.url}/api/events/nope/audit.jsonl`)).status, 404)
    const api = await (await fetch(`${s.url}/api/openapi.json`)).json() as { openapi: string, paths: Record<string, unknown> }
    assert.equal(api.openapi, '3.1.0')
    for (const path of ['/api/events', '/api/events/{eventId}/audit.jsonl', '/api/machines/dr-event.scxml', '/metrics']) assert.ok(path in api.paths, path)
    assert.equal((await fetch(`${s.url}/events/nope`)).status, 404)
    assert.equal((await fetch(`${s.url}/customers`, { method: 'POST' })).status, 405)
    assert.equal((await fetch(`${s.url}/api/events`)).status, 404, 'paths that are not the dashboard are handed on')
    const customers = await (await fetch(`${s.url}/customers`)).text()
    assert.match(customers, /<tr data-ven-id="c1">.*k0.*0\.900 \[0\.800, 0\.960\]/)
    const peers = await (await fetch(`${s.url}/peers`)).text()
    assert.match(peers, /<tr data-peer-id="peer-1">.*0\.700 \[0\.500, 0\.850\]/)
  })

  it('pushes the new state to an open event stream as the event runs', async () => {
    s = await serveDashboard()
    const { endMs } = startDeviatingEvent(s.view)
    const res = await fetch(`${s.url}/api/events/${EVENT}/stream`)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const body = res.body as ReadableStream<Uint8Array>
    const first = await readEvents(body, () => true)
    assert.equal(first[0].state, 'scheduled.waitingStart')
    const advancing = s.view.timers.advanceTo(endMs)
    const seen = await readEvents(body, d => d.state === 'completed')
    await advancing
    const states = seen.map(d => d.state)
    assert.ok(states.some(st => st.startsWith('active.')), `saw the event active: ${states.join(', ')}`)
    assert.deepEqual(seen[seen.length - 1].highlight.current, ['drEvent.completed'])
    await body.cancel()
    assert.equal((await fetch(`${s.url}/api/events/nope/stream`)).status, 404)
  })

  it('puts the pages and the JSON API behind a token when one is configured', async () => {
    s = await serveDashboard({ token: 's3cret' })
    startDeviatingEvent(s.view)
    assert.equal((await fetch(`${s.url}/`)).status, 401)
    assert.equal((await fetch(`${s.url}/api/events`)).status, 401, 'the agent\'s GET API too')
    assert.equal((await fetch(`${s.url}/api/events`, { headers: { authorization: 'Bearer s3cret' } })).status, 404, 'handed on once authorised')
    assert.equal((await fetch(`${s.url}/?token=wrong`)).status, 401)
    assert.equal((await fetch(`${s.url}/api/machines/dr-event.scxml`, { headers: { authorization: 'Bearer s3cre' } })).status, 401)
    const swap = await fetch(`${s.url}/events/${EVENT}?token=s3cret`, { redirect: 'manual' })
    assert.equal(swap.status, 303)
    assert.equal(swap.headers.get('location'), `/events/${EVENT}`)
    const cookie = (swap.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    assert.match(cookie, /^adrmesh_dashboard=/)
    assert.equal((await fetch(`${s.url}/events/${EVENT}`, { headers: { cookie } })).status, 200)
    assert.equal((await fetch(`${s.url}/api/events/${EVENT}/audit.jsonl`, { headers: { authorization: 'Bearer s3cret' } })).status, 200)
    assert.equal((await fetch(`${s.url}/api/events`, { method: 'POST' })).status, 404, 'writes are left to the agent\'s admin token')
    assert.equal((await fetch(`${s.url}/metrics`)).status, 200, '/metrics is governed by the loopback rule, not the token')
  })

  it('labels HTTP latency by a bounded set of route patterns', () => {
    assert.equal(routeOf('/events/ev-1'), '/events/:id')
    assert.equal(routeOf('/api/events/ev-1/audit.jsonl'), '/api/events/:id/audit.jsonl')
    assert.equal(routeOf('/api/customers/ven-1/reports'), '/api/customers/:id/reports')
    assert.equal(routeOf('/api/machines/dr-event.scxml'), '/api/machines/dr-event.scxml')
    assert.equal(routeOf('/api/whatever/x'), 'other')
    assert.equal(routeOf('/api/events/a/b/c'), 'other')
    assert.equal(routeOf('/favicon.ico'), 'other')
  })
})

describe('dashboard: requested vs delivered chart', () => {
  it('places each point at its value and draws a signed shortfall from the requested flow', () => {
    const svg = renderIntervalChart([
      { index: 0, startMs: 0, requestedKw: 30, deliveredKw: 30, intraCoveredKw: 0, interCoveredKw: 0, shortfallKw: 0 },
      { index: 1, startMs: 1, requestedKw: 28, deliveredKw: 31, intraCoveredKw: 1, interCoveredKw: 0, shortfallKw: 3 },
      { index: 2, startMs: 2, requestedKw: 28, deliveredKw: null, intraCoveredKw: 0, interCoveredKw: 0, shortfallKw: 0 }
    ])
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml')
    const circles = elements(doc, 'circle')
    const cy = (cls: string, i: number): number => Number(circles.find(c => c.getAttribute('class') === `point ${cls}` && c.getAttribute('data-interval') === String(i))?.getAttribute('cy'))
    assert.equal(circles.filter(c => c.getAttribute('class') === 'point delivered').length, 2, 'an open interval has no delivered point yet')
    assert.ok(cy('delivered', 1) < cy('requested', 1), 'more kW is drawn higher')
    assert.equal(cy('requested', 2), cy('requested', 1))
    const bar = elements(doc, 'rect').find(r => r.getAttribute('class') === 'shortfall')
    assert.equal(bar?.getAttribute('data-interval'), '1')
    const top = Number(bar?.getAttribute('y'))
    assert.ok(Math.abs(top - cy('delivered', 1)) < 0.01 && Math.abs(top + Number(bar?.getAttribute('height')) - cy('requested', 1)) < 0.01, 'the bar spans requested to requested + shortfall')
  })
})
