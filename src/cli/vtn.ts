/**
 * `adrmesh vtn`: a stand-alone OpenADR 2.0b VTN on one port (plain HTTP, or HTTPS with client certificates,
 * optionally signing and checking XML signatures), so that a person can point any 2.0b VEN at it. Events
 * come from `--event-file` at start and from a small operator JSON API (`--admin-port`, loopback only).
 * Registrations, opt answers, opt schedules and reports are logged as JSON lines (pino) on stdout.
 */
import { readFile } from 'node:fs/promises'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { Vtn } from '../openadr/vtn/vtn.js'
import { OadrHttpClients, OadrHttpServer, securedHandler } from '../openadr/http/index.js'
import { OadrError } from '../openadr/errors.js'
import { systemClock } from '../util/clock.js'
import { eventFromJson, eventJsonHelp, everyVenGroup, fingerprintOf, portOf, positiveNumberOf, runRole, securityFlagsHelp, readSecurityFlags, UsageError, type RoleFlags } from './oadrFlags.js'

const help = `Usage: adrmesh vtn [options]

Runs an OpenADR 2.0b VTN at {http|https}://HOST:PORT{BASE}/OpenADR2/Simple/2.0b/{EiRegisterParty,EiEvent,
EiReport,EiOpt,OadrPoll}. Logs registrations, opt answers, opt schedules and reports as JSON lines.

  --port P               port to listen on (default 8080; 0 picks a free one)
  --host H               address to bind (default 127.0.0.1)
  --base-path PATH       prefix before /OpenADR2 (default none)
  --vtn-id ID            this VTN's vtnID (default adrmesh-vtn)
  --data-dir DIR         keep registrations, events and reports in LevelDB there (default: memory only)
  --poll-freq S          poll period asked of pull VENs, seconds (default 10)
  --event-file FILE      events to create at start (JSON, see below)
  --bind VENID=FP        accept VENID only from the certificate with OpenADR fingerprint FP (repeatable)
  --admin-port P         operator JSON API on 127.0.0.1:P: GET /vens /events /responses /opts /reports?venID=,
                         POST /events (event JSON), POST /events/ID/modify ({"signals": …}), POST /events/ID/cancel
  --log-level L          pino level (default info)
  -h, --help

${securityFlagsHelp}

${eventJsonHelp}`

export async function run (argv: string[]): Promise<number> {
  return await runRole(argv, {
    role: 'vtn',
    help,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'base-path': { type: 'string' },
      'vtn-id': { type: 'string' },
      'data-dir': { type: 'string' },
      'poll-freq': { type: 'string' },
      'event-file': { type: 'string' },
      bind: { type: 'string', multiple: true },
      'admin-port': { type: 'string' }
    },
    start
  })
}

type Flags = RoleFlags

async function start (flags: Flags, log: Logger): Promise<() => Promise<void>> {
  const str = (name: string): string | undefined => flags[name] as string | undefined
  const security = await readSecurityFlags(flags)
  const port = portOf(str('port'), 'port', 8080)
  const adminPort = str('admin-port') === undefined ? undefined : portOf(str('admin-port'), 'admin-port', 0)
  const pollFreqMs = positiveNumberOf(str('poll-freq'), 'poll-freq', 10) * 1000
  const bindings = ((flags.bind ?? []) as string[]).map(b => {
    const eq = b.indexOf('=')
    if (eq <= 0) throw new UsageError(`--bind ${b}: expected VENID=FINGERPRINT`)
    return [b.slice(0, eq), b.slice(eq + 1).toUpperCase()] as const
  })
  const eventFile = str('event-file')
  const events = eventFile === undefined ? [] : await readEventFile(eventFile)

  const clients = new OadrHttpClients(security)
  const vtn = new Vtn({ vtnID: str('vtn-id') ?? 'adrmesh-vtn', pollFreqMs, ...(str('data-dir') === undefined ? {} : { dataDir: str('data-dir') as string }) },
    { senderFor: address => clients.senderFor(address) })
  watch(vtn, log)
  const everyVen = async (): Promise<void> => { await vtn.defineGroup(everyVenGroup, vtn.registrations().map(r => r.venID)) }
  vtn.on('registered', () => { everyVen().catch((err: unknown) => { log.error({ err }, 'group update failed') }) })
  vtn.on('deregistered', () => { everyVen().catch((err: unknown) => { log.error({ err }, 'group update failed') }) })
  await vtn.start()
  await everyVen()
  for (const [venID, fingerprint] of bindings) await vtn.bindVen(venID, fingerprint)
  const server = new OadrHttpServer({
    host: str('host') ?? '127.0.0.1',
    port,
    ...(str('base-path') === undefined ? {} : { basePath: str('base-path') as string }),
    ...(security.tls === undefined ? {} : { tls: security.tls })
  }, { handler: securedHandler(vtn.handler, security), logger: log })
  await server.start()
  for (const json of events) await createEvent(vtn, json, log)
  const admin = adminPort === undefined ? undefined : await startAdmin(vtn, adminPort, log)
  log.info({
    url: server.url,
    vtnID: vtn.vtnID,
    tls: security.tls !== undefined,
    signing: security.signWith !== undefined,
    requireSignature: security.verify?.requireSignature === true,
    ...fingerprintOf(security),
    ...(admin === undefined ? {} : { adminUrl: admin.url })
  }, 'VTN listening')
  return async () => {
    await new Promise<void>(resolve => { if (admin === undefined) resolve(); else admin.server.close(() => { resolve() }) })
    await server.stop()
    await vtn.stop()
    clients.stop()
  }
}

async function readEventFile (path: string): Promise<unknown[]> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new UsageError(`--event-file ${path}: ${(err as Error).message}`)
  }
  return Array.isArray(json) ? json : [json]
}

async function createEvent (vtn: Vtn, json: unknown, log: Logger): Promise<unknown> {
  const init = eventFromJson(json, systemClock.now())
  const event = await vtn.createEvent(init)
  log.info({ eventID: event.eventDescriptor.eventID, targets: init.targets, dtstart: new Date(event.eiActivePeriod.dtstartMs).toISOString(), signals: summary(event.eiEventSignals) }, 'event created')
  return event
}

function summary (signals: Array<{ signalName: string, signalType: string, intervals: Array<{ durationMs?: number, values: number[] }> }>): unknown {
  return signals.map(s => ({ signal: `${s.signalName}/${s.signalType}`, intervals: s.intervals.map(i => [(i.durationMs ?? 0) / 60_000, i.values[0]]) }))
}

function watch (vtn: Vtn, log: Logger): void {
  vtn.on('registered', r => { log.info({ venID: r.venID, venName: r.venName, registrationID: r.registrationID, pull: r.httpPullModel, transportAddress: r.transportAddress, fingerprint: r.fingerprint }, 'VEN registered') })
  vtn.on('deregistered', venID => { log.info({ venID }, 'VEN deregistered') })
  vtn.on('eventResponse', r => { log.info({ venID: r.venID, eventID: r.eventID, modificationNumber: r.modificationNumber, optType: r.optType }, 'event response') })
  vtn.on('reportsOffered', (venID, reports) => { log.info({ venID, reports: reports.map(r => r.reportName) }, 'reports offered') })
  vtn.on('report', r => { log.info({ venID: r.venID, reportName: r.report.reportName, reportRequestID: r.report.reportRequestID, values: r.report.intervals?.map(i => i.payloads.map(p => [p.rID, p.value])) }, 'report') })
  vtn.on('opt', r => { log.info({ venID: r.venID, optID: r.opt.optID, optType: r.opt.optType, optReason: r.opt.optReason }, 'opt schedule') })
  vtn.on('optCancelled', (venID, optID) => { log.info({ venID, optID }, 'opt schedule cancelled') })
  vtn.on('pushFailed', (venID, err) => { log.warn({ venID, err: err.message }, 'push failed; kept for the next poll') })
}

/** The operator API: loopback only, JSON in and out. */
async function startAdmin (vtn: Vtn, port: number, log: Logger): Promise<{ server: http.Server, url: string }> {
  const server = http.createServer((req, res) => { void serveAdmin(vtn, req, res, log) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { resolve() })
  })
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function serveAdmin (vtn: Vtn, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const reply = (status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }
  const url = new URL(req.url ?? '/', 'http://admin')
  const path = url.pathname
  try {
    if (req.method === 'GET') {
      if (path === '/vens') { reply(200, vtn.registrations()); return }
      if (path === '/events') { reply(200, vtn.events()); return }
      if (path === '/responses') { reply(200, vtn.eventResponses()); return }
      if (path === '/opts') { reply(200, vtn.optSchedules()); return }
      if (path === '/reports') {
        const venID = url.searchParams.get('venID')
        if (venID === null) { reply(400, { error: 'venID query parameter required' }); return }
        reply(200, await vtn.readReports(venID))
        return
      }
    }
    if (req.method === 'POST') {
      const body = await readJson(req)
      if (path === '/events') { reply(201, await createEvent(vtn, body, log)); return }
      const m = /^\/events\/([^/]+)\/(modify|cancel)$/.exec(path)
      if (m !== null) {
        const eventID = decodeURIComponent(m[1] as string)
        if (m[2] === 'cancel') { reply(200, await vtn.cancelEvent(eventID)); return }
        const signals = (body as { signals?: unknown }).signals
        const change = signals === undefined
          ? {}
          : { signals: eventFromJson({ startInSeconds: 0, signals }, 0).signals }
        const event = await vtn.modifyEvent(eventID, change)
        log.info({ eventID, modificationNumber: event.eventDescriptor.modificationNumber }, 'event modified')
        reply(200, event)
        return
      }
    }
    reply(404, { error: `no ${req.method ?? ''} ${path}` })
  } catch (err) {
    const status = err instanceof UsageError || err instanceof SyntaxError ? 400 : err instanceof OadrError ? 409 : 500
    reply(status, { error: (err as Error).message })
  }
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 1_048_576) throw new UsageError('body larger than 1 MiB')
    chunks.push(chunk)
  }
  return chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'))
}
