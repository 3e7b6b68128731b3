/**
 * The node toward its customers: a real OpenADR 2.0b VTN (src/openadr `Vtn`, persisted under
 * `<dataDir>/vtn`) that is the agent's `CustomerChannel`. Each customer's share of a DR event is its own
 * eiEvent (eventID `<event>#<venID>`, one LOAD_DISPATCH setpoint signal per interval, in the event's market
 * context); a changed share is a modification of that eiEvent (modificationNumber + 1); the customer's
 * oadrCreatedEvent answers it, and a later optOut reaches the agent as `customerOptedOut`. What customers
 * report (reportNames.ts) feeds the customer book: registrations and market contexts, telemetry readings,
 * forecasts and capabilities. The VTN stores a report before the book records it, so on start `recover()`
 * replays every stored registration and report into the book (idempotently): none acknowledged is lost, and
 * the book stores what reports tell it in bulk, behind (`replayable`), not per report.
 */
import type { Logger } from 'pino'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Vtn } from '../openadr/vtn/vtn.js'
import type { EventResponseRecord, StoredReport } from '../openadr/vtn/types.js'
import type { EventSignal, OptType } from '../openadr/model/event.js'
import { powerRealKw } from '../openadr/model/common.js'
import type { PayloadHandler } from '../openadr/transport.js'
import { timerAt, type Clock } from '../util/clock.js'
import type { CustomerChannel, CustomerDispatch } from './agentChannels.js'
import type { CustomerBook } from './agentCustomers.js'
import type { NodeConfig } from './config.js'
import {
  capabilitiesOf, offeredMarketContexts, parseCustomerReport, requestCustomerReports, type CapabilityValues, type ParsedReport, type ReportPeriods
} from './reportNames.js'

export interface CustomerVtnInit {
  /** This VTN's vtnID (the node id). */
  vtnID: string
  /** The node's data directory; the VTN keeps its state in `<dataDir>/vtn`. */
  dataDir: string
  /** Poll period asked of customers (clock ms): at most the shortest interval / checks per interval. */
  pollFreqMs: number
  /**
   * A customer that has not answered a new event after this many poll periods is taken as opted out.
   * @default 3
   */
  answerPolls?: number
  /**
   * Keep each customer report in the VTN's store before acknowledging it, for `recover()` to replay: what
   * the book had not written yet (its readings, profiles and forecasts, written in bulk) survives a crash.
   * Without (simulations at scale, whose nodes do not crash), a crash loses the book's unwritten window.
   * @default true
   */
  storeReports?: boolean
  /**
   * How often customers send their forecast and capabilities reports (ms; never more often than sampled).
   * @default each report's sampling period
   */
  reportPeriods?: ReportPeriods
}

/** The customer-facing VTN a node's configuration asks for (its id, data directory, poll period and report periods). */
export function customerVtnInitOf (config: NodeConfig): CustomerVtnInit {
  return {
    vtnID: config.nodeId,
    dataDir: config.dataDir,
    pollFreqMs: config.customerPollMs,
    reportPeriods: { forecastMs: config.forecastReportMs, capabilitiesMs: config.capabilitiesReportMs }
  }
}

export interface CustomerVtnComponents {
  clock: Clock
  logger: Logger
}

/** What the customer side needs of the agent, bound once the agent exists. */
export interface CustomerVtnHost {
  book: CustomerBook
  customerOptedOut: (eventId: string, venId: string) => void
}

export const dispatchSignalID = 'dispatch'

export function customerEventId (eventId: string, venId: string): string { return `${eventId}#${venId}` }

function splitEventId (eventID: string): { eventId: string, venId: string } | undefined {
  const at = eventID.lastIndexOf('#')
  return at <= 0 ? undefined : { eventId: eventID.slice(0, at), venId: eventID.slice(at + 1) }
}

/** Interval uids by index: every dispatch of a node's customers numbers its intervals from 0. */
const intervalUids: string[] = []

function intervalUid (t: number): string {
  return intervalUids[t] ??= String(t)
}

function dispatchSignal (d: CustomerDispatch): EventSignal {
  const intervals: EventSignal['intervals'] = []
  for (let t = 0; t < d.setpointsKw.length; t++) intervals.push({ durationMs: d.intervalMs, uid: intervalUid(t), values: [d.setpointsKw[t] as number] })
  return { signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: dispatchSignalID, itemBase: powerRealKw(), intervals }
}

/**
 * Whether the event's one signal already holds these setpoints, one value per interval (compared as numbers:
 * a re-dispatch asks for each changed customer); read off the dispatch, before a signal is built for it.
 */
function sameSetpoints (signals: EventSignal[], setpointsKw: readonly number[]): boolean {
  const held = signals.length === 1 ? signals[0] : undefined
  if (held === undefined || held.intervals.length !== setpointsKw.length) return false
  for (let k = 0; k < setpointsKw.length; k++) {
    const values = (held.intervals[k] as EventSignal['intervals'][number]).values
    const x = values[0] as number
    const y = setpointsKw[k] as number
    // NaN equals NaN, as in `sameSeries`.
    if (values.length !== 1 || (x !== y && !(Number.isNaN(x) && Number.isNaN(y)))) return false
  }
  return true
}

export class CustomerVtn implements CustomerChannel {
  readonly vtn: Vtn
  private host: CustomerVtnHost | undefined
  private readonly waiting = new Map<string, Array<{ modificationNumber: number, resolve: (o: OptType) => void }>>()
  private readonly forecasts = new Map<string, Extract<ParsedReport, { kind: 'forecast' }>>()
  private readonly scalars = new Map<string, CapabilityValues>()
  /** Serialises the book updates each customer's reports cause, in arrival order. */
  private bookQueue: Promise<void> = Promise.resolve()
  /** Book updates queued and not yet done. */
  private updating = 0
  /** Dispatches being stored as eiEvents, not yet waiting for the customer's answer. */
  private distributing = 0
  /** Per node event, dispatches waiting for the customer's answer. */
  private readonly answersAwaited = new Map<string, number>()

  constructor (private readonly init: CustomerVtnInit, private readonly components: CustomerVtnComponents) {
    this.vtn = new Vtn({
      vtnID: init.vtnID,
      dataDir: join(init.dataDir, 'vtn'),
      pollFreqMs: init.pollFreqMs,
      requestReports: (venID, offered) => requestCustomerReports(offered, randomUUID, { nowMs: components.clock.now(), key: venID }, init.reportPeriods),
      ...(init.storeReports === undefined ? {} : { storeReports: init.storeReports })
    }, { clock: components.clock })
    this.vtn.on('registered', reg => { this.update(async book => { await book.register(reg.venID, reg.venName ?? reg.venID, book.get(reg.venID)?.marketContexts ?? [], reg.registeredAtMs) }) })
    this.vtn.on('deregistered', venID => { this.update(async book => { await book.deregister(venID) }) })
    this.vtn.on('reportsOffered', (venID, offered) => {
      const contexts = offeredMarketContexts(offered)
      this.update(async book => {
        const known = book.get(venID)
        const record = await book.register(venID, known?.venName ?? venID, contexts, this.components.clock.now())
        if (record.capabilities !== null) await book.setCapabilities(venID, record.capabilities, contexts)
      })
    })
    this.vtn.on('report', stored => { this.onReport(stored) })
    this.vtn.on('eventResponse', r => { this.onAnswer(r) })
  }

  get handler (): PayloadHandler { return this.vtn.handler }

  /** The agent this VTN serves; call before `start()`. */
  bind (host: CustomerVtnHost): void { this.host = host }

  async start (): Promise<void> { await this.vtn.start() }

  async stop (): Promise<void> {
    for (const list of this.waiting.values()) for (const w of list) w.resolve('optOut')
    this.waiting.clear()
    await this.bookQueue
    await this.vtn.stop()
  }

  /** Replays the VTN's registrations, offered market contexts and stored reports (in arrival order) into the book. */
  async recover (): Promise<void> {
    for (const reg of this.vtn.registrations()) {
      const offered = this.vtn.offeredReports(reg.venID)
      this.update(async book => {
        const known = book.get(reg.venID)
        const contexts = offered.length > 0 ? offeredMarketContexts(offered) : known?.marketContexts ?? []
        const record = await book.register(reg.venID, known?.venName ?? reg.venName ?? reg.venID, contexts, reg.registeredAtMs)
        if (record.capabilities !== null && offered.length > 0) await book.setCapabilities(reg.venID, record.capabilities, contexts)
      })
      const stored = await this.vtn.readReports(reg.venID)
      for (const report of [...stored].sort((a, b) => a.receivedAtMs - b.receivedAtMs)) this.onReport(report)
    }
    await this.bookQueue
  }

  /** Work in flight that finishes without the clock moving (a virtual clock waits for it); empty when none. */
  busy (): string[] {
    return [
      ...(this.updating > 0 ? [`${this.updating} customer book update(s)`] : []),
      ...(this.distributing > 0 ? [`${this.distributing} dispatch(es) being stored`] : [])
    ]
  }

  awaitingAnswers (eventId: string): boolean { return (this.answersAwaited.get(eventId) ?? 0) > 0 }

  async distribute (venId: string, dispatch: CustomerDispatch): Promise<'optIn' | 'optOut'> {
    this.distributing++
    let parked = false
    try {
      const eventID = customerEventId(dispatch.eventId, venId)
      const existing = this.vtn.event(eventID)
      let modificationNumber = 0
      if (existing === undefined) {
        await this.vtn.createEvent({
          eventID, marketContext: dispatch.marketContext, dtstartMs: dispatch.startMs, signals: [dispatchSignal(dispatch)], targets: { venIDs: [venId] }, responseRequired: 'always'
        })
      } else if (existing.eventDescriptor.eventStatus === 'cancelled') {
        return 'optOut'
      } else if (sameSetpoints(existing.eiEventSignals, dispatch.setpointsKw)) {
        modificationNumber = existing.eventDescriptor.modificationNumber
      } else {
        modificationNumber = (await this.vtn.modifyEvent(eventID, { signals: [dispatchSignal(dispatch)], reason: `revision ${dispatch.modificationNumber}.${dispatch.revision}` })).eventDescriptor.modificationNumber
      }
      const answered = this.answerOf(eventID, modificationNumber)
      if (answered !== undefined) return answered
      // A customer enrolled through the JSON API, not an OpenADR VEN: enrolment is its opt-in, and it reads
      // its setpoints from `GET /api/customers/:venId/dispatch` (`dispatchesOf`).
      if (this.vtn.registration(venId) === undefined) return 'optIn'
      // A changed setpoint is picked up at the customer's next poll: the chart does not wait for it, and an
      // optOut to it comes back through `customerOptedOut`.
      if (modificationNumber > 0) return 'optIn'
      parked = true
      this.distributing--
      this.answersAwaited.set(dispatch.eventId, (this.answersAwaited.get(dispatch.eventId) ?? 0) + 1)
      try {
        return await this.awaitAnswer(eventID, modificationNumber)
      } finally {
        const left = (this.answersAwaited.get(dispatch.eventId) ?? 1) - 1
        if (left > 0) this.answersAwaited.set(dispatch.eventId, left)
        else this.answersAwaited.delete(dispatch.eventId)
      }
    } finally {
      if (!parked) this.distributing--
    }
  }

  async cancel (venId: string, eventId: string): Promise<void> {
    const eventID = customerEventId(eventId, venId)
    const existing = this.vtn.event(eventID)
    if (existing === undefined || existing.eventDescriptor.eventStatus === 'cancelled') return
    await this.vtn.cancelEvent(eventID, 'withdrawn by the node')
  }

  /** The customer's current setpoints per event, from the VTN's (persisted) events. */
  dispatchesOf (venId: string): CustomerDispatch[] {
    const out: CustomerDispatch[] = []
    for (const e of this.vtn.events()) {
      const ids = splitEventId(e.eventDescriptor.eventID)
      const signal = e.eiEventSignals.find(s => s.signalID === dispatchSignalID)
      if (ids?.venId !== venId || signal === undefined || e.eventDescriptor.eventStatus === 'cancelled') continue
      out.push({
        eventId: ids.eventId,
        modificationNumber: e.eventDescriptor.modificationNumber,
        revision: 0,
        marketContext: e.eventDescriptor.marketContext,
        startMs: e.eiActivePeriod.dtstartMs,
        intervalMs: signal.intervals[0]?.durationMs ?? 0,
        setpointsKw: signal.intervals.map(i => i.values[0] ?? 0)
      })
    }
    return out
  }

  private answerOf (eventID: string, modificationNumber: number): OptType | undefined {
    const r = this.vtn.eventResponses(eventID).find(x => x.modificationNumber >= modificationNumber)
    return r?.optType
  }

  private async awaitAnswer (eventID: string, modificationNumber: number): Promise<OptType> {
    let resolve: (o: OptType) => void = () => {}
    const promise = new Promise<OptType>(r => { resolve = r })
    const list = this.waiting.get(eventID) ?? []
    const entry = { modificationNumber, resolve }
    list.push(entry)
    this.waiting.set(eventID, list)
    const clock = this.components.clock
    const timer = timerAt(clock, clock.now() + (this.init.answerPolls ?? 3) * this.init.pollFreqMs, () => {
      this.components.logger.warn({ eventID }, 'customer did not answer the event: taken as opted out')
      resolve('optOut')
    })
    const answer = await promise
    timer.cancel()
    const left = (this.waiting.get(eventID) ?? []).filter(w => w !== entry)
    if (left.length === 0) this.waiting.delete(eventID)
    else this.waiting.set(eventID, left)
    return answer
  }

  private onAnswer (r: EventResponseRecord): void {
    const list = this.waiting.get(r.eventID)
    const waiters = list?.filter(w => r.modificationNumber >= w.modificationNumber) ?? []
    for (const w of waiters) w.resolve(r.optType)
    if (waiters.length > 0 || r.optType !== 'optOut') return
    const ids = splitEventId(r.eventID)
    if (ids !== undefined && ids.venId === r.venID) this.host?.customerOptedOut(ids.eventId, ids.venId)
  }

  private onReport (stored: StoredReport): void {
    let parsed: ParsedReport
    try {
      parsed = parseCustomerReport(stored.report)
    } catch (err) {
      this.components.logger.warn({ err, venID: stored.venID }, 'customer report ignored')
      return
    }
    const venId = stored.venID
    if (parsed.kind === 'telemetry') {
      const readings = parsed.readings.map(r => ({ venId, atMs: r.atMs, kw: r.kw }))
      if (readings.length > 0) this.update(async book => { await book.record(readings, { replayable: true }) })
      return
    }
    if (parsed.kind === 'forecast') this.forecasts.set(venId, parsed)
    else if (parsed.kind === 'capabilities') this.scalars.set(venId, parsed.values)
    else return
    const forecast = this.forecasts.get(venId)
    if (forecast === undefined) return
    const capabilities = capabilitiesOf(forecast, this.scalars.get(venId) ?? {})
    if (capabilities !== null) this.update(async book => { if (book.get(venId) !== undefined) await book.setCapabilities(venId, capabilities, undefined, { replayable: true }) })
  }

  private update (change: (book: CustomerBook) => Promise<void>): void {
    const host = this.host
    if (host === undefined) return
    this.updating++
    this.bookQueue = this.bookQueue.then(async () => { await change(host.book) })
      .catch(err => { this.components.logger.warn({ err }, 'customer update from OpenADR failed') })
      .finally(() => { this.updating-- })
  }
}
