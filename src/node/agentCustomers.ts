/**
 * The node's customers as the agent knows them: registration, capabilities (from METADATA and `x-`
 * forecast reports or the JSON API) and measurements (telemetry reports), kept in the store (tables
 * `customers`, `profiles` and `reports`), plus the arithmetic that turns them into what the decisions need over an
 * event's window: baselines and flexibility per interval, and monitoring measurements at a checkpoint.
 *
 * Series on a customer's forecast grid are read at each event interval's start; a series shorter than the
 * window repeats its last value (a single value is a constant).
 */
import type { Store, StoreOp, WriteBehind } from '../store/index.js'
import { Table } from '../store/index.js'
import type { CustomerCapabilities } from '../machines/customerSession.js'
import type { DispatchPlan, DrRequest, Measurement } from '../machines/drEventTypes.js'
import type { LedgerWindow } from './ledger.js'
import { emptyProfile, updateProfile, type ErrorProfile } from '../actors/profiling.js'

export interface CustomerRecord {
  venId: string
  venName: string
  marketContexts: string[]
  registeredAtMs: number
  capabilities: CustomerCapabilities | null
  /**
   * Error of what the node expected the customer to draw (its forecast baseline, or its setpoint while
   * dispatched) − measured. Stored apart from the record (table `profiles`): it changes with every reading,
   * the record (with its forecast series) only with the registration or the capabilities.
   */
  profile?: ErrorProfile
}

/** The record as the `customers` table holds it: everything but the profile. */
type StoredRecord = Omit<CustomerRecord, 'profile'>

/** One telemetry reading: the customer's net flow (kW, load convention) at `atMs`. */
export interface Reading {
  venId: string
  atMs: number
  kw: number
}

/** What happened to a customer, as the session actors hear it. */
export type CustomerActivity =
  | { kind: 'registered', venId: string, venName: string, marketContexts: string[], atMs: number }
  | { kind: 'capabilities', venId: string, capabilities: CustomerCapabilities, marketContexts: string[] }
  | { kind: 'reported', venId: string, atMs: number }
  | { kind: 'deregistered', venId: string }

/** How a change of the book is stored. */
export interface BookWriteOptions {
  /**
   * The change is durable elsewhere already (the customer VTN's stored report, which `CustomerVtn.recover()`
   * replays on start): it is stored with the book's next bulk write, not before the call returns.
   * @default false
   */
  replayable?: boolean
}

export class CustomerError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CustomerError'
  }
}

const timeDigits = 15

/**
 * The book's memory changes before its writes are awaited, so that a write of a customer begun while another
 * is in flight builds on that one's change (a reading's profile, new capabilities, a re-registration) instead
 * of a record read before it. A failed write stays staged in the write-behind and goes with the next.
 */
export class CustomerBook {
  private readonly byId = new Map<string, CustomerRecord>()
  /** venIDs of `byId` in order, rebuilt when customers come or go. */
  private sortedIds: string[] | null = null
  /** Latest readings per customer, newest last (a bounded tail; the store keeps all). */
  private readonly tails = new Map<string, Reading[]>()
  private readonly listeners = new Set<() => void>()
  private readonly activity = new Set<(e: CustomerActivity) => void>()
  /**
   * What the customer was expected to draw at a time (kW), against which readings profile its forecast
   * error; undefined skips the reading. The agent counts the setpoint of a dispatched customer.
   * @default the customer's forecast baseline
   */
  expectedKw: (c: CustomerRecord, atMs: number) => number | undefined = (c, atMs) =>
    c.capabilities === null ? undefined : this.windowBaseline(c, { startMs: atMs, intervalMs: 1, intervals: 1 })[0]
  /**
   * A customer's baseline over a window, what dispatch and monitoring count as "without DR". The agent
   * falls back to the trained forecaster where the reported forecast does not reach the window, and keeps
   * the series per forecast: callers read it, and copy it to build on it.
   * @default the customer's reported forecast baseline
   */
  windowBaseline: (c: CustomerRecord, window: LedgerWindow) => readonly number[] = reportedBaseline
  /** Whether dispatch may choose the customer (the agent leaves lapsed sessions out). @default always */
  dispatchable: (venId: string) => boolean = () => true

  /** Readings and records are written behind, in bulk (at the latest per 15 min of readings' time). */
  private readonly writes: WriteBehind

  constructor (private readonly store: Store, private readonly tailLength = 256) {
    this.writes = store.writeBehind()
  }

  /** Records stored by an earlier version carry their profile (`CustomerRecord`); `start()` moves it out. */
  private get customers (): Table<StoredRecord | CustomerRecord> { return this.store.table<StoredRecord | CustomerRecord>('customers') }
  private get profiles (): Table<ErrorProfile> { return this.store.table<ErrorProfile>('profiles') }
  private get reports (): Table<Reading> { return this.store.table<Reading>('reports') }

  async start (): Promise<void> {
    const profiles = new Map(await this.profiles.entries())
    // A record stored with its profile inside (before the profiles had a table of their own) is stored again
    // without it, its profile in the profiles table, before any later write of the record could drop it.
    const moved: StoreOp[] = []
    for (const stored of await this.customers.values()) {
      const { profile: embedded, ...record } = stored as CustomerRecord
      if (embedded !== undefined) {
        moved.push(this.customers.putOp(record.venId, record))
        if (!profiles.has(record.venId)) {
          profiles.set(record.venId, embedded)
          moved.push(this.profiles.putOp(record.venId, embedded))
        }
      }
      const profile = profiles.get(record.venId)
      const c: CustomerRecord = profile === undefined ? record : { ...record, profile }
      this.byId.set(c.venId, c)
      const tail = await this.reports.values({ ...Table.prefixRange(c.venId + '\0'), reverse: true, limit: this.tailLength })
      this.tails.set(c.venId, tail.reverse())
    }
    if (moved.length > 0) await this.writes.write(moved)
  }

  /** Calls `listener` after each change of a customer's record (not of its readings); returns the unsubscribe. */
  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private changed (): void {
    for (const listener of this.listeners) listener()
  }

  /** Calls `listener` after each stored registration, capability update, reading batch or deregistration. */
  onActivity (listener: (e: CustomerActivity) => void): () => void {
    this.activity.add(listener)
    return () => { this.activity.delete(listener) }
  }

  private emit (e: CustomerActivity): void {
    for (const listener of this.activity) listener(e)
  }

  get (venId: string): CustomerRecord | undefined { return this.byId.get(venId) }
  /** In venID order, not registration order (which concurrent registrations make vary): sums and ties come out the same every run. */
  all (): CustomerRecord[] {
    // Sorted once per change of membership: decisions call this for every customer on hot paths.
    if (this.sortedIds === null || this.sortedIds.length !== this.byId.size) this.sortedIds = [...this.byId.keys()].sort()
    return this.sortedIds.map(id => this.byId.get(id) as CustomerRecord)
  }

  inMarket (marketContext: string): CustomerRecord[] {
    return this.all().filter(c => c.marketContexts.includes(marketContext) && c.capabilities !== null)
  }

  async register (venId: string, venName: string, marketContexts: string[], atMs: number): Promise<CustomerRecord> {
    if (venId === '' || venId.includes('\0')) throw new CustomerError(`invalid venID ${JSON.stringify(venId)}`)
    const existing = this.byId.get(venId)
    // A customer registering again under its venID (a re-registration) is the same customer: it keeps its
    // forecast-error profile, which intra matchmaking reads to ask it past what it declared.
    const record: CustomerRecord = {
      venId, venName, marketContexts, registeredAtMs: existing?.registeredAtMs ?? atMs, capabilities: existing?.capabilities ?? null,
      ...(existing?.profile !== undefined ? { profile: existing.profile } : {})
    }
    this.byId.set(venId, record)
    await this.writes.write([this.customers.putOp(venId, storedRecord(record))])
    this.changed()
    this.emit({ kind: 'registered', venId, venName, marketContexts, atMs })
    return record
  }

  async setCapabilities (venId: string, capabilities: CustomerCapabilities, marketContexts?: string[], options: BookWriteOptions = {}): Promise<CustomerRecord> {
    const existing = this.byId.get(venId)
    if (existing === undefined) throw new CustomerError(`unknown customer ${venId}`)
    checkCapabilities(capabilities)
    const record = { ...existing, capabilities, marketContexts: marketContexts ?? existing.marketContexts }
    this.byId.set(venId, record)
    await this.commit([this.customers.putOp(venId, storedRecord(record))], options)
    this.changed()
    this.emit({ kind: 'capabilities', venId, capabilities, marketContexts: record.marketContexts })
    return record
  }

  async deregister (venId: string): Promise<boolean> {
    if (!this.byId.has(venId)) return false
    await this.writes.write([this.customers.delOp(venId), this.profiles.delOp(venId)])
    this.byId.delete(venId)
    this.sortedIds = null
    this.changed()
    this.emit({ kind: 'deregistered', venId })
    return true
  }

  /**
   * Stores readings before acknowledging them (unless `replayable`); a reading already stored (same customer
   * and time) is kept once. A reading newer than the customer's latest updates its error profile, in the same
   * batch (so a replayed reading is not counted twice): the readings and the profiles are written, not the records.
   */
  async record (readings: Reading[], options: BookWriteOptions = {}): Promise<void> {
    for (const r of readings) {
      if (!this.byId.has(r.venId)) throw new CustomerError(`unknown customer ${r.venId}`)
      if (!Number.isFinite(r.kw) || !Number.isFinite(r.atMs) || r.atMs < 0) throw new CustomerError(`invalid reading for ${r.venId}`)
    }
    const profiled = new Map<string, CustomerRecord>()
    const latest = new Map<string, number>()
    for (const r of [...readings].sort((a, b) => a.atMs - b.atMs)) {
      const last = latest.get(r.venId) ?? this.lastReadingMs(r.venId) ?? -Infinity
      if (r.atMs <= last) continue
      latest.set(r.venId, r.atMs)
      const c = profiled.get(r.venId) ?? this.byId.get(r.venId) as CustomerRecord
      const expected = this.expectedKw(c, r.atMs)
      if (expected === undefined) continue
      profiled.set(r.venId, { ...c, profile: updateProfile(c.profile ?? emptyProfile(), [expected], [r.kw]) })
    }
    const ops = [...readings.map(r => this.reports.putOp(readingKey(r), r)), ...[...profiled.values()].map(c => this.profiles.putOp(c.venId, c.profile as ErrorProfile))]
    for (const c of profiled.values()) this.byId.set(c.venId, c)
    for (const r of readings) {
      const tail = this.tails.get(r.venId) ?? []
      if (r.atMs > (tail.at(-1)?.atMs ?? -Infinity)) {
        tail.push(r)
        if (tail.length > this.tailLength) tail.shift()
      } else if (!tail.some(x => x.atMs === r.atMs)) {
        tail.push(r)
        tail.sort((a, b) => a.atMs - b.atMs)
        if (tail.length > this.tailLength) tail.shift()
      }
      this.tails.set(r.venId, tail)
    }
    await this.commit(ops, options, readings.reduce((newest, r) => Math.max(newest, r.atMs), 0))
    const newest = new Map<string, number>()
    for (const r of readings) newest.set(r.venId, Math.max(newest.get(r.venId) ?? -Infinity, r.atMs))
    for (const [venId, atMs] of newest) this.emit({ kind: 'reported', venId, atMs })
  }

  /** Stages or writes `ops` as `options` say; `atMs` is the clock time they describe. */
  private async commit (ops: StoreOp[], options: BookWriteOptions, atMs?: number): Promise<void> {
    if (options.replayable === true) this.writes.stage(ops, atMs)
    else await this.writes.write(ops)
  }

  /** Every stored reading of a customer in [fromMs, toMs), from the store (not only the in-memory tail). */
  async history (venId: string, fromMs: number, toMs: number): Promise<Reading[]> {
    await this.writes.flush()
    const from = Math.max(0, Math.ceil(fromMs))
    return await this.reports.values({
      gte: readingKey({ venId, atMs: from, kw: 0 }),
      lt: Number.isFinite(toMs) ? readingKey({ venId, atMs: Math.ceil(toMs), kw: 0 }) : `${venId}\u0001`
    })
  }

  /** Readings of a customer in [fromMs, toMs]. */
  readings (venId: string, fromMs: number, toMs: number): Reading[] {
    // The tail is in time order and monitoring asks for an interval's few readings at every checkpoint: a
    // binary search for the first, not a scan of the whole tail.
    const tail = this.tails.get(venId)
    if (tail === undefined) return []
    let lo = 0
    let hi = tail.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((tail[mid] as Reading).atMs < fromMs) lo = mid + 1
      else hi = mid
    }
    let end = lo
    while (end < tail.length && (tail[end] as Reading).atMs <= toMs) end++
    return tail.slice(lo, end)
  }

  lastReadingMs (venId: string): number | undefined {
    return this.tails.get(venId)?.at(-1)?.atMs
  }
}

function storedRecord (c: CustomerRecord): StoredRecord {
  return { venId: c.venId, venName: c.venName, marketContexts: c.marketContexts, registeredAtMs: c.registeredAtMs, capabilities: c.capabilities }
}

/** A customer's baseline over a window from its reported forecast alone. */
export function reportedBaseline (c: CustomerRecord, window: LedgerWindow): number[] {
  if (c.capabilities === null) return new Array<number>(window.intervals).fill(0)
  return onWindow(c.capabilities.baselineKw, c.capabilities, window)
}

function readingKey (r: Reading): string {
  return `${r.venId}\0${String(Math.round(r.atMs)).padStart(timeDigits, '0')}`
}

function checkCapabilities (c: CustomerCapabilities): void {
  const series = [c.baselineKw, c.flexUpKw, c.flexDownKw]
  if (series.some(s => !Array.isArray(s) || s.length === 0 || !s.every(Number.isFinite))) {
    throw new CustomerError('baselineKw, flexUpKw and flexDownKw must be non-empty arrays of numbers')
  }
  if ([...c.flexUpKw, ...c.flexDownKw].some(v => v < 0)) throw new CustomerError('flexUpKw and flexDownKw must be ≥ 0')
  if (!(c.forecastIntervalMs > 0)) throw new CustomerError('forecastIntervalMs must be > 0')
}

/** The value of a forecast-grid series at each interval of the window. */
export function onWindow (series: number[], c: CustomerCapabilities, window: LedgerWindow): number[] {
  // A loop, not Array.from with a callback: every customer's baseline and flexibility go through here at each new forecast.
  const out: number[] = []
  for (let t = 0; t < window.intervals; t++) {
    const at = window.startMs + t * window.intervalMs
    const index = Math.max(0, Math.floor((at - c.forecastStartMs) / c.forecastIntervalMs))
    out.push(series[Math.min(index, series.length - 1)] ?? 0)
  }
  return out
}

export function windowOf (request: DrRequest): LedgerWindow {
  return { startMs: request.startMs, intervalMs: request.intervalMs, intervals: request.amountsKw.length }
}

export interface MeasureOptions {
  intervalIndex: number
  final: boolean
  checkAtMs: number
  graceMs: number
  /**
   * Per customer, the change (setpoint − baseline, kW) the node's other live events dispatched at this
   * checkpoint: their part of the aggregate, judged by them, not by this event. @default none
   */
  othersChangeKw?: ReadonlyMap<string, number>
  /** Per customer, when the node's other live events last changed its setpoints (ms): its readings before are stale too. @default none */
  othersRevisedAtMs?: ReadonlyMap<string, number>
  /** Cover fellow nodes committed to this event for this interval (kW, signed like a deviation). @default 0 */
  interCoveredKw?: number
  /** How long a customer takes to pick up a new setpoint (its poll period, ms): readings before are stale. @default 0 */
  pickupMs?: number
}

/** What the node has seen of one customer in the interval of a checkpoint, attributable to the event. */
export interface CustomerObservation {
  venId: string
  /** Forecast baseline of the interval (kW). */
  baselineKw: number
  setpointKw: number | undefined
  /** Its latest reading in the interval so far (kW), undefined when it has none (silent). */
  latestKw: number | undefined
  /** Mean of its readings in the interval so far (kW). */
  meanKw: number | undefined
  /** Its latest reading was taken before its last new setpoint can have reached it: not to be judged on it. */
  pending: boolean
  /** Only other events dispatched it: they judge it, this event counts it at its baseline. */
  others: boolean
}

/** Per customer of the event's market context, what the checkpoint at `checkAtMs` has seen of it. */
export function observe (book: CustomerBook, request: DrRequest, plan: DispatchPlan, o: MeasureOptions): CustomerObservation[] {
  const window = windowOf(request)
  const t = o.intervalIndex
  const intervalStartMs = request.startMs + t * request.intervalMs
  const since = Math.max(intervalStartMs, o.checkAtMs - o.graceMs)
  return book.inMarket(request.marketContext).map(c => {
    const baselineKw = book.windowBaseline(c, window)[t] ?? 0
    const setpointKw = plan.setpointsKw[c.venId]?.[t]
    const others = o.othersChangeKw?.get(c.venId)
    // A reading stamped at the interval's start describes the period before it. The mean is the interval's
    // so far; the latest reading must be within the grace period.
    const readings = book.readings(c.venId, intervalStartMs, o.checkAtMs).filter(r => r.atMs > intervalStartMs)
    if (setpointKw === undefined && others !== undefined) {
      return { venId: c.venId, baselineKw, setpointKw, latestKw: undefined, meanKw: undefined, pending: false, others: true }
    }
    const own = (kw: number): number => kw - (others ?? 0)
    const latest = readings.filter(r => r.atMs >= since).at(-1)
    const revisedAtMs = Math.max(plan.revisedAtMs?.[c.venId] ?? -Infinity, o.othersRevisedAtMs?.get(c.venId) ?? -Infinity)
    return {
      venId: c.venId,
      baselineKw,
      setpointKw,
      latestKw: latest === undefined ? undefined : own(latest.kw),
      // A customer this event did not dispatch counts at its latest reading: earlier ones may carry the change of
      // an event that has ended since, which this event cannot take out any more.
      meanKw: readings.length === 0 ? undefined : setpointKw === undefined ? own((latest ?? readings.at(-1) as Reading).kw) : readings.reduce((sum, r) => sum + own(r.kw), 0) / readings.length,
      pending: latest !== undefined && latest.atMs < revisedAtMs + (o.pickupMs ?? 0),
      others: false
    }
  })
}

/** What a customer is expected to draw for the rest of the interval, from what was seen of it. */
export function expectedFlowKw (c: CustomerObservation): number {
  if (c.others) return c.baselineKw
  if (c.setpointKw !== undefined) return c.pending ? c.setpointKw : c.latestKw ?? c.baselineKw
  return c.latestKw ?? c.baselineKw
}

/**
 * One monitoring checkpoint of one event. The aggregate is the interval's expected mean flow: the mean of
 * the readings so far over the part of the interval already past, and what each customer is expected to
 * draw (`expectedFlowKw`) over the rest; at the checkpoint that closes the interval, its measured mean.
 * A dispatched customer without a reading inside the grace period is missing (and counted at its baseline,
 * i.e. not acting); a customer not dispatched and silent is counted at its baseline. Each event judges only
 * what is attributable to it: a customer's change dispatched by another live event is taken out of its
 * flow (a customer only the other events dispatched counts at its baseline, they judge it), and the cover
 * fellows committed to this event is what its own customers need not deliver. A dispatched customer whose
 * latest reading predates its new setpoint is not judged yet. Both invariants are checked by the chart.
 */
export function measure (book: CustomerBook, request: DrRequest, plan: DispatchPlan, o: MeasureOptions): Measurement {
  const t = o.intervalIndex
  const intervalStartMs = request.startMs + t * request.intervalMs
  const elapsed = o.final ? 1 : Math.min(1, Math.max(0, (o.checkAtMs - intervalStartMs) / request.intervalMs))
  let aggregateKw = 0
  let baselineKw = 0
  const customerDeviationsKw: Record<string, number> = {}
  const missing: string[] = []
  // A cover run for a fellow answers for the change of the customers it dispatched, not for the drift of the
  // others: the node's own upstream event answers for that.
  const coverOnly = request.origin === 'peer'
  for (const c of observe(book, request, plan, o)) {
    baselineKw += c.baselineKw
    if (coverOnly && c.setpointKw === undefined) {
      aggregateKw += c.baselineKw
      continue
    }
    const expected = expectedFlowKw(c)
    aggregateKw += (c.meanKw ?? expected) * elapsed + expected * (1 - elapsed)
    if (c.setpointKw === undefined || c.others) continue
    if (c.latestKw === undefined) missing.push(c.venId)
    else if (!c.pending) customerDeviationsKw[c.venId] = c.latestKw - c.setpointKw
  }
  const amount = request.amountsKw[t] ?? 0
  const requestedKw = (request.signalType === 'setpoint' ? amount : baselineKw + amount) + (o.interCoveredKw ?? 0)
  return { intervalIndex: t, final: o.final, checkAtMs: o.checkAtMs, aggregateKw, requestedKw, customerDeviationsKw, missing }
}
