/**
 * The dashboard's HTTP surface, mounted in front of the node's JSON API: pages (`/`, `/events/:id`,
 * `/customers`, `/peers`), live event streams (server-sent events), auditor exports (machine JSON and
 * SCXML, audit trail as JSON lines), the OpenAPI document and `/metrics`. `handle` resolves to false for
 * any other path, so the caller hands the request on (to `serveApi`).
 *
 * Protection: with a token, every GET it would serve and every GET under `/api/` needs the token (bearer
 * header, or the cookie set by opening a page once with `?token=`); writes keep the agent's admin token.
 * `/metrics` answers loopback clients only unless told otherwise.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AnyStateMachine } from 'xstate'
import { drEventMachine } from '../machines/drEvent.js'
import type { Clock } from '../util/clock.js'
import { layoutChart, type ChartLayout } from './layout.js'
import { machineGraph, type MachineGraph } from './machineGraph.js'
import { DashboardMetrics } from './metrics.js'
import { openApiDocument } from './openapi.js'
import { customersPage, eventFragments, eventPage, eventsPage, notFoundPage, peersPage } from './pages.js'
import { toScxml } from './scxml.js'
import { EventStreams } from './streams.js'
import type { DashboardView } from './view.js'

export interface DashboardInit {
  /** Token for the pages and every GET under /api/; absent, they are open. */
  token?: string
  /** Answer /metrics to loopback clients (127.0.0.0/8, ::1) only. @default true */
  metricsLoopbackOnly?: boolean
  /** Interval of the keep-alive comments on event streams (real ms). @default 15000 */
  heartbeatMs?: number
}

export interface DashboardComponents {
  view: DashboardView
  clock: Clock
  /** The chart the event pages draw. @default drEventMachine */
  machine?: AnyStateMachine
}

export class DashboardError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DashboardError'
  }
}

const cookieName = 'adrmesh_dashboard'
const layouts = new WeakMap<AnyStateMachine, Promise<ChartLayout>>()

/** ELK takes seconds to lay out a chart the first time; a machine's layout never changes, so it is shared. */
async function layoutOf (machine: AnyStateMachine, graph: MachineGraph): Promise<ChartLayout> {
  let layout = layouts.get(machine)
  if (layout === undefined) {
    layout = layoutChart(graph)
    layouts.set(machine, layout)
  }
  return await layout
}

export class Dashboard {
  readonly metrics: DashboardMetrics
  readonly graph: MachineGraph
  private readonly view: DashboardView
  private readonly machine: AnyStateMachine
  private readonly token: Buffer | null
  private readonly metricsLoopbackOnly: boolean
  private readonly streams: EventStreams
  private layout: ChartLayout | null = null

  constructor (init: DashboardInit, components: DashboardComponents) {
    this.view = components.view
    this.machine = components.machine ?? drEventMachine
    this.graph = machineGraph(this.machine)
    this.token = init.token === undefined || init.token === '' ? null : Buffer.from(init.token)
    this.metricsLoopbackOnly = init.metricsLoopbackOnly ?? true
    this.metrics = new DashboardMetrics({ view: this.view, clock: components.clock })
    this.streams = new EventStreams({ heartbeatMs: init.heartbeatMs ?? 15_000 }, {
      view: this.view,
      render: async (eventId) => {
        const e = await this.view.event(eventId)
        return e === undefined ? undefined : eventFragments(this.graph, e)
      }
    })
  }

  async start (): Promise<void> {
    this.layout = await layoutOf(this.machine, this.graph)
    this.streams.start()
  }

  async stop (): Promise<void> {
    this.streams.stop()
  }

  /** Serves the request if the path is the dashboard's (or needs its token); false hands it on. */
  async handle (req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const started = process.hrtime.bigint()
    const url = new URL(req.url ?? '/', 'http://node')
    const method = req.method ?? 'GET'
    res.once('finish', () => {
      this.metrics.observeHttp(routeOf(url.pathname), method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9)
    })
    const route = this.route(url.pathname)
    const readsApi = url.pathname.startsWith('/api/') && (method === 'GET' || method === 'HEAD')
    if (route === null && !readsApi) return false
    if (route?.kind === 'metrics') {
      await this.serveMetrics(req, res, method)
      return true
    }
    if (!this.authorised(req, url)) {
      if (route !== null && route.kind !== 'api' && url.searchParams.has('token')) return this.refuse(res, 401, 'wrong token')
      return this.refuse(res, 401, 'a dashboard token is required (Authorization: Bearer, or open a page with ?token=)')
    }
    if (route === null) return false
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'method', message: `${method} is not allowed on ${url.pathname}` }))
      return true
    }
    if (this.token !== null && url.searchParams.has('token') && route.kind !== 'api') {
      // Trade the token in the address for a cookie, so it does not stay in the history or in links.
      url.searchParams.delete('token')
      res.writeHead(303, { location: url.pathname + url.search, 'set-cookie': `${cookieName}=${encodeURIComponent(this.token.toString())}; HttpOnly; SameSite=Strict; Path=/` })
      res.end()
      return true
    }
    try {
      await this.serve(route, req, res)
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'internal', message: err instanceof DashboardError ? err.message : 'internal error' }))
      } else {
        res.destroy()
      }
    }
    return true
  }

  private route (path: string): Route | null {
    if (path === '/') return { kind: 'events' }
    if (path === '/customers') return { kind: 'customers' }
    if (path === '/peers') return { kind: 'peers' }
    if (path === '/metrics') return { kind: 'metrics' }
    if (path === '/api/openapi.json') return { kind: 'api', what: 'openapi' }
    if (path === '/api/machines/dr-event.json') return { kind: 'api', what: 'machine-json' }
    if (path === '/api/machines/dr-event.scxml') return { kind: 'api', what: 'machine-scxml' }
    const page = /^\/events\/([^/]+)$/.exec(path)
    if (page !== null) return { kind: 'event', eventId: decode(page[1] as string) }
    const sub = /^\/api\/events\/([^/]+)\/(stream|audit\.jsonl)$/.exec(path)
    if (sub !== null) return { kind: 'api', what: sub[2] === 'stream' ? 'stream' : 'audit', eventId: decode(sub[1] as string) }
    return null
  }

  private async serve (route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const nodeId = this.view.nodeId
    switch (route.kind) {
      case 'events': return html(res, 200, eventsPage(nodeId, await this.view.events()))
      case 'customers': return html(res, 200, customersPage(nodeId, await this.view.customers()))
      case 'peers': return html(res, 200, peersPage(nodeId, await this.view.peers()))
      case 'event': {
        const e = await this.view.event(route.eventId)
        if (e === undefined) return html(res, 404, notFoundPage(nodeId, `no event ${route.eventId}`))
        const stream = `/api/events/${encodeURIComponent(route.eventId)}/stream`
        return html(res, 200, eventPage(nodeId, this.graph, this.requireLayout(), e, stream))
      }
      case 'metrics': return
      case 'api': return await this.serveApi(route, req, res)
    }
  }

  private async serveApi (route: Extract<Route, { kind: 'api' }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (route.what) {
      case 'openapi': return send(res, 200, 'application/json', JSON.stringify(openApiDocument))
      case 'machine-json': return send(res, 200, 'application/json', JSON.stringify(this.graph))
      case 'machine-scxml': return send(res, 200, 'application/scxml+xml; charset=utf-8', toScxml(this.graph))
      case 'audit': {
        const lines = await this.view.auditLines(route.eventId ?? '')
        if (lines === undefined) return send(res, 404, 'application/json', JSON.stringify({ error: 'unknown-event', message: `no event ${route.eventId ?? ''}` }))
        return send(res, 200, 'application/x-ndjson', lines.join('\n') + '\n', { 'content-disposition': `attachment; filename="${(route.eventId ?? '').replace(/[^\w.-]/g, '_')}.audit.jsonl"` })
      }
      case 'stream': {
        const eventId = route.eventId ?? ''
        if (await this.view.event(eventId) === undefined) return send(res, 404, 'application/json', JSON.stringify({ error: 'unknown-event', message: `no event ${eventId}` }))
        await this.streams.open(eventId, req, res)
      }
    }
  }

  private async serveMetrics (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (this.metricsLoopbackOnly && !isLoopbackAddress(req.socket.remoteAddress)) {
      this.refuse(res, 403, '/metrics answers loopback clients only')
      return
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' })
      res.end()
      return
    }
    send(res, 200, this.metrics.contentType, await this.metrics.metrics())
  }

  private authorised (req: IncomingMessage, url: URL): boolean {
    if (this.token === null) return true
    const header = req.headers.authorization ?? ''
    const candidates = [
      header.startsWith('Bearer ') ? header.slice(7) : undefined,
      cookieValue(req.headers.cookie, cookieName),
      url.searchParams.get('token') ?? undefined
    ]
    return candidates.some(c => c !== undefined && sameToken(Buffer.from(c), this.token as Buffer))
  }

  private refuse (res: ServerResponse, status: number, message: string): true {
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) })
    res.end(JSON.stringify({ error: status === 401 ? 'unauthorised' : 'forbidden', message }))
    return true
  }

  private requireLayout (): ChartLayout {
    if (this.layout === null) throw new DashboardError('dashboard not started')
    return this.layout
  }
}

type Route =
  | { kind: 'events' | 'customers' | 'peers' | 'metrics' }
  | { kind: 'event', eventId: string }
  | { kind: 'api', what: 'openapi' | 'machine-json' | 'machine-scxml' | 'stream' | 'audit', eventId?: string }

const knownResources = new Set(['events', 'customers', 'status', 'machines', 'openapi.json'])

/** A bounded set of route labels for the latency histogram: ids become ':id', unknown paths 'other'. */
export function routeOf (path: string): string {
  if (path === '/' || path === '/customers' || path === '/peers' || path === '/metrics') return path
  if (/^\/events\/[^/]+$/.test(path)) return '/events/:id'
  const parts = path.split('/').filter(p => p !== '')
  if (parts[0] !== 'api' || !knownResources.has(parts[1] ?? '')) return 'other'
  if (parts[1] === 'machines' || parts.length <= 2) return '/' + parts.join('/')
  const tail = parts[3]
  if (parts.length > 4 || (tail !== undefined && !/^[a-z.]+$/.test(tail))) return 'other'
  return `/api/${parts[1] as string}/:id${tail === undefined ? '' : '/' + tail}`
}

export function isLoopbackAddress (address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

function sameToken (given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try { return decodeURIComponent(part.slice(eq + 1).trim()) } catch { return undefined }
    }
  }
  return undefined
}

function decode (segment: string): string {
  try { return decodeURIComponent(segment) } catch { return segment }
}

function html (res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/html; charset=utf-8', body, { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:" })
}

function send (res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers })
  res.end(body)
}
