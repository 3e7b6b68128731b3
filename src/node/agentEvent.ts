/**
 * The implementations the agent provides to one DR-event actor (`drEventMachine.provide`): each invoked
 * actor first waits for the transition that started it to be stored (`afterPersist`), then runs its
 * decision (agentDecisions.ts) or its effect through the channels; effect actions go to the outbox as plain
 * data (`Effect`), which the agent stores with the transition and sends after (`runEffect`). The customer revision sent with a re-dispatch is derived from the
 * checkpoint, so a re-run after a crash sends the same revision again (idempotent for the customer).
 */
import { fromPromise } from 'xstate'
import type { ReliabilityBook } from '../actors/reliability.js'
import type { CancelInput, InterInput, IntraInput, MonitorInput, NotifyInput, PlanInput, ReliabilityInput } from '../machines/drEvent.js'
import type {
  CompletionSummary, DispatchPlan, DrRequest, FailureNotice, InterResult, IntraResult, Measurement, NotifyResult,
  OptAnswer, OptDecision, ShortfallNotice, WaitUntilInput, WaitUntilOutput
} from '../machines/drEventTypes.js'
import type { PeerOffer } from './interMatchmaking.js'
import { measure } from './agentCustomers.js'
import {
  decideOpt, holderOf, interMatch, intraMatch, planDispatch, queryPeers, updatedReliability,
  type DecisionComponents
} from './agentDecisions.js'
import type { CustomerChannel, CustomerDispatch, UpstreamChannel } from './agentChannels.js'
import { sameSeries } from '../util/series.js'

/** An effect of a transition, stored with it and sent after it: re-sent after a crash, so each is idempotent. */
export type Effect =
  | { kind: 'answerOpt', params: OptAnswer }
  | { kind: 'reportShortfall', params: ShortfallNotice }
  | { kind: 'reportFailure', params: FailureNotice }

export async function runEffect (effect: Effect, upstream: UpstreamChannel, peerAnswered: (answer: OptAnswer) => void): Promise<void> {
  if (effect.kind === 'answerOpt') {
    if (effect.params.origin === 'peer') peerAnswered(effect.params)
    else await upstream.answer(effect.params)
  } else if (effect.kind === 'reportShortfall') {
    await upstream.shortfall(effect.params)
  } else {
    await upstream.failure(effect.params)
  }
}

/**
 * The times of one recovery within an interval (issue 4's end-to-end budget), on the node's clock:
 * deviation detected (the checkpoint measured) → intra decision taken → new setpoints handed to the
 * customer channel (pushed, or queued for the customers' next poll, due by `pickupByMs`). Recorded in the
 * audit entry of the intra transition; inter matchmaking, when it follows, adds `interAnsweredAtMs`.
 */
export interface RecoveryTiming {
  intervalIndex: number
  detectedAtMs: number
  decidedAtMs: number
  setpointsSentAtMs: number
  pickupByMs: number
  customersChanged: number
}

export type IntervalRecovery = RecoveryTiming & { interAnsweredAtMs?: number }

/** Per interval, the recoveries' times, from an event's audit decisions in order. */
export function intervalBudgets (decisions: unknown[]): Map<number, IntervalRecovery[]> {
  const out = new Map<number, IntervalRecovery[]>()
  for (const decision of decisions) {
    const timing = (decision as { timing?: Partial<IntervalRecovery> & { intervalIndex: number } } | null)?.timing
    if (timing === undefined) continue
    const list = out.get(timing.intervalIndex) ?? []
    if (timing.detectedAtMs !== undefined) list.push({ ...timing } as IntervalRecovery)
    else if (timing.interAnsweredAtMs !== undefined) {
      const last = list.at(-1)
      if (last !== undefined) last.interAnsweredAtMs = timing.interAnsweredAtMs
    }
    out.set(timing.intervalIndex, list)
  }
  return out
}

export interface EventWiring {
  eventId: string
  decisions: DecisionComponents
  customers: CustomerChannel
  upstream: UpstreamChannel
  outbox: Effect[]
  afterPersist: () => Promise<void>
  waitUntil: (wait: WaitUntilInput, signal: AbortSignal) => Promise<WaitUntilOutput>
  peerAnswered: (answer: OptAnswer) => void
  reliabilityUpdated: (book: ReliabilityBook) => Promise<void>
  aggregateBaseline: (request: DrRequest) => number[]
  /** Per customer, the change the node's other live events dispatched at `atMs` (kW). */
  othersChangeKw: (atMs: number) => ReadonlyMap<string, number>
  /** Per customer, when the node's other live events last changed its setpoints (ms). */
  othersRevisedAtMs: () => ReadonlyMap<string, number>
  /** Customers the node's other live events dispatched. */
  othersDispatched: () => ReadonlySet<string>
  /** Cover fellows committed to this event for interval `index` so far (kW, signed like a deviation). */
  interCoveredKw: (index: number) => number
}

function dispatchFor (request: DrRequest, setpointsKw: number[], revision: number): CustomerDispatch {
  return {
    eventId: request.eventId,
    modificationNumber: request.modificationNumber,
    revision,
    marketContext: request.marketContext,
    startMs: request.startMs,
    intervalMs: request.intervalMs,
    setpointsKw
  }
}

export function eventImplementations (w: EventWiring) {
  const d = w.decisions
  return {
    actors: {
      waitUntil: fromPromise<WaitUntilOutput, WaitUntilInput>(async ({ input, signal }) => await w.waitUntil(input, signal)),
      decideOpt: fromPromise<OptDecision, { request: DrRequest }>(async ({ input }) => {
        await w.afterPersist()
        return await decideOpt(d, input.request, w.othersDispatched())
      }),
      queryPeers: fromPromise<PeerOffer[], { request: DrRequest }>(async ({ input, signal }) => {
        await w.afterPersist()
        return await queryPeers(d, input.request, signal)
      }),
      planDispatch: fromPromise<DispatchPlan, PlanInput>(async ({ input }) => {
        await w.afterPersist()
        // A customer serves one live event at a time: its readings then tell each event plainly how it does.
        return await planDispatch(d, input.request, [...input.excluded, ...w.othersDispatched()])
      }),
      notifyCustomers: fromPromise<NotifyResult, NotifyInput>(async ({ input }) => {
        await w.afterPersist()
        const answers = await Promise.all(Object.entries(input.plan.setpointsKw).map(async ([venId, setpoints]) =>
          [venId, await w.customers.distribute(venId, dispatchFor(input.request, setpoints, 0))] as const))
        return { optedOut: answers.filter(([, a]) => a === 'optOut').map(([v]) => v) }
      }),
      monitor: fromPromise<Measurement, MonitorInput>(async ({ input }) => {
        await w.afterPersist()
        const measuredAtMs = d.clock.now()
        return { measuredAtMs, ...measure(d.book, input.request, input.plan, {
          intervalIndex: input.intervalIndex,
          final: input.final,
          checkAtMs: input.checkAtMs,
          graceMs: d.config.reportGraceMs,
          // An instant inside the interval the checkpoint judges (the last checkpoint falls on its end).
          othersChangeKw: w.othersChangeKw(input.checkAtMs - 1),
          othersRevisedAtMs: w.othersRevisedAtMs(),
          interCoveredKw: w.interCoveredKw(input.intervalIndex),
          pickupMs: d.config.customerPollMs
        }) }
      }),
      intraMatch: fromPromise<IntraResult, IntraInput>(async ({ input }) => {
        await w.afterPersist()
        const detectedAtMs = (input.measurement as Measurement & { measuredAtMs?: number }).measuredAtMs ?? d.clock.now()
        const result = await intraMatch(d, input.request, input.plan, input.measurement, { interCoveredKw: w.interCoveredKw, othersChangeKw: w.othersChangeKw, othersRevisedAtMs: w.othersRevisedAtMs, othersDispatched: w.othersDispatched })
        const decidedAtMs = d.clock.now()
        const checkMs = input.request.intervalMs / d.config.checksPerInterval
        const revision = 1 + Math.max(0, Math.floor((d.clock.now() - input.request.startMs) / checkMs))
        const changed = Object.entries(result.plan.setpointsKw).filter(([venId, row]) => !sameSeries(row, input.plan.setpointsKw[venId]))
        await Promise.all(changed.map(async ([venId, row]) => await w.customers.distribute(venId, dispatchFor(input.request, row, revision))))
        const setpointsSentAtMs = d.clock.now()
        const timing: RecoveryTiming = {
          intervalIndex: input.measurement.intervalIndex,
          detectedAtMs,
          decidedAtMs,
          setpointsSentAtMs,
          pickupByMs: setpointsSentAtMs + d.config.customerPollMs,
          customersChanged: changed.length
        }
        const timed: IntraResult & { timing: RecoveryTiming } = { ...result, timing }
        return timed
      }),
      interMatch: fromPromise<InterResult, InterInput>(async ({ input }) => {
        await w.afterPersist()
        const requestId = `${d.config.nodeId}:${input.request.eventId}:${input.request.modificationNumber}:${input.intervalIndex}:${Math.floor(d.clock.now())}`
        const result = await interMatch(d, input.request, input.residualKw, input.intervalIndex, requestId)
        const timed: InterResult & { timing: { intervalIndex: number, interAnsweredAtMs: number } } = {
          ...result, timing: { intervalIndex: input.intervalIndex, interAnsweredAtMs: d.clock.now() }
        }
        return timed
      }),
      cancelDispatch: fromPromise<void, CancelInput>(async ({ input }) => {
        await w.afterPersist()
        await Promise.all(Object.keys(input.plan?.setpointsKw ?? {}).map(async venId => { await w.customers.cancel(venId, input.request.eventId) }))
        await d.ledger.release(holderOf(input.request.eventId))
      }),
      updateReliabilities: fromPromise<void, ReliabilityInput>(async ({ input }) => {
        await w.afterPersist()
        await w.reliabilityUpdated(updatedReliability(d, input.request, input.plan))
      }),
      sendCompletionReport: fromPromise<void, CompletionSummary>(async ({ input }) => {
        await w.afterPersist()
        if (input.origin === 'peer' && input.peer !== undefined) {
          // The requester asked for a change of this node's aggregate: report it as a change from the baseline.
          const baselineKw = w.aggregateBaseline(input.request)
          await d.port.reportOutcome(input.peer.fromPeerId, {
            requestId: input.peer.requestId,
            peerId: d.config.nodeId,
            committedKw: input.intervals.map(r => r.requestedKw),
            deliveredKw: input.intervals.map((r, t) => r.deliveredKw === null ? 0 : r.deliveredKw - (baselineKw[t] ?? 0))
          })
          return
        }
        await w.upstream.complete(input)
      })
    },
    actions: {
      answerOpt: (_: unknown, params: OptAnswer) => { w.outbox.push({ kind: 'answerOpt', params }) },
      reportShortfall: (_: unknown, params: ShortfallNotice) => { w.outbox.push({ kind: 'reportShortfall', params }) },
      reportFailure: (_: unknown, params: FailureNotice) => { w.outbox.push({ kind: 'reportFailure', params }) }
    }
  }
}
