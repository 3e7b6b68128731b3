/**
 * The node toward its upstream VTN (a utility's, or another node's: nodes stack): a real OpenADR 2.0b VEN
 * (src/openadr `Ven` over HTTP) that is the agent's `UpstreamChannel`. A LOAD_DISPATCH event (setpoint or
 * delta per interval) becomes `agent.submit`, answered optIn/optOut from the node's opt decision; a
 * modification becomes a MODIFY, a cancellation a CANCEL. Upward the node reports TELEMETRY_USAGE of its
 * aggregate (`usage`) and the deviation it could not cover (`shortfall`, kW, delivered − requested), and
 * offers the customer reports of docs/openadr-reports.md for its aggregate, so its upstream may be a node.
 * The offer names the market contexts of the node's customers: when they change (a customer registers
 * after the node did), the VEN is rebuilt with its venID and registers again, offering the new contexts.
 */
import type { Logger } from 'pino'
import { Ven } from '../openadr/ven/ven.js'
import { HttpPayloadSender } from '../openadr/http/sender.js'
import type { OadrTlsInit } from '../openadr/security/tls.js'
import type { EiEvent, OptType } from '../openadr/model/event.js'
import { powerRealKw } from '../openadr/model/common.js'
import type { OadrReport } from '../openadr/model/report.js'
import type { PayloadSender } from '../openadr/transport.js'
import type { OadrTransportName } from '../openadr/model/registration.js'
import type { Clock } from '../util/clock.js'
import type { CompletionSummary, DrRequest, FailureNotice, OptAnswer, ShortfallNotice } from '../machines/drEventTypes.js'
import type { UpstreamChannel } from './agentChannels.js'
import { customerReportOffer } from './reportNames.js'
import { onWindow, type CustomerBook } from './agentCustomers.js'
import { AgentError, type EventSummary } from './agent.js'
import type { ReservationLedger } from './ledger.js'

export interface UpstreamVenInit {
  /** The upstream VTN's base URL. */
  upstreamUrl: string
  venName: string
  /** Telemetry sampling period offered upward (clock ms). @default 60_000 */
  telemetryPeriodMs?: number
  /** Poll period until the VTN asks for one (clock ms). @default 10_000 */
  pollFreqMs?: number
  /** Real ms to wait for the node's opt decision before answering optOut. @default 10_000 */
  answerTimeoutMs?: number
  /** Real ms between registration attempts while the upstream is unreachable. @default 5_000 */
  retryMs?: number
  tls?: OadrTlsInit
  /**
   * Register in the push model, the VTN sending to this address over this transport (XMPP: the node's full
   * JID), instead of polling.
   * @default poll over simple HTTP
   */
  push?: { transportName: OadrTransportName, transportAddress: string }
}

export interface UpstreamVenComponents {
  clock: Clock
  logger: Logger
  /** @default an HttpPayloadSender to `upstreamUrl` */
  sender?: PayloadSender
}

/** What the upstream side needs of the agent, bound once the agent exists. */
export interface UpstreamHost {
  book: CustomerBook
  /** What is already committed (events, peers): the flexibility offered upward is net of it. */
  ledger: Pick<ReservationLedger, 'reserved'>
  submit: (request: DrRequest) => Promise<EventSummary>
  cancel: (eventId: string) => Promise<EventSummary>
  event: (eventId: string) => EventSummary | undefined
  liveEventIds: () => string[]
}

export class UpstreamEventError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UpstreamEventError'
  }
}

function marketContextsOf (host: UpstreamHost): string[] {
  return [...new Set(host.book.all().flatMap(c => c.marketContexts))].sort()
}

function sameContexts (a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i])
}

/** The DrRequest a LOAD_DISPATCH eiEvent asks for. */
export function requestOfEvent (event: EiEvent): DrRequest {
  const signal = event.eiEventSignals.find(s => s.signalName === 'LOAD_DISPATCH')
  if (signal === undefined) throw new UpstreamEventError('no LOAD_DISPATCH signal')
  if (signal.signalType !== 'setpoint' && signal.signalType !== 'delta') throw new UpstreamEventError(`LOAD_DISPATCH signalType ${signal.signalType} is not setpoint or delta`)
  const intervalMs = signal.intervals[0]?.durationMs ?? 0
  if (!(intervalMs > 0) || signal.intervals.some(i => i.durationMs !== intervalMs)) throw new UpstreamEventError('LOAD_DISPATCH intervals must all have the same duration')
  const amountsKw = signal.intervals.map(i => i.values[0])
  if (amountsKw.some(v => v === undefined || !Number.isFinite(v))) throw new UpstreamEventError('every LOAD_DISPATCH interval needs a value')
  return {
    eventId: event.eventDescriptor.eventID,
    modificationNumber: event.eventDescriptor.modificationNumber,
    origin: 'upstream',
    marketContext: event.eventDescriptor.marketContext,
    startMs: event.eiActivePeriod.dtstartMs,
    intervalMs,
    amountsKw: amountsKw as number[],
    signalType: signal.signalType
  }
}

export class UpstreamVen implements UpstreamChannel {
  private client: Ven | undefined
  private readonly sender: PayloadSender
  private host: UpstreamHost | undefined
  private readonly pendingAnswers = new Map<string, (answer: OptAnswer) => void>()
  private readonly shortfalls = new Map<string, ShortfallNotice>()
  private retry: NodeJS.Timeout | undefined
  private running = false
  /** The market contexts the current VEN offers, sorted. */
  private offered: string[] = []
  private unsubscribe: (() => void) | undefined
  /** Tail of the re-registrations, one at a time. */
  private refreshing: Promise<void> = Promise.resolve()

  constructor (private readonly init: UpstreamVenInit, private readonly components: UpstreamVenComponents) {
    this.sender = components.sender ?? new HttpPayloadSender({ baseUrl: init.upstreamUrl, ...(init.tls === undefined ? {} : { tls: init.tls }) })
  }

  /** The VEN, once `start()` has built it. */
  get ven (): Ven {
    if (this.client === undefined) throw new Error('UpstreamVen is not started')
    return this.client
  }

  /**
   * Built at start, once the customer book is loaded: the node offers upward the reports a customer offers
   * (docs/openadr-reports.md) for the market contexts its customers are enrolled in, so that its upstream can
   * be another node (nodes stack) as well as a utility.
   */
  private build (host: UpstreamHost, venID?: string): Ven {
    const period = this.init.telemetryPeriodMs ?? 60_000
    const marketContexts = marketContextsOf(host)
    this.offered = marketContexts
    const reports = customerReportOffer({ marketContexts, telemetryPeriodMs: period, forecastStepMs: period, capabilitiesPeriodMs: period })
    const telemetry = reports[0] as OadrReport
    telemetry.oadrReportDescriptions = [...(telemetry.oadrReportDescriptions ?? []),
      { rID: 'shortfall', reportType: 'deviation', readingType: 'Derived', itemBase: powerRealKw(), samplingRate: { minPeriodMs: period, maxPeriodMs: period, onChange: false } }]
    const push = this.init.push === undefined ? {} : { httpPullModel: false, ...this.init.push }
    const ven = new Ven({ venName: this.init.venName, reports, defaultPollFreqMs: this.init.pollFreqMs ?? 10_000, ...push, ...(venID === undefined ? {} : { venID }) }, {
      sender: this.sender,
      clock: this.components.clock,
      decideOpt: async event => await this.decide(event),
      readReport: (rID, startMs, endMs) => this.read(rID, startMs, endMs),
      readProjection: (rID, endMs, stepMs) => this.forecast(rID, endMs, stepMs)
    })
    ven.on('event', (event) => {
      if (event.eventDescriptor.eventStatus === 'cancelled') this.cancelLive(event.eventDescriptor.eventID)
    })
    ven.on('eventRemoved', eventID => { this.cancelLive(eventID) })
    ven.on('error', err => { this.components.logger.warn({ err }, 'upstream VEN') })
    return ven
  }

  /** The agent this VEN speaks for; call before `start()`. */
  bind (host: UpstreamHost): void { this.host = host }

  /** Registers with the upstream VTN, retrying in the background while it cannot be reached. */
  async start (): Promise<void> {
    if (this.host === undefined) throw new Error('UpstreamVen.bind(agent) must come before start()')
    const host = this.host
    this.client = this.build(host)
    this.running = true
    // Per customer the contexts it was last seen with: only a context not offered yet, or one a customer
    // left, can change the offer, and the union over every customer is computed only then.
    const seen = new Map<string, readonly string[]>(host.book.all().map(c => [c.venId, c.marketContexts]))
    this.unsubscribe = host.book.onActivity(e => {
      if (e.kind === 'reported') return
      const before = seen.get(e.venId) ?? []
      const after = e.kind === 'deregistered' ? [] : e.marketContexts
      if (e.kind === 'deregistered') seen.delete(e.venId)
      else seen.set(e.venId, after)
      if (after.every(m => this.offered.includes(m)) && before.every(m => after.includes(m))) return
      if (sameContexts(marketContextsOf(host), this.offered)) return
      this.refreshing = this.refreshing.then(async () => { await this.reregister() })
    })
    await this.attempt()
  }

  async stop (): Promise<void> {
    this.running = false
    this.unsubscribe?.()
    clearTimeout(this.retry)
    await this.refreshing
    await this.client?.stop()
  }

  /** Registers again, under the same venID, offering the market contexts the customers have now. */
  private async reregister (): Promise<void> {
    const host = this.host
    if (!this.running || host === undefined || sameContexts(marketContextsOf(host), this.offered)) return
    const old = this.ven
    clearTimeout(this.retry)
    await old.stop()
    this.client = this.build(host, old.venID)
    this.components.logger.info({ venID: old.venID, marketContexts: this.offered }, 'market contexts changed; registering upstream again')
    await this.attempt()
  }

  private async attempt (): Promise<void> {
    if (!this.running) return
    try {
      await this.ven.start()
      this.components.logger.info({ venID: this.ven.venID, upstream: this.init.upstreamUrl }, 'registered upstream')
    } catch (err) {
      await this.ven.stop()
      this.components.logger.warn({ err, upstream: this.init.upstreamUrl }, 'upstream VTN unreachable; retrying')
      this.retry = setTimeout(() => { void this.attempt() }, this.init.retryMs ?? 5_000)
    }
  }

  // ---- UpstreamChannel ----

  async answer (answer: OptAnswer): Promise<void> {
    this.pendingAnswers.get(answer.eventId)?.(answer)
    this.pendingAnswers.delete(answer.eventId)
  }

  async shortfall (notice: ShortfallNotice): Promise<void> { this.shortfalls.set(notice.eventId, notice) }

  async failure (notice: FailureNotice): Promise<void> {
    this.components.logger.warn({ notice }, 'event failed')
    if (this.client?.events().some(h => h.event.eventDescriptor.eventID === notice.eventId) === true) {
      await this.ven.respondToEvent(notice.eventId, 'optOut').catch(err => { this.components.logger.warn({ err }, 'optOut after failure not sent') })
    }
  }

  async complete (summary: CompletionSummary): Promise<void> {
    this.shortfalls.delete(summary.eventId)
    this.components.logger.info({ eventId: summary.eventId, intervals: summary.intervals }, 'event completed')
  }

  // ---- from the upstream VTN ----

  private async decide (event: EiEvent): Promise<OptType> {
    const host = this.host
    if (host === undefined) return 'optOut'
    let request: DrRequest
    try {
      request = requestOfEvent(event)
    } catch (err) {
      this.components.logger.warn({ err, eventID: event.eventDescriptor.eventID }, 'upstream event refused')
      return 'optOut'
    }
    const known = host.event(request.eventId)
    // A failed event is out, whether or not its optOut went up before a crash.
    if (known?.state === 'failed' || known?.status === 'error') return 'optOut'
    if (known !== undefined && known.answer !== null && known.request.modificationNumber >= request.modificationNumber) {
      return known.answer.accept ? 'optIn' : 'optOut'
    }
    const answered = new Promise<OptAnswer | undefined>(resolve => {
      this.pendingAnswers.set(request.eventId, resolve)
      setTimeout(() => { resolve(undefined) }, this.init.answerTimeoutMs ?? 10_000).unref()
    })
    try {
      const summary = await host.submit(request)
      // A modification keeps the event's first answer; the chart answers only new requests.
      if (known !== undefined) return summary.answer?.accept === false ? 'optOut' : 'optIn'
    } catch (err) {
      this.pendingAnswers.delete(request.eventId)
      if (err instanceof AgentError) {
        const summary = host.event(request.eventId)
        return summary?.answer?.accept === true ? 'optIn' : 'optOut'
      }
      throw err
    }
    const answer = await answered
    this.pendingAnswers.delete(request.eventId)
    return answer?.decision.accept === true ? 'optIn' : 'optOut'
  }

  private cancelLive (eventId: string): void {
    const host = this.host
    if (host === undefined || !host.liveEventIds().includes(eventId)) return
    host.cancel(eventId).catch(err => { this.components.logger.warn({ err, eventId }, 'cancel from upstream failed') })
  }

  /**
   * Upward forecast, one step ahead (the step that follows the report, docs/openadr-reports.md): Σ of the
   * customers' baselines, and their flexibility net of what the ledger holds (committed to events or
   * promised to peers), so the node above cannot count it twice.
   */
  private forecast (rID: string, endMs: number, stepMs: number): number[] | undefined {
    const host = this.host
    if (host === undefined || (rID !== 'baselineKw' && rID !== 'flexUpKw' && rID !== 'flexDownKw')) return undefined
    const window = { startMs: endMs, intervalMs: stepMs, intervals: 1 }
    let kw = 0
    for (const c of host.book.all()) {
      if (c.capabilities === null) continue
      const own = onWindow(c.capabilities[rID], c.capabilities, window)[0] ?? 0
      if (rID === 'baselineKw') { kw += own; continue }
      const held = host.ledger.reserved(c.venId, window)[rID][0] ?? 0
      kw += Math.max(0, own - held)
    }
    return [kw]
  }

  /** Upward telemetry: the aggregate of every customer (latest reading in the period, else its baseline). */
  private read (rID: string, startMs: number, endMs: number): number | undefined {
    const host = this.host
    if (host === undefined) return undefined
    if (rID === 'usage') {
      let kw = 0
      for (const c of host.book.all()) {
        const reading = host.book.readings(c.venId, startMs, endMs).at(-1)
        if (reading !== undefined) kw += reading.kw
        else if (c.capabilities !== null) kw += onWindow(c.capabilities.baselineKw, c.capabilities, { startMs, intervalMs: endMs - startMs, intervals: 1 })[0] ?? 0
      }
      return kw
    }
    if (rID === 'costUpPerKwh' || rID === 'costDownPerKwh' || rID === 'pvKw' || rID === 'batteryKwh') {
      const known = host.book.all().flatMap(c => c.capabilities === null ? [] : [c.capabilities[rID]])
      if (known.length === 0) return 0
      const sum = known.reduce((a, b) => a + b, 0)
      return rID === 'pvKw' || rID === 'batteryKwh' ? sum : sum / known.length
    }
    if (rID === 'shortfall') {
      let kw = 0
      for (const n of this.shortfalls.values()) {
        const summary = host.event(n.eventId)
        if (summary === undefined) continue
        const t = Math.floor((startMs - summary.request.startMs) / summary.request.intervalMs)
        kw += n.residualKw[t] ?? 0
      }
      return kw
    }
    return undefined
  }
}
