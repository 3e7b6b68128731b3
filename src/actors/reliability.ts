/**
 * Reliability index r ∈ [0, 1] per subject (a customer, or a fellow node) and market context, learned
 * online from event outcomes.
 *
 * Model: a Beta(α, β) posterior on the probability that the subject delivers what it was asked, starting
 * from the prior Beta(α₀, β₀). Each event contributes one observation with partial credit
 * s = mean over its intervals of 1 − min(1, |delivered − setpoint| / |setpoint − baseline|) (full credit for
 * delivering the requested change exactly, none for delivering nothing or twice too much), as
 * α ← α₀ + λ(α − α₀) + s, β ← β₀ + λ(β − β₀) + (1 − s). The forgetting factor λ discounts old evidence
 * towards the prior, so a subject whose behaviour changes is re-learned within about 1/(1 − λ) events.
 * r is the posterior mean α/(α+β); the posterior sd and an equal-tailed credible interval expose how sure
 * it is (a new subject sits at the prior mean with a wide interval).
 *
 * Fellow nodes are rated by the same model: a cover outcome (committed vs delivered kW) is an event whose
 * baseline is 0 and whose setpoint is the committed amount. Each subject also keeps a pooled record over
 * all its market contexts, used for a context where it has no history yet.
 */
import { betaQuantile } from './stats.js'

export interface BetaRecord {
  alpha: number
  beta: number
  /** Events seen (not discounted). */
  events: number
}

/** subjectId → marketContext (or POOLED) → record; plain JSON. */
export type ReliabilityBook = Record<string, Record<string, BetaRecord>>

export const POOLED = '*'

export interface ReliabilityInit {
  /** Prior pseudo-successes. @default 1 */
  priorAlpha?: number
  /** Prior pseudo-failures. @default 1 */
  priorBeta?: number
  /** Weight kept by past evidence at each new event. @default 0.97 */
  forgetting?: number
  /** Mass of the credible interval. @default 0.9 */
  credibleMass?: number
}

/** One interval of an event as measured: all kW on the subject's own flow. */
export interface IntervalOutcome {
  baselineKw: number
  setpointKw: number
  deliveredKw: number
}

export interface Reliability {
  /** Posterior mean. */
  r: number
  /** Posterior standard deviation. */
  sd: number
  lower: number
  upper: number
  events: number
  /** Which record answered: the context's own, the subject's pooled one, or the prior. */
  source: 'context' | 'pooled' | 'prior'
}

/** Requested changes smaller than this (kW) count as "hold baseline": judged against 0.1 kW of slack. */
const MIN_REQUEST_KW = 0.1

/** Partial credit in [0, 1] of one event; NaN intervals are skipped, an empty event scores NaN. */
export function eventCredit (intervals: readonly IntervalOutcome[]): number {
  let sum = 0; let n = 0
  for (const o of intervals) {
    const requested = Math.abs(o.setpointKw - o.baselineKw)
    const miss = Math.abs(o.deliveredKw - o.setpointKw)
    if (Number.isNaN(requested) || Number.isNaN(miss)) continue
    sum += 1 - Math.min(1, miss / Math.max(requested, MIN_REQUEST_KW)); n++
  }
  return n === 0 ? NaN : sum / n
}

function updated (record: BetaRecord | undefined, credit: number, init: ReliabilityInit): BetaRecord {
  const a0 = init.priorAlpha ?? 1; const b0 = init.priorBeta ?? 1; const lambda = init.forgetting ?? 0.97
  const a = record?.alpha ?? a0; const b = record?.beta ?? b0
  return {
    alpha: a0 + lambda * (a - a0) + credit,
    beta: b0 + lambda * (b - b0) + (1 - credit),
    events: (record?.events ?? 0) + 1
  }
}

/** The book after one event of `subjectId` in `marketContext`; an event with no usable interval changes nothing. */
export function recordOutcome (book: ReliabilityBook, subjectId: string, marketContext: string,
  intervals: readonly IntervalOutcome[], init: ReliabilityInit = {}): ReliabilityBook {
  const credit = eventCredit(intervals)
  if (Number.isNaN(credit)) return book
  const own = book[subjectId] ?? {}
  const next = { ...own, [marketContext]: updated(own[marketContext], credit, init) }
  if (marketContext !== POOLED) next[POOLED] = updated(own[POOLED], credit, init)
  return { ...book, [subjectId]: next }
}

/** A fellow node's cover outcome as an event: baseline 0, setpoint the committed kW. */
export function coverIntervals (committedKw: readonly number[], deliveredKw: readonly number[]): IntervalOutcome[] {
  return committedKw.map((c, t) => ({ baselineKw: 0, setpointKw: c, deliveredKw: deliveredKw[t] ?? NaN }))
    .filter(o => o.setpointKw !== 0)
}

/**
 * Credible intervals by (α, β, mass), computed once: the quantiles are numerical inversions (~tens of µs
 * each), asked for every customer at every intra checkpoint, while a record changes once per event and
 * customers without history share the prior's.
 */
const credibleIntervals = new Map<string, { lower: number, upper: number }>()
/** Bounds the memo: past this many, it starts afresh. */
const credibleIntervalsKept = 100_000

export function betaSummary (alpha: number, beta: number, credibleMass = 0.9): { r: number, sd: number, lower: number, upper: number } {
  const s = alpha + beta
  const key = `${alpha}:${beta}:${credibleMass}`
  let interval = credibleIntervals.get(key)
  if (interval === undefined) {
    const tail = (1 - credibleMass) / 2
    interval = { lower: betaQuantile(tail, alpha, beta), upper: betaQuantile(1 - tail, alpha, beta) }
    if (credibleIntervals.size >= credibleIntervalsKept) credibleIntervals.clear()
    credibleIntervals.set(key, interval)
  }
  return { r: alpha / s, sd: Math.sqrt(alpha * beta / (s * s * (s + 1))), lower: interval.lower, upper: interval.upper }
}

/** The subject's reliability in a market context (its pooled record, else the prior, when it has none there). */
export function reliabilityOf (book: ReliabilityBook, subjectId: string, marketContext: string,
  init: ReliabilityInit = {}): Reliability {
  const own = book[subjectId]
  const context = own?.[marketContext]
  const pooled = own?.[POOLED]
  const record = context ?? pooled
  const source = context !== undefined ? 'context' : pooled !== undefined ? 'pooled' : 'prior'
  const summary = betaSummary(record?.alpha ?? init.priorAlpha ?? 1, record?.beta ?? init.priorBeta ?? 1, init.credibleMass)
  return { ...summary, events: record?.events ?? 0, source }
}
