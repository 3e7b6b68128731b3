/**
 * The DR-event chart's decisions as the agent runs them, over the node's real parts: the opt decision from
 * what the ledger says is still available, the optimal dispatch (src/actors/dispatch), monitoring from the
 * customers' readings, intra matchmaking (src/actors/intra), inter matchmaking through the port
 * (src/actors/inter for the split), reservations in the ledger, reliabilities after completion.
 *
 * Each function is idempotent for one event, modification and checkpoint: a re-run after a crash reserves
 * the same kW under the same reservation ids and sends customers the same revision.
 */
import { dispatch, type DispatchPlan as SolvedDispatch, type DispatchProblem } from '../actors/dispatch/index.js'
import { matchIntra, paperCapacityKw, type IntraCustomer } from '../actors/intra.js'
import { allocateToPeers } from '../actors/inter.js'
import { recordOutcome, reliabilityOf, type IntervalOutcome, type ReliabilityBook } from '../actors/reliability.js'
import type { CustomerCapabilities } from '../machines/customerSession.js'
import type { DispatchPlan, DrRequest, InterResult, IntraResult, Measurement, OptDecision } from '../machines/drEventTypes.js'
import type { Clock } from '../util/clock.js'
import type { CoverRequest, InterMatchmakingPort, PeerOffer } from './interMatchmaking.js'
import { InsufficientFlexibilityError, type FreeProfile, type Reservation, type ReservationLedger, type ReserveOptions } from './ledger.js'
import { expectedFlowKw, observe, windowOf, type CustomerBook, type CustomerRecord } from './agentCustomers.js'
import { recover, type RecoveryCustomer } from '../actors/recovery.js'
import type { NodeConfig } from './config.js'

export interface DecisionComponents {
  book: CustomerBook
  ledger: ReservationLedger
  port: InterMatchmakingPort
  clock: Clock
  config: NodeConfig
  reliability: () => ReliabilityBook
  /** Solves a dispatch problem; the agent hands it to its worker pool so that polls and timers never wait on a solve. @default in this thread */
  solve?: (problem: DispatchProblem) => Promise<SolvedDispatch>
  /** The customer's cluster from the last clustering run, for the cluster-profile dispatch. @default none */
  clusterOf?: (venId: string) => number | undefined
  /**
   * Whether the customer may take on a fellow node's cover: the agent offers only customers that report and
   * follow what the node's live events ask of them (a silent, failed or ignoring one would deliver nothing). @default always
   */
  mayCover?: (venId: string) => boolean
}

/**
 * Reliability prior for customers and peers without history: Beta(9, 1), r = 0.9. The flat Beta(1, 1)
 * gives r = 0.5, and intra matchmaking, which asks x with r·x = cover, would then ask twice the deviation
 * of customers that in fact comply, turning every shortage into an excess of the same size.
 */
export const reliabilityPrior = { priorAlpha: 9, priorBeta: 1 }

export const holderOf = (eventId: string): string => `event:${eventId}`

const zeros = (n: number): number[] => new Array<number>(n).fill(0)

/** A customer's flexibility over an event's window, its own reservation counted as free, and the setpoints it allows. */
interface WindowRow {
  own: Reservation | undefined
  baselineKw: readonly number[]
  flex: FreeProfile
  /** Lowest and highest setpoint per interval (baseline − flexDown, baseline + flexUp), once intra matchmaking asks. */
  range?: { minKw: readonly number[], maxKw: readonly number[] }
}

/**
 * Rows by the ledger's answer they were computed from: intra matchmaking asks for every customer's row at every
 * checkpoint, and the ledger gives the same answer while the customer's reservations and flexibility stand. A
 * row stands while the event's own reservation and the baseline (by identity: src/node/windowSeries.ts keeps
 * one per forecast) stand too.
 */
const windowRows = new WeakMap<FreeProfile, WindowRow>()

/** Baseline and flexibility of one customer over the event window, the event's own reservations counted as free. */
async function customerWindow (d: DecisionComponents, c: CustomerRecord, request: DrRequest) {
  const caps = c.capabilities as CustomerCapabilities
  const window = windowOf(request)
  const free = await d.ledger.available(c.venId, window)
  const own = d.ledger.heldBy(holderOf(request.eventId), c.venId, window.startMs)
  const baselineKw = d.book.windowBaseline(c, window)
  let row = windowRows.get(free)
  if (row === undefined || row.own !== own || row.baselineKw !== baselineKw) {
    row = {
      own,
      baselineKw,
      flex: {
        flexUpKw: free.flexUpKw.map((v, t) => v + (own?.upKw[t] ?? 0)),
        flexDownKw: free.flexDownKw.map((v, t) => v + (own?.downKw[t] ?? 0))
      }
    }
    windowRows.set(free, row)
  }
  return { caps, baselineKw, flex: row.flex, row }
}

function rangeOf (row: WindowRow): { minKw: readonly number[], maxKw: readonly number[] } {
  row.range ??= {
    minKw: row.baselineKw.map((b, k) => b - (row.flex.flexDownKw[k] ?? 0)),
    maxKw: row.baselineKw.map((b, k) => b + (row.flex.flexUpKw[k] ?? 0))
  }
  return row.range
}

/** Requested change of the aggregate per interval (kW; negative = reduce). */
function requestedChange (request: DrRequest, baselineTotal: number[]): number[] {
  return request.amountsKw.map((a, t) => request.signalType === 'delta' ? a : a - (baselineTotal[t] ?? 0))
}

/** Whether an event may dispatch the customer: a fellow's cover takes only customers fit to cover. */
function eligible (d: DecisionComponents, request: DrRequest, venId: string): boolean {
  return request.origin !== 'peer' || (d.mayCover?.(venId) ?? true)
}

/** The opt decision over the customers not `busy` with the node's other live events (a customer serves one at a time). */
export async function decideOpt (d: DecisionComponents, request: DrRequest, busy: ReadonlySet<string> = new Set()): Promise<OptDecision> {
  const customers = d.book.inMarket(request.marketContext).filter(c => !busy.has(c.venId) && eligible(d, request, c.venId))
  const rows = await Promise.all(customers.map(async c => await customerWindow(d, c, request)))
  const T = request.amountsKw.length
  const baselineTotal = zeros(T).map((_, t) => rows.reduce((s, r) => s + (r.baselineKw[t] ?? 0), 0))
  const change = requestedChange(request, baselineTotal)
  const possible = change.map((c, t) => {
    const room = rows.reduce((s, r) => s + ((c < 0 ? r.flex.flexDownKw[t] : r.flex.flexUpKw[t]) ?? 0), 0)
    return Math.sign(c) * Math.min(Math.abs(c), room)
  })
  const fully = possible.every((p, t) => Math.abs(p - (change[t] ?? 0)) <= d.config.toleranceKw)
  if (request.origin === 'upstream') {
    return fully
      ? { accept: true, committedKw: request.amountsKw }
      : { accept: false, committedKw: zeros(T), reason: 'not enough flexibility available in this market context' }
  }
  // A fellow node is answered with what this node can commit, even if that is only part of what it asked.
  const any = possible.some(p => Math.abs(p) > d.config.toleranceKw)
  return any ? { accept: true, committedKw: possible } : { accept: false, committedKw: zeros(T), reason: 'no flexibility available' }
}

export async function queryPeers (d: DecisionComponents, request: DrRequest, signal?: AbortSignal): Promise<PeerOffer[]> {
  if (d.config.matchmaking !== 'full') return []
  const window = { marketContext: request.marketContext, startMs: request.startMs, intervalMs: request.intervalMs, intervals: request.amountsKw.length }
  return await d.port.queryFlexibility(window, undefined, { signal })
}

/** The optimal dispatch over the customers not excluded, reserved in the ledger (all or nothing). */
export async function planDispatch (d: DecisionComponents, request: DrRequest, excluded: string[]): Promise<DispatchPlan> {
  const customers = d.book.inMarket(request.marketContext).filter(c => !excluded.includes(c.venId) && d.book.dispatchable(c.venId) && eligible(d, request, c.venId))
  const T = request.amountsKw.length
  const holder = holderOf(request.eventId)
  if (customers.length === 0) {
    await d.ledger.release(holder)
    const change = requestedChange(request, zeros(T))
    return { setpointsKw: {}, uncoveredKw: change.map(c => -c) }
  }
  const rows = await Promise.all(customers.map(async c => await customerWindow(d, c, request)))
  const N = customers.length
  const grid = (f: (i: number, t: number) => number): Float64Array => {
    const a = new Float64Array(N * T)
    for (let i = 0; i < N; i++) for (let t = 0; t < T; t++) a[i * T + t] = f(i, t)
    return a
  }
  const problem: DispatchProblem = {
    customers: N,
    intervals: T,
    intervalMs: request.intervalMs,
    request: request.signalType === 'delta'
      ? { kind: 'delta', deltaKw: Float64Array.from(request.amountsKw) }
      : { kind: 'setpoint', setpointKw: Float64Array.from(request.amountsKw) },
    baselineKw: grid((i, t) => rows[i]?.baselineKw[t] ?? 0),
    flexUpKw: grid((i, t) => rows[i]?.flex.flexUpKw[t] ?? 0),
    flexDownKw: grid((i, t) => rows[i]?.flex.flexDownKw[t] ?? 0),
    costUpPerKwh: Float64Array.from(rows.map(r => r.caps.costUpPerKwh)),
    costDownPerKwh: Float64Array.from(rows.map(r => r.caps.costDownPerKwh)),
    pricePerKwh: new Float64Array(T),
    ...clusterField(d, customers)
  }
  const solved = await (d.solve ?? dispatch)(problem)
  const setpointsKw: Record<string, number[]> = {}
  const reservations = []
  for (let i = 0; i < N; i++) {
    const change = Array.from(solved.changeKw.subarray(i * T, (i + 1) * T))
    if (change.every(c => Math.abs(c) < 1e-9)) continue
    const venId = (customers[i] as CustomerRecord).venId
    setpointsKw[venId] = Array.from(solved.setpointKw.subarray(i * T, (i + 1) * T))
    reservations.push({ customerId: venId, window: windowOf(request), upKw: change.map(c => Math.max(0, c)), downKw: change.map(c => Math.max(0, -c)) })
  }
  await d.ledger.release(holder)
  await d.ledger.reserve(holder, reservations)
  // Readings from before the customers can have picked this plan up do not judge them on it.
  const now = d.clock.now()
  return { setpointsKw, uncoveredKw: Array.from(solved.shortfallKw), revisedAtMs: Object.fromEntries(Object.keys(setpointsKw).map(v => [v, now])) }
}

/** What intra matchmaking needs beyond the measurement: fellows' cover committed so far, per interval. */
export interface IntraContext {
  /** Cover fellow nodes committed to this event for interval t (kW, signed like a deviation). @default 0 */
  interCoveredKw?: (index: number) => number
  /** Per customer, the change the node's other live events dispatched at an instant (kW). @default none */
  othersChangeKw?: (atMs: number) => ReadonlyMap<string, number>
  /** Per customer, when the node's other live events last changed its setpoints (ms). @default none */
  othersRevisedAtMs?: () => ReadonlyMap<string, number>
  /** Customers the node's other live events dispatched: not moved for this one. @default none */
  othersDispatched?: () => ReadonlySet<string>
}

/** The largest make-up of a previous interval's energy, as a share of an interval's requested change. */
const makeUpShare = 0.02

/**
 * How far past the request the node aims, as a share of each interval's requested change. Energy is settled
 * interval by interval and what goes past the request is not paid, but the node's view of its aggregate is off
 * by a kilowatt or two (silent customers count at their forecast): aiming a little past trades some unpaid
 * energy for intervals that would otherwise close short without the node seeing it.
 */
const aimShare = 0.01

/** How far (kW) a reading may stop short of its setpoint for the customer still to count as holding it. */
const holdingSlackKw = 0.01

/** Forecast errors profiled before a customer's error spread is trusted. */
const minProfileSamples = 8

/** The sd of a customer's forecast error (kW), 0 until enough of it is profiled. */
function forecastErrorSdKw (c: CustomerRecord): number {
  const p = c.profile
  return p === undefined || p.samples < minProfileSamples ? 0 : Math.sqrt(Math.max(0, p.varianceKw2))
}

/** How fast a customer's forecast error fades from one interval to the next when predicting its drift. */
const driftPersistence = 0.8

/**
 * Reliabilities by book, market context and customer: intra matchmaking asks for every customer's at every
 * checkpoint, while the book changes once per event (a new object: src/actors/reliability.ts never changes one).
 */
const reliabilities = new WeakMap<ReliabilityBook, Map<string, Map<string, number>>>()

function reliabilityIn (book: ReliabilityBook, venId: string, marketContext: string): number {
  let byContext = reliabilities.get(book)
  if (byContext === undefined) reliabilities.set(book, byContext = new Map())
  let byCustomer = byContext.get(marketContext)
  if (byCustomer === undefined) byContext.set(marketContext, byCustomer = new Map())
  let r = byCustomer.get(venId)
  if (r === undefined) byCustomer.set(venId, r = reliabilityOf(book, venId, marketContext, reliabilityPrior).r)
  return r
}

/**
 * Intra matchmaking at a checkpoint. With the `corrected` strategy (the default), the aggregate's expected
 * gap to the target is closed per interval from the current one on (src/actors/recovery.ts): dispatched
 * customers are expected to keep the share of their change they show, silent ones to deliver nothing; the
 * others, and partial compliers at the share they show, are moved, most reliable first, within what they
 * declared, then those holding their setpoint past it by their forecast error; what they cannot close is the
 * residual left for inter matchmaking. The `paper` strategy covers each deviating customer on its own, as
 * the paper prints it (`intraMatchPaper`).
 */
export async function intraMatch (d: DecisionComponents, request: DrRequest, plan: DispatchPlan, m: Measurement, ctx: IntraContext = {}): Promise<IntraResult> {
  if (d.config.intraStrategy === 'paper') return await intraMatchPaper(d, request, plan, m)
  const T = request.amountsKw.length
  const t = m.intervalIndex
  const t0 = m.final ? t + 1 : t
  const aggregateDeviation = m.aggregateKw - m.requestedKw
  const fromNow = (v: number): number[] => zeros(T).map((_, k) => k >= t0 ? v : 0)
  if (d.config.matchmaking === 'none' || t0 >= T) return { plan, coveredKw: zeros(T), residualKw: fromNow(aggregateDeviation), chosen: [] }
  const intervalStartMs = request.startMs + t * request.intervalMs
  const checkAtMs = m.checkAtMs ?? Math.min(d.clock.now(), intervalStartMs + request.intervalMs)
  const observed = new Map(observe(d.book, request, plan, {
    intervalIndex: t, final: m.final, checkAtMs, graceMs: d.config.reportGraceMs, pickupMs: d.config.customerPollMs,
    ...(ctx.othersChangeKw !== undefined ? { othersChangeKw: ctx.othersChangeKw(checkAtMs - 1) } : {}),
    ...(ctx.othersRevisedAtMs !== undefined ? { othersRevisedAtMs: ctx.othersRevisedAtMs() } : {})
  }).map(o => [o.venId, o]))
  const book = d.reliability()
  const customers = d.book.inMarket(request.marketContext)
  const rows = await Promise.all(customers.map(async c => await customerWindow(d, c, request)))
  // The share of what they were asked that the dispatched customers show now, customer by customer (one large
  // customer failing says little of the others): what one asked for the first time in this event is expected
  // to deliver (a following customer has shown it).
  let judged = 0
  let showing = 0
  for (const o of observed.values()) {
    const asked = (o.setpointKw ?? o.baselineKw) - o.baselineKw
    if (o.setpointKw === undefined || o.pending || o.others || Math.abs(asked) < d.config.toleranceKw) continue
    judged++
    showing += Math.max(0, Math.min(1, ((o.latestKw ?? o.baselineKw) - o.baselineKw) / asked))
  }
  // With the customers' prior (Beta(9, 1)) for a start: a handful of customers is no statistic.
  const eventCompliance = (showing + reliabilityPrior.priorAlpha) / (judged + reliabilityPrior.priorAlpha + reliabilityPrior.priorBeta)
  const elsewhere = ctx.othersDispatched?.() ?? new Set<string>()
  // driftPersistence ** j for j intervals ahead, once per checkpoint rather than per customer and interval.
  const persistence = zeros(T).map((_, j) => driftPersistence ** j)
  let soFarKw = 0
  const pool: RecoveryCustomer[] = customers.map((c, i) => {
    const row = rows[i] as Awaited<ReturnType<typeof customerWindow>>
    const o = observed.get(c.venId)
    const base = row.baselineKw
    const setpointKw = plan.setpointsKw[c.venId] ?? base
    const dispatched = plan.setpointsKw[c.venId] !== undefined
    const off = o === undefined || o.others || o.latestKw === undefined ||
      (dispatched && !o.pending && Math.abs(o.latestKw - (o.setpointKw ?? 0)) > d.config.toleranceKw)
    const known = reliabilityIn(book, c.venId, request.marketContext)
    // One following its setpoint has shown it complies; one not yet judged on what it was asked is expected
    // to do what the customers asked so far in this event did.
    const reliability = dispatched && o?.pending !== true ? known : Math.min(known, eventCompliance)
    // Not yet reached by its new setpoint: it keeps what its latest reading shows and is expected to deliver r of
    // the rest (of its whole change from baseline when it has no reading).
    const before = o?.latestKw ?? base[t] ?? 0
    const notYet = (setpointKw[t] ?? 0) - before
    const expectedAt = (k: number): number => (setpointKw[k] ?? 0) - (1 - reliability) * notYet
    // A cover for a fellow answers for its own customers' change only (see measure()).
    const counted = dispatched || request.origin !== 'peer'
    const expectedNow = o === undefined || !counted ? base[t] ?? 0 : o.pending && dispatched ? expectedAt(t) : expectedFlowKw(o)
    soFarKw += counted ? o?.meanKw ?? expectedNow : expectedNow
    // A dispatched customer keeps the share of its change it showed, one following its setpoint too: a partial
    // complier asked for little stays within tolerance of its setpoint, and over a hundred customers that adds
    // up to kilowatts the next interval would miss. One not dispatched keeps its drift.
    const changeT = (setpointKw[t] ?? 0) - (base[t] ?? 0)
    const shareShown = o?.latestKw === undefined ? 0 : Math.abs(changeT) > 1e-6 ? Math.min(1, Math.max(0, (o.latestKw - (base[t] ?? 0)) / changeT)) : 0
    const shown = !off ? (Math.abs(changeT) > d.config.toleranceKw ? shareShown : 1) : shareShown
    const drift = counted && !dispatched && o?.latestKw !== undefined && !o.others ? o.latestKw - (base[t] ?? 0) : 0
    // Recovery reads what a customer is expected to draw from t0 on only.
    const expectedKw = zeros(T)
    for (let k = t0; k < T; k++) {
      const sp = setpointKw[k] ?? 0
      expectedKw[k] = k === t
        ? expectedNow
        : !dispatched
            ? (base[k] ?? 0) + drift * (persistence[k - t] ?? 0)
            : !off && o?.pending === true ? expectedAt(k) : (base[k] ?? 0) + shown * (sp - (base[k] ?? 0))
    }
    // Whether its latest reading shows how it does with a change this event asked of it now.
    const latestKw = o?.latestKw
    const judgedNow = dispatched && o !== undefined && !o.others && !o.pending && latestKw !== undefined && Math.abs(changeT) > d.config.toleranceKw
    // One off its setpoint that showed part of its change (a partial complier) may be asked for more, expected
    // to give that share of it: late in an event it holds much of the flexibility the node has left.
    const partly = off && judgedNow && shareShown >= 0.2
    // One holding its setpoint (not stopping short of it) may have more than it declared: its flexibility is
    // reckoned from a forecast baseline that is off by about its forecast error, which its profile measures.
    const holding = !off && judgedNow && ((setpointKw[t] ?? 0) - latestKw) * Math.sign(changeT) <= holdingSlackKw
    const stretch = holding ? forecastErrorSdKw(c) : 0
    const { minKw, maxKw } = rangeOf(row.row)
    const customer: RecoveryCustomer = {
      customerId: c.venId,
      reliability: partly ? Math.min(reliability, shareShown) : reliability,
      candidate: (!off || partly) && !elsewhere.has(c.venId) && d.book.dispatchable(c.venId),
      setpointKw,
      minKw,
      maxKw,
      expectedKw
    }
    if (stretch > 0) {
      customer.stretchMinKw = minKw.map(v => changeT < 0 ? v - stretch : v)
      customer.stretchMaxKw = maxKw.map(v => changeT > 0 ? v + stretch : v)
    }
    return customer
  })
  const elapsed = m.final ? 1 : Math.min(1, Math.max(0, (checkAtMs - intervalStartMs) / request.intervalMs))
  const baselineTotalKw = request.amountsKw.map((_, k) => sumAt(rows, k))
  const requestedKw = request.amountsKw.map((a, k) => request.signalType === 'setpoint' ? a : a + (baselineTotalKw[k] ?? 0))
  // The energy an interval closed short of (or over) is made up in the next one, within a small share of that
  // interval's requested change: what is settled per interval stays well inside its tolerance, and the event's
  // energy comes out whole. (A failure late in an interval is otherwise never made up.) Only a shortfall is made
  // up: energy is settled interval by interval, so what an interval delivered beyond its request is not paid, and
  // giving it back in the next one would only make that one short.
  const makeUpKw = [...(plan.makeUpKw ?? zeros(T))]
  if (m.final && t + 1 < T) {
    const room = makeUpShare * Math.abs((requestedKw[t + 1] ?? 0) - (baselineTotalKw[t + 1] ?? 0))
    const short = Math.sign(m.aggregateKw - m.requestedKw) === Math.sign((baselineTotalKw[t] ?? 0) - (requestedKw[t] ?? 0))
    makeUpKw[t + 1] = short ? Math.max(-room, Math.min(room, m.requestedKw - m.aggregateKw)) : 0
  }
  const aimKw = requestedKw.map((r, k) => aimShare * (r - (baselineTotalKw[k] ?? 0)))
  const targetKw = requestedKw.map((r, k) => r + (ctx.interCoveredKw?.(k) ?? 0) + (makeUpKw[k] ?? 0) + (aimKw[k] ?? 0))
  const result = recover({
    customers: pool,
    targetKw,
    fromInterval: t0,
    ...(m.final ? {} : { current: { index: t, elapsedShare: elapsed, soFarKw, pickupShare: d.config.customerPollMs / 2 / request.intervalMs } })
  }, { deadbandKw: d.config.toleranceKw / 4 })
  const setpointsKw: Record<string, number[]> = { ...plan.setpointsKw }
  const revisedAtMs: Record<string, number> = { ...plan.revisedAtMs }
  for (const [venId, row] of result.setpointsKw) {
    setpointsKw[venId] = row
    revisedAtMs[venId] = d.clock.now()
  }
  const next: DispatchPlan = { setpointsKw, uncoveredKw: plan.uncoveredKw, revisedAtMs, makeUpKw }
  // Only the customers moved, and what is free of their flexibility: forecasts move during an event.
  await reservePlan(d, request, next, [...result.setpointsKw.keys()], { clamp: true })
  // Fellows cover later intervals; the one in progress only while a good part of it is still ahead of their customers.
  const ahead = 1 - elapsed - d.config.customerPollMs / 2 / request.intervalMs
  const residualKw = result.residualKw.map((r, k) => k > t || (k === t && ahead >= 0.25) ? pastAim(r, aimKw[k] ?? 0) : 0)
  return { plan: next, coveredKw: result.coveredKw, residualKw, chosen: [...result.setpointsKw.keys()] }
}

/**
 * The gap left to the aimed target as a deviation from the request: what falls short of the request itself,
 * nothing while the node is between the request and its aim (fellows are not asked to make up the aim), and
 * what goes past the aim as it is.
 */
function pastAim (residualKw: number, aimKw: number): number {
  const short = -Math.sign(aimKw)
  if (short === 0 || residualKw * short <= 0) return residualKw
  return short * Math.max(0, short * (residualKw + aimKw))
}

function sumAt (rows: Array<{ baselineKw: readonly number[] }>, t: number): number {
  let sum = 0
  for (const r of rows) sum += r.baselineKw[t] ?? 0
  return sum
}

/**
 * The paper's intra matchmaking: covers the deviating customers (dispatched ones off their setpoint, and
 * missing ones, counted as not acting) one by one with the others' spare flexibility, from the current
 * interval on; the node-level drift of customers not dispatched, and what intra cannot cover, is the residual
 * left for inter matchmaking.
 */
async function intraMatchPaper (d: DecisionComponents, request: DrRequest, plan: DispatchPlan, m: Measurement): Promise<IntraResult> {
  const T = request.amountsKw.length
  // At the checkpoint that closes an interval, that interval is over: cover from the next one.
  const t0 = m.final ? m.intervalIndex + 1 : m.intervalIndex
  const aggregateDeviation = m.aggregateKw - m.requestedKw
  const fromNow = (v: number): number[] => zeros(T).map((_, t) => t >= t0 ? v : 0)
  if (d.config.matchmaking === 'none' || t0 >= T) return { plan, coveredKw: zeros(T), residualKw: fromNow(aggregateDeviation), chosen: [] }
  const customers = d.book.inMarket(request.marketContext)
  const rows = await Promise.all(customers.map(async c => await customerWindow(d, c, request)))
  const book = d.reliability()
  const deviations = new Map<string, number>()
  for (const [venId, dev] of Object.entries(m.customerDeviationsKw)) if (Math.abs(dev) > d.config.toleranceKw) deviations.set(venId, dev)
  for (const venId of m.missing) {
    const i = customers.findIndex(c => c.venId === venId)
    const setpoint = plan.setpointsKw[venId]?.[m.intervalIndex] ?? 0
    deviations.set(venId, (rows[i]?.baselineKw[m.intervalIndex] ?? setpoint) - setpoint)
  }
  let intra: IntraCustomer[] = customers.map((c, i) => {
    const row = rows[i] as Awaited<ReturnType<typeof customerWindow>>
    const setpointKw = plan.setpointsKw[c.venId] ?? row.baselineKw
    const dev = deviations.get(c.venId) ?? 0
    return {
      customerId: c.venId,
      reliability: reliabilityOf(book, c.venId, request.marketContext, reliabilityPrior).r,
      errorMeanKw: 0,
      errorSdKw: 0,
      forecastKw: setpointKw.map((s, t) => t >= t0 ? s + dev : s),
      baselineKw: row.baselineKw,
      setpointKw: [...setpointKw],
      flexUpKw: row.flex.flexUpKw.map((f, t) => Math.max(0, f - Math.max(0, (setpointKw[t] ?? 0) - (row.baselineKw[t] ?? 0)))),
      flexDownKw: row.flex.flexDownKw.map((f, t) => Math.max(0, f - Math.max(0, (row.baselineKw[t] ?? 0) - (setpointKw[t] ?? 0))))
    }
  })
  const coveredKw = zeros(T)
  const residualKw = zeros(T)
  const chosen = new Set<string>()
  // Equation (2)'s Σ fʲ rⱼ depends on forecasts and reliabilities, which the matches below leave alone: once.
  const paperCapacity = d.config.intraStrategy === 'paper' ? paperCapacityKw(intra) : undefined
  for (const venId of deviations.keys()) {
    const index = intra.findIndex(c => c.customerId === venId)
    if (index === -1) continue
    const match = matchIntra(intra, index, { strategy: d.config.intraStrategy, deadbandKw: d.config.toleranceKw / 10, paperCapacityKw: paperCapacity })
    for (let t = 0; t < T; t++) {
      coveredKw[t] = (coveredKw[t] ?? 0) + (match.coveredKw[t] ?? 0)
      residualKw[t] = (residualKw[t] ?? 0) + (match.uncoveredKw[t] ?? 0)
    }
    intra = intra.map(c => {
      const change = match.changes.find(x => x.customerId === c.customerId)
      if (change === undefined) return c
      if (change.customerId !== venId) chosen.add(change.customerId)
      return { ...c, setpointKw: change.setpointKw }
    })
  }
  // Drift of customers not dispatched shows only in the aggregate: it goes to inter as it is.
  const explained = [...deviations.values()].reduce((s, v) => s + v, 0)
  const drift = aggregateDeviation - explained
  if (Math.abs(drift) > d.config.toleranceKw) for (let t = t0; t < T; t++) residualKw[t] = (residualKw[t] ?? 0) + drift
  const setpointsKw: Record<string, number[]> = { ...plan.setpointsKw }
  for (const c of intra) if (plan.setpointsKw[c.customerId] !== undefined || chosen.has(c.customerId)) setpointsKw[c.customerId] = Array.from(c.setpointKw)
  const next = { setpointsKw, uncoveredKw: plan.uncoveredKw }
  try {
    await reservePlan(d, request, next)
  } catch (err) {
    if (!(err instanceof InsufficientFlexibilityError)) throw err
    // Another event took the kW meanwhile: nothing was re-dispatched, everything goes to inter.
    return { plan, coveredKw: zeros(T), residualKw: fromNow(aggregateDeviation), chosen: [] }
  }
  return { plan: next, coveredKw, residualKw, chosen: [...chosen] }
}

/** Cluster indices for the dispatch problem; customers clustered after the last run share one more cluster. */
function clusterField (d: DecisionComponents, customers: CustomerRecord[]): { clusterOf?: Int32Array } {
  const known = customers.map(c => d.clusterOf?.(c.venId))
  if (known.every(k => k === undefined)) return {}
  const extra = Math.max(...known.map(k => k ?? -1)) + 1
  return { clusterOf: Int32Array.from(known, k => k ?? extra) }
}

async function reservePlan (d: DecisionComponents, request: DrRequest, plan: DispatchPlan, only?: string[], options: ReserveOptions = {}): Promise<void> {
  const customers = d.book.inMarket(request.marketContext).filter(c => only === undefined || only.includes(c.venId))
  const reservations = []
  for (const c of customers) {
    const setpoint = plan.setpointsKw[c.venId]
    if (setpoint === undefined) continue
    const base = d.book.windowBaseline(c, windowOf(request))
    const change = setpoint.map((s, t) => s - (base[t] ?? 0))
    reservations.push({ customerId: c.venId, window: windowOf(request), upKw: change.map(x => Math.max(0, x)), downKw: change.map(x => Math.max(0, -x)) })
  }
  await d.ledger.reserve(holderOf(request.eventId), reservations, options)
}

/**
 * The path and hops a cover request made on this event's behalf carries: a fellow's request is forwarded
 * with its path extended by this node and one hop less (null once no hop is left); the node's own
 * request starts a path. Nodes on the path are never asked, so covers do not loop A → B → A.
 */
export function onwardRoute (request: DrRequest, selfId: string, ownHopLimit = 2): { hopLimit: number, path: string[] } | null {
  if (request.origin !== 'peer') return { hopLimit: ownHopLimit, path: [selfId] }
  const peer = request.peer
  if (peer === undefined || peer.hopLimit <= 0) return null
  const before = peer.path ?? [peer.fromPeerId]
  if (before.includes(selfId)) return null
  return { hopLimit: peer.hopLimit - 1, path: [...before, selfId] }
}

/** Asks fellow nodes, most reliable first within their live offers, to cover the residual. */
export async function interMatch (d: Pick<DecisionComponents, 'port' | 'clock' | 'config' | 'reliability'>, request: DrRequest,
  residualKw: number[], intervalIndex: number, requestId: string): Promise<InterResult> {
  const none: InterResult = { committedKw: zeros(residualKw.length), residualKw, peersAsked: [] }
  if (d.config.matchmaking !== 'full') return none
  const route = onwardRoute(request, d.config.nodeId)
  if (route === null) return none
  const now = d.clock.now()
  const offers = d.port.advertisedOffers(request.marketContext, now, { marketContext: request.marketContext, ...windowOf(request) })
    .filter(o => !route.path.includes(o.peerId))
  const book = d.reliability()
  // The residual is a deviation (delivered − requested); peers cover it by moving the other way.
  const asked = residualKw.map(r => -r)
  const split = allocateToPeers(asked, offers, peer => reliabilityOf(book, peer, request.marketContext, reliabilityPrior).r, now)
  const committedKw = zeros(residualKw.length)
  for (const [k, allocation] of split.allocations.entries()) {
    const cover: CoverRequest = {
      requestId: `${requestId}:${k}`,
      eventRef: { nodeId: d.config.nodeId, eventId: request.eventId },
      marketContext: request.marketContext,
      startMs: request.startMs,
      intervalMs: request.intervalMs,
      amountsKw: allocation.amountsKw,
      signalType: 'delta',
      deadlineMs: now + request.intervalMs / d.config.checksPerInterval,
      hopLimit: route.hopLimit,
      path: route.path
    }
    const commitment = await d.port.requestCover(allocation.peerId, cover)
    if (!commitment.accepted) continue
    for (let t = intervalIndex; t < committedKw.length; t++) committedKw[t] = (committedKw[t] ?? 0) - (commitment.committedKw[t] ?? 0)
  }
  return {
    committedKw,
    residualKw: residualKw.map((r, t) => r - (committedKw[t] ?? 0)),
    peersAsked: split.allocations.map(a => a.peerId)
  }
}

/** Each dispatched customer's outcome per interval, from its last reading in the interval. */
export function customerOutcomes (d: DecisionComponents, request: DrRequest, plan: DispatchPlan | null): Map<string, IntervalOutcome[]> {
  const out = new Map<string, IntervalOutcome[]>()
  for (const [venId, setpoints] of Object.entries(plan?.setpointsKw ?? {})) {
    const c = d.book.get(venId)
    if (c?.capabilities == null) continue
    const base = d.book.windowBaseline(c, windowOf(request))
    out.set(venId, setpoints.map((setpointKw, t) => {
      const from = request.startMs + t * request.intervalMs
      const last = d.book.readings(venId, from, from + request.intervalMs).at(-1)
      return { baselineKw: base[t] ?? 0, setpointKw, deliveredKw: last?.kw ?? base[t] ?? 0 }
    }))
  }
  return out
}

export function updatedReliability (d: DecisionComponents, request: DrRequest, plan: DispatchPlan | null): ReliabilityBook {
  let book = d.reliability()
  for (const [venId, outcomes] of customerOutcomes(d, request, plan)) book = recordOutcome(book, venId, request.marketContext, outcomes, reliabilityPrior)
  return book
}
