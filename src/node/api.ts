/**
 * The node's JSON API: status, events (state, audit trail, requested vs delivered per interval), customers,
 * and the writes an operator or a test drives a node with (inject or cancel a DR request, enrol customers,
 * set their capabilities, post their readings), each guarded by the admin token
 * (`Authorization: Bearer <token>`). Errors are JSON `{ error, message }` with a 4xx status; bad input
 * changes nothing.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CustomerCapabilities } from '../machines/customerSession.js'
import type { DrRequest } from '../machines/drEventTypes.js'
import { AgentError, type Agent } from './agent.js'
import { CustomerError, type Reading } from './agentCustomers.js'
import type { CustomerDispatch } from './agentChannels.js'
import { intervalBudgets } from './agentEvent.js'

export interface ApiComponents {
  agent: Agent
  /** When customers may pick up their setpoints through the API (`PullChannel`, or the node's VTN). */
  pull?: { dispatchesOf: (venId: string) => CustomerDispatch[] }
  /** The node's fellows on the mesh (`GET /api/peers`; src/node/mesh.ts). @default none (no mesh: an empty list) */
  peers?: { peers: () => unknown[] }
}

class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

const maxBodyBytes = 1_048_576

/** Serves `/api/…`; resolves to false when the path is not the API's (the caller answers it). */
export async function serveApi (req: IncomingMessage, res: ServerResponse, api: ApiComponents): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://node')
  if (!url.pathname.startsWith('/api/')) return false
  try {
    const body = await route(req, url, api)
    send(res, 200, body)
  } catch (err) {
    if (err instanceof ApiError) send(res, err.status, { error: err.code, message: err.message })
    else if (err instanceof CustomerError) send(res, 400, { error: 'invalid-customer', message: err.message })
    else if (err instanceof AgentError) send(res, agentStatus(err.code), { error: err.code, message: err.message })
    else send(res, 500, { error: 'internal', message: 'internal error' })
  }
  return true
}

function agentStatus (code: AgentError['code']): number {
  return code === 'not-ready' ? 503 : code === 'unknown-event' ? 404 : 409
}

async function route (req: IncomingMessage, url: URL, api: ApiComponents): Promise<unknown> {
  const { agent } = api
  const parts = url.pathname.split('/').filter(p => p !== '').slice(1).map(decodeURIComponent)
  const method = req.method ?? 'GET'
  const [resource, id, sub] = parts
  if (method === 'GET') {
    if (resource === 'status' && id === undefined) {
      return {
        nodeId: agent.config.nodeId, state: agent.state, liveEvents: agent.liveEventIds(),
        events: agent.events().length, customers: agent.book.all().length, matchmaking: agent.config.matchmaking
      }
    }
    if (resource === 'events' && id === undefined) return agent.events().map(e => ({ eventId: e.eventId, state: e.state, status: e.status, request: e.request }))
    if (resource === 'events' && id !== undefined && sub === undefined) {
      const e = agent.event(id)
      if (e === undefined) throw new ApiError(404, 'unknown-event', `no event ${id}`)
      await agent.settled(id)
      const audit = await agent.audit.entries(id)
      const budgets = intervalBudgets(audit.map(a => a.decision))
      return {
        ...e,
        intervals: e.intervals.map(r => ({ ...r, deviationKw: r.deliveredKw === null ? null : r.deliveredKw - requestedFlow(agent, e.request, r.index), recoveries: budgets.get(r.index) ?? [] })),
        audit
      }
    }
    if (resource === 'events' && id !== undefined && sub === 'audit') {
      if (agent.event(id) === undefined) throw new ApiError(404, 'unknown-event', `no event ${id}`)
      return { lines: await agent.audit.export(id) }
    }
    if (resource === 'customers' && id === undefined) return agent.book.all().map(c => ({ ...c, cluster: agent.models.clusterOf(c.venId) ?? null, session: agent.sessions.view(c.venId) }))
    if (resource === 'peers' && id === undefined) return api.peers?.peers() ?? []
    if (resource === 'customers' && id !== undefined && sub === 'readings') {
      if (agent.book.get(id) === undefined) throw new ApiError(404, 'unknown-customer', `no customer ${id}`)
      const from = Number(url.searchParams.get('fromMs') ?? 0)
      const to = Number(url.searchParams.get('toMs') ?? Number.MAX_SAFE_INTEGER)
      return agent.book.readings(id, from, to)
    }
    if (resource === 'customers' && id !== undefined && sub === 'dispatch') {
      if (api.pull === undefined) throw new ApiError(404, 'no-pull', 'customers of this node receive their setpoints over OpenADR')
      return api.pull.dispatchesOf(id)
    }
    throw new ApiError(404, 'not-found', `no ${method} ${url.pathname}`)
  }
  if (method !== 'POST') throw new ApiError(405, 'method', `${method} is not allowed`)
  authorise(req, agent.config.adminToken)
  const body = await readJson(req)
  if (resource === 'events' && id === undefined) return await agent.submit(parseRequest(body))
  if (resource === 'events' && id !== undefined && sub === 'cancel') return await agent.cancel(id)
  if (resource === 'customers' && id === undefined) {
    const o = object(body)
    const venId = str(o, 'venId')
    const record = await agent.book.register(venId, typeof o.venName === 'string' ? o.venName : venId, strings(o, 'marketContexts'), agent.clockNow())
    if (o.capabilities !== undefined) return await agent.book.setCapabilities(venId, parseCapabilities(o.capabilities))
    return record
  }
  if (resource === 'customers' && id !== undefined && sub === 'capabilities') {
    const o = object(body)
    return await agent.book.setCapabilities(id, parseCapabilities(o.capabilities ?? o), Array.isArray(o.marketContexts) ? strings(o, 'marketContexts') : undefined)
  }
  if (resource === 'customers' && id !== undefined && sub === 'reports') {
    const o = object(body)
    if (!Array.isArray(o.readings)) throw new ApiError(400, 'invalid', 'readings must be an array of { atMs, kw }')
    const readings: Reading[] = o.readings.map(r => {
      const x = object(r)
      return { venId: id, atMs: num(x, 'atMs'), kw: num(x, 'kw') }
    })
    await agent.book.record(readings)
    return { stored: readings.length }
  }
  throw new ApiError(404, 'not-found', `no ${method} ${url.pathname}`)
}

function requestedFlow (agent: Agent, request: DrRequest, t: number): number {
  const amount = request.amountsKw[t] ?? 0
  if (request.signalType === 'setpoint') return amount
  return (agent.aggregateBaseline(request)[t] ?? 0) + amount
}

function authorise (req: IncomingMessage, token: string | undefined): void {
  if (token === undefined || token === '') throw new ApiError(403, 'no-admin-token', 'this node has no admin token configured: writes are disabled')
  const header = req.headers.authorization ?? ''
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const expected = Buffer.from(token)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ApiError(401, 'unauthorised', 'a valid admin token is required')
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBodyBytes) throw new ApiError(413, 'too-large', `body larger than ${maxBodyBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'invalid-json', 'the body is not JSON')
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function object (v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'invalid', 'expected a JSON object')
  return v as Record<string, unknown>
}

function str (o: Record<string, unknown>, key: string): string {
  const v = o[key]
  if (typeof v !== 'string' || v === '') throw new ApiError(400, 'invalid', `${key} must be a non-empty string`)
  return v
}

function num (o: Record<string, unknown>, key: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ApiError(400, 'invalid', `${key} must be a finite number`)
  return v
}

function nums (o: Record<string, unknown>, key: string): number[] {
  const v = o[key]
  if (!Array.isArray(v) || v.length === 0 || !v.every(x => typeof x === 'number' && Number.isFinite(x))) {
    throw new ApiError(400, 'invalid', `${key} must be a non-empty array of finite numbers`)
  }
  return v as number[]
}

function strings (o: Record<string, unknown>, key: string): string[] {
  const v = o[key]
  if (!Array.isArray(v) || !v.every(x => typeof x === 'string')) throw new ApiError(400, 'invalid', `${key} must be an array of strings`)
  return v as string[]
}

function parseRequest (body: unknown): DrRequest {
  const o = object(body)
  const signalType = o.signalType ?? 'delta'
  if (signalType !== 'delta' && signalType !== 'setpoint') throw new ApiError(400, 'invalid', "signalType must be 'delta' or 'setpoint'")
  const intervalMs = num(o, 'intervalMs')
  if (!(intervalMs > 0)) throw new ApiError(400, 'invalid', 'intervalMs must be > 0')
  return {
    eventId: str(o, 'eventId'),
    modificationNumber: o.modificationNumber === undefined ? 0 : num(o, 'modificationNumber'),
    origin: 'upstream',
    marketContext: str(o, 'marketContext'),
    startMs: num(o, 'startMs'),
    intervalMs,
    amountsKw: nums(o, 'amountsKw'),
    signalType
  }
}

function parseCapabilities (v: unknown): CustomerCapabilities {
  const o = object(v)
  const optional = (key: string, fallback: number): number => o[key] === undefined ? fallback : num(o, key)
  return {
    baselineKw: nums(o, 'baselineKw'),
    flexUpKw: nums(o, 'flexUpKw'),
    flexDownKw: nums(o, 'flexDownKw'),
    forecastStartMs: optional('forecastStartMs', 0),
    forecastIntervalMs: optional('forecastIntervalMs', 900_000),
    costUpPerKwh: optional('costUpPerKwh', 0),
    costDownPerKwh: optional('costDownPerKwh', 0),
    minActivationKw: optional('minActivationKw', 0),
    pvKw: optional('pvKw', 0),
    batteryKwh: optional('batteryKwh', 0)
  }
}
