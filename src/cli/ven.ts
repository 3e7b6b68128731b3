/**
 * `adrmesh ven`: a stand-alone OpenADR 2.0b VEN toward any 2.0b VTN: registers (pull, or push at its own
 * endpoint), offers a TELEMETRY_USAGE report, answers events with a fixed opt choice, sends the reports
 * the VTN requests, and logs what it receives (events with their intervals, modifications, report
 * requests) as JSON lines (pino) on stdout.
 */
import type { Logger } from 'pino'
import { Ven } from '../openadr/ven/ven.js'
import { OadrHttpClients, OadrHttpServer, securedHandler } from '../openadr/http/index.js'
import { powerRealKw } from '../openadr/model/index.js'
import type { OadrReport } from '../openadr/model/report.js'
import type { PayloadHandler } from '../openadr/transport.js'
import { systemClock } from '../util/clock.js'
import { fingerprintOf, portOf, positiveNumberOf, readSecurityFlags, runRole, securityFlagsHelp, UsageError, type SecurityFlags } from './oadrFlags.js'

const help = `Usage: adrmesh ven --vtn-url URL --ven-name NAME [options]

Runs an OpenADR 2.0b VEN against the VTN at URL (its base: the services are under URL/OpenADR2/Simple/2.0b/).

  --vtn-url URL          the VTN's base URL, e.g. https://vtn.example:8443 (required)
  --ven-name NAME        oadrVenName (required)
  --ven-id ID            a venID given out of band (default: the VTN assigns one)
  --listen [HOST:]PORT   push mode: serve this VEN's own endpoint there (oadrHttpPullModel false)
  --push-url URL         the transport address to register (default: the --listen endpoint's URL)
  --poll-freq S          poll period until the VTN asks for one, seconds (default 10)
  --opt in|out           answer to every event (default in)
  --report-interval S    shortest report period offered for TELEMETRY_USAGE, seconds (default 60)
  --report-value KW      the power reported, kW (default 0)
  --log-level L          pino level (default info)
  -h, --help

${securityFlagsHelp}`

export async function run (argv: string[]): Promise<number> {
  return await runRole(argv, {
    role: 'ven',
    help,
    options: {
      'vtn-url': { type: 'string' },
      'ven-name': { type: 'string' },
      'ven-id': { type: 'string' },
      listen: { type: 'string' },
      'push-url': { type: 'string' },
      'poll-freq': { type: 'string' },
      opt: { type: 'string' },
      'report-interval': { type: 'string' },
      'report-value': { type: 'string' }
    },
    start,
    stoppedEarly: err => err instanceof StoppedError
  })
}

/** SIGINT/SIGTERM arrived before the VEN could register. */
class StoppedError extends Error {
  constructor () {
    super('stopped before registering')
    this.name = 'StoppedError'
  }
}

/** Waits `ms`; true when SIGINT or SIGTERM came first. */
async function stopRequested (ms: number): Promise<boolean> {
  return await new Promise(resolve => {
    const settle = (stopped: boolean): void => {
      clearTimeout(timer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(stopped)
    }
    const onSignal = (): void => { settle(true) }
    const timer = setTimeout(() => { settle(false) }, ms)
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

interface VenFlags extends SecurityFlags {
  'vtn-url'?: string
  'ven-name'?: string
  'ven-id'?: string
  listen?: string
  'push-url'?: string
  'poll-freq'?: string
  opt?: string
  'report-interval'?: string
  'report-value'?: string
}

function telemetryOffer (minPeriodMs: number, nowMs: number): OadrReport {
  return {
    durationMs: 24 * 3_600_000,
    oadrReportDescriptions: [{
      rID: 'power', reportType: 'usage', itemBase: powerRealKw(), readingType: 'Direct Read',
      samplingRate: { minPeriodMs, maxPeriodMs: Math.max(minPeriodMs, 3_600_000), onChange: false }
    }],
    reportRequestID: '0',
    reportSpecifierID: 'telemetry-usage',
    reportName: 'METADATA_TELEMETRY_USAGE',
    createdDateTimeMs: nowMs
  }
}

function listenAddress (value: string): { host: string, port: number } {
  const colon = value.lastIndexOf(':')
  const host = colon === -1 ? '127.0.0.1' : value.slice(0, colon).replace(/^\[|\]$/g, '')
  return { host, port: portOf(colon === -1 ? value : value.slice(colon + 1), 'listen', 0) }
}

async function start (flags: VenFlags, log: Logger): Promise<() => Promise<void>> {
  const vtnUrl = flags['vtn-url']
  const venName = flags['ven-name']
  if (vtnUrl === undefined || venName === undefined) throw new UsageError('--vtn-url and --ven-name are required')
  try {
    const protocol = new URL(vtnUrl).protocol
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(protocol)
  } catch {
    throw new UsageError(`--vtn-url '${vtnUrl}' is not an http(s) URL`)
  }
  const opt = flags.opt ?? 'in'
  if (opt !== 'in' && opt !== 'out') throw new UsageError('--opt must be in or out')
  const security = await readSecurityFlags(flags)
  if (vtnUrl.startsWith('https:') && security.tls === undefined) throw new UsageError('an https --vtn-url needs --tls-cert, --tls-key and --tls-ca')
  const pollFreqMs = positiveNumberOf(flags['poll-freq'], 'poll-freq', 10) * 1000
  const reportPeriodMs = positiveNumberOf(flags['report-interval'], 'report-interval', 60) * 1000
  const reportValue = flags['report-value'] === undefined ? 0 : Number(flags['report-value'])
  if (!Number.isFinite(reportValue)) throw new UsageError('--report-value must be a number')

  const clients = new OadrHttpClients(security)
  let server: OadrHttpServer | undefined
  let ven: Ven | undefined
  if (flags.listen !== undefined) {
    // Listening before registering: the VTN may push as soon as it knows the address.
    const handler: PayloadHandler = async (service, xml, peer) => await (ven as Ven).handler(service, xml, peer)
    server = new OadrHttpServer({ ...listenAddress(flags.listen), ...(security.tls === undefined ? {} : { tls: security.tls }) }, { handler: securedHandler(handler, security), logger: log })
    await server.start()
  }
  const push = server !== undefined
  ven = new Ven({
    venName,
    ...(flags['ven-id'] === undefined ? {} : { venID: flags['ven-id'] }),
    httpPullModel: !push,
    ...(push ? { transportAddress: flags['push-url'] ?? (server as OadrHttpServer).url } : {}),
    xmlSignature: security.signWith !== undefined,
    reports: [telemetryOffer(reportPeriodMs, systemClock.now())],
    defaultPollFreqMs: pollFreqMs
  }, {
    sender: clients.senderFor(vtnUrl),
    decideOpt: () => opt === 'in' ? 'optIn' : 'optOut',
    readReport: () => reportValue
  })
  watch(ven, log)
  // A VEN is a daemon: a VTN that is not up yet, or refuses for now, is asked again every poll period.
  for (let attempt = 1; ; attempt++) {
    try {
      await ven.start()
      break
    } catch (err) {
      await ven.stop()
      log.warn({ attempt, err: (err as Error).message, retryInMs: pollFreqMs }, 'registration failed')
      if (await stopRequested(pollFreqMs)) {
        await server?.stop()
        clients.stop()
        throw new StoppedError()
      }
    }
  }
  log.info({ ...fingerprintOf(security), vtnUrl, venID: ven.venID, registrationID: ven.registrationID, vtnID: ven.vtnID, pollPeriodMs: push ? undefined : ven.pollPeriodMs, pushUrl: push ? (flags['push-url'] ?? server?.url) : undefined }, 'VEN running')
  const running = ven
  return async () => {
    await running.stop()
    await server?.stop()
    clients.stop()
  }
}

function watch (ven: Ven, log: Logger): void {
  ven.on('registered', (venID, registrationID) => { log.info({ venID, registrationID }, 'registered') })
  ven.on('event', (event, optType) => {
    const d = event.eventDescriptor
    log.info({
      eventID: d.eventID,
      modificationNumber: d.modificationNumber,
      eventStatus: d.eventStatus,
      dtstart: new Date(event.eiActivePeriod.dtstartMs).toISOString(),
      signals: event.eiEventSignals.map(s => ({ signal: `${s.signalName}/${s.signalType}`, intervals: s.intervals.map(i => [(i.durationMs ?? 0) / 60_000, i.values[0]]) })),
      optType
    }, 'event')
  })
  ven.on('eventRemoved', eventID => { log.info({ eventID }, 'event removed') })
  ven.on('reportRequested', request => { log.info({ reportRequestID: request.reportRequestID, reportSpecifierID: request.reportSpecifier.reportSpecifierID }, 'report requested') })
  ven.on('reportCancelled', reportRequestID => { log.info({ reportRequestID }, 'report cancelled') })
  ven.on('reportSent', report => { log.info({ reportRequestID: report.reportRequestID, reportName: report.reportName }, 'report sent') })
  ven.on('deregistered', () => { log.info({}, 'deregistered') })
  ven.on('error', err => { log.warn({ err: err.message }, 'background error') })
}
