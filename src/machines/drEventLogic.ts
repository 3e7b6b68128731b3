/**
 * Pure arithmetic of the DR-event chart: where the monitoring checkpoints fall, when a measurement violates
 * the two invariants of the paper (section V), and how interval records accumulate cover and shortfall.
 * Everything here is a function of its arguments: the chart's guards and assigns call it, tests check it.
 */
import type { DrEventContext, DrEventInput, IntervalRecord, Measurement } from './drEventTypes.js'

/** Absolute instant of checkpoint `checkIndex` of interval `intervalIndex`; the last one closes the interval. */
export function checkpointMs (startMs: number, intervalMs: number, checksPerInterval: number,
  intervalIndex: number, checkIndex: number): number {
  return startMs + intervalIndex * intervalMs + Math.round((checkIndex + 1) * intervalMs / checksPerInterval)
}

/** The first checkpoint strictly after `nowMs` (the first of the event when it has not begun). */
export function nextCheckpoint (ctx: Pick<DrEventContext, 'request' | 'checksPerInterval'>, nowMs: number):
{ intervalIndex: number, checkIndex: number, nextCheckMs: number } {
  const { startMs, intervalMs, amountsKw } = ctx.request
  const n = ctx.checksPerInterval
  const elapsed = Math.max(0, nowMs - startMs)
  let intervalIndex = Math.floor(elapsed / intervalMs)
  if (intervalIndex >= amountsKw.length) {
    return { intervalIndex: amountsKw.length, checkIndex: 0, nextCheckMs: nowMs }
  }
  let checkIndex = 0
  while (checkpointMs(startMs, intervalMs, n, intervalIndex, checkIndex) <= nowMs) {
    checkIndex++
    if (checkIndex === n) { checkIndex = 0; intervalIndex++ }
    if (intervalIndex >= amountsKw.length) return { intervalIndex, checkIndex: 0, nextCheckMs: nowMs }
  }
  return { intervalIndex, checkIndex, nextCheckMs: checkpointMs(startMs, intervalMs, n, intervalIndex, checkIndex) }
}

/** The checkpoint after the current one; `intervalIndex` equals the interval count once the event is over. */
export function advanceCheckpoint (ctx: Pick<DrEventContext, 'request' | 'checksPerInterval' | 'intervalIndex' | 'checkIndex'>):
{ intervalIndex: number, checkIndex: number, nextCheckMs: number } {
  let { intervalIndex, checkIndex } = ctx
  checkIndex++
  if (checkIndex === ctx.checksPerInterval) { checkIndex = 0; intervalIndex++ }
  const { startMs, intervalMs } = ctx.request
  return { intervalIndex, checkIndex, nextCheckMs: checkpointMs(startMs, intervalMs, ctx.checksPerInterval, intervalIndex, checkIndex) }
}

export function isLastCheckpoint (ctx: Pick<DrEventContext, 'request' | 'checksPerInterval' | 'intervalIndex' | 'checkIndex'>): boolean {
  return ctx.intervalIndex >= ctx.request.amountsKw.length - 1 && ctx.checkIndex >= ctx.checksPerInterval - 1
}

/**
 * Both invariants: every dispatched customer follows its setpoint, and the aggregate (dispatched and not
 * dispatched customers alike) follows the requested setpoint; a missing report counts as a deviation.
 */
export function violatesInvariants (m: Measurement, toleranceKw: number): boolean {
  if (m.missing.length > 0) return true
  if (Math.abs(m.aggregateKw - m.requestedKw) > toleranceKw) return true
  return Object.values(m.customerDeviationsKw).some(d => Math.abs(d) > toleranceKw)
}

export function initialIntervals (amountsKw: number[]): IntervalRecord[] {
  return amountsKw.map((requestedKw, index) => ({
    index, requestedKw, deliveredKw: null, intraCoveredKw: 0, interCoveredKw: 0, shortfallKw: 0
  }))
}

/** Adds per-interval amounts (full-length arrays) into one field of the records. */
export function accumulate (records: IntervalRecord[], field: 'intraCoveredKw' | 'interCoveredKw' | 'shortfallKw',
  amountsKw: number[]): IntervalRecord[] {
  return records.map((r, i) => ({ ...r, [field]: r[field] + (amountsKw[i] ?? 0) }))
}

export function recordDelivered (records: IntervalRecord[], m: Measurement): IntervalRecord[] {
  if (!m.final) return records
  return records.map(r => r.index === m.intervalIndex ? { ...r, deliveredKw: m.aggregateKw } : r)
}

export function hasResidual (residualKw: number[], toleranceKw: number): boolean {
  return residualKw.some(r => Math.abs(r) > toleranceKw)
}

export function initialContext (input: DrEventInput): DrEventContext {
  const request = input.request
  return {
    request,
    toleranceKw: input.toleranceKw ?? 0.5,
    checksPerInterval: input.checksPerInterval ?? 4,
    maxReplans: input.maxReplans ?? 3,
    decision: null,
    peerOffers: [],
    plan: null,
    optedOut: [],
    replans: 0,
    intervalIndex: 0,
    checkIndex: 0,
    nextCheckMs: checkpointMs(request.startMs, request.intervalMs, input.checksPerInterval ?? 4, 0, 0),
    measurement: null,
    residualKw: request.amountsKw.map(() => 0),
    intervals: initialIntervals(request.amountsKw),
    failure: null
  }
}

/** May this node ask fellow nodes on this request's behalf? Not when a peer's request has no hops left. */
export function mayAskPeers (ctx: Pick<DrEventContext, 'request'>): boolean {
  return ctx.request.origin === 'upstream' || (ctx.request.peer?.hopLimit ?? 0) > 0
}
