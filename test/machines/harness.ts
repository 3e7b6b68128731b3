/**
 * Test harness for the statecharts: timers driven by a ManualClock, and a small community of customers
 * whose decisions (plan, monitor, intra, inter) are plain arithmetic on their baselines and flexibility.
 * The implementations are simple but honest: what the chart records is what they computed.
 */
import { fromPromise } from 'xstate'
import { ManualClock } from '../../src/util/clock.js'
import type {
  DispatchPlan, InterResult, IntraResult, Measurement, OptAnswer, OptDecision, ShortfallNotice, CompletionSummary,
  FailureNotice, WaitUntilInput, WaitUntilOutput, DrRequest
} from '../../src/machines/drEventTypes.js'
import type { CancelInput, InterInput, IntraInput, MonitorInput, NotifyInput, PlanInput, ReliabilityInput } from '../../src/machines/drEvent.js'
import type { PeerOffer } from '../../src/node/interMatchmaking.js'

/** Lets pending promise callbacks and XState's deferred starts run. */
export async function settle (rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>(resolve => setImmediate(resolve))
}

interface Pending { dueMs: number, resolve: (out: WaitUntilOutput) => void }

/** `waitUntil` on a ManualClock: a wait resolves when the test advances the clock to its deadline. */
export class ManualTimers {
  readonly clock: ManualClock
  private pending: Pending[] = []
  armed = 0

  constructor (startMs: number) { this.clock = new ManualClock(startMs) }

  readonly waitUntil = fromPromise<WaitUntilOutput, WaitUntilInput>(async ({ input, signal }) => {
    this.armed++
    if (input.dueMs <= this.clock.now()) return { firedAtMs: this.clock.now() }
    return await new Promise<WaitUntilOutput>(resolve => {
      const entry: Pending = { dueMs: input.dueMs, resolve }
      this.pending.push(entry)
      signal.addEventListener('abort', () => { this.pending = this.pending.filter(p => p !== entry) })
    })
  })

  get pendingCount (): number { return this.pending.length }

  /** Moves the clock to `ms`, firing due waits in deadline order and letting each one's effects settle. */
  async advanceTo (ms: number): Promise<void> {
    await settle()
    for (;;) {
      const due = this.pending.filter(p => p.dueMs <= ms).sort((a, b) => a.dueMs - b.dueMs)[0]
      if (due === undefined) break
      this.pending = this.pending.filter(p => p !== due)
      this.clock.set(Math.max(this.clock.now(), due.dueMs))
      due.resolve({ firedAtMs: this.clock.now() })
      await settle()
    }
    this.clock.set(ms)
    await settle()
  }
}

export interface Customer { venId: string, baselineKw: number, flexDownKw: number, flexUpKw: number }

/** What the customers actually do: deviations from their setpoints (kW) from a given interval on. */
export class World {
  deviations = new Map<string, { fromInterval: number, kw: number }>()
  silent = new Set<string>()

  constructor (readonly customers: Customer[]) {}

  deliveredKw (c: Customer, plan: DispatchPlan, interval: number): number {
    const setpoint = plan.setpointsKw[c.venId]?.[interval] ?? c.baselineKw
    const d = this.deviations.get(c.venId)
    return setpoint + (d !== undefined && interval >= d.fromInterval ? d.kw : 0)
  }
}

const baseline = (customers: Customer[]): number => customers.reduce((s, c) => s + c.baselineKw, 0)

export interface Calls {
  answers: OptAnswer[]
  shortfalls: ShortfallNotice[]
  failures: FailureNotice[]
  reports: CompletionSummary[]
  plans: PlanInput[]
  notified: NotifyInput[]
  cancelled: CancelInput[]
  peerQueries: number
  inter: InterInput[]
  reliabilityUpdates: number
}

export interface CommunityOptions {
  /** Customers answering optOut to the first EiEvent they receive. */
  optOutOnce?: string[]
  /** kW per interval fellow nodes will commit. */
  peerCapacityKw?: number
  /** Actor names whose promise stays pending until `release(name)`. */
  holdAt?: Set<string>
}

/** The provided implementations of the DR-event chart over a `World`. */
export function community (world: World, timers: ManualTimers, options: CommunityOptions = {}) {
  const calls: Calls = { answers: [], shortfalls: [], failures: [], reports: [], plans: [], notified: [], cancelled: [], peerQueries: 0, inter: [], reliabilityUpdates: 0 }
  const optOutOnce = new Set(options.optOutOnce ?? [])
  const held = new Map<string, () => void>()
  const hold = async (name: string): Promise<void> => {
    if (options.holdAt?.has(name) !== true) return
    await new Promise<void>(resolve => held.set(name, resolve))
  }
  const release = (name: string): void => {
    options.holdAt?.delete(name)
    held.get(name)?.()
    held.delete(name)
  }

  // Delta requests spread over the customers in proportion to their flexibility in that direction.
  const plan = (request: DrRequest, excluded: string[]): DispatchPlan => {
    const chosen = world.customers.filter(c => !excluded.includes(c.venId))
    const setpointsKw: Record<string, number[]> = {}
    const uncoveredKw = request.amountsKw.map(() => 0)
    request.amountsKw.forEach((delta, t) => {
      const capacity = chosen.reduce((s, c) => s + (delta < 0 ? c.flexDownKw : c.flexUpKw), 0)
      const share = capacity === 0 ? 0 : Math.min(1, Math.abs(delta) / capacity)
      for (const c of chosen) {
        const row = setpointsKw[c.venId] ?? request.amountsKw.map(() => c.baselineKw)
        row[t] = c.baselineKw + Math.sign(delta) * share * (delta < 0 ? c.flexDownKw : c.flexUpKw)
        setpointsKw[c.venId] = row
      }
      uncoveredKw[t] = -(delta - Math.sign(delta) * Math.min(Math.abs(delta), capacity))
    })
    return { setpointsKw, uncoveredKw }
  }

  const implementations = {
    actors: {
      waitUntil: timers.waitUntil,
      decideOpt: fromPromise<OptDecision, { request: DrRequest }>(async ({ input }) => {
        await hold('decideOpt')
        const capacity = world.customers.reduce((s, c) => s + c.flexDownKw + c.flexUpKw, 0)
        const accept = input.request.amountsKw.every(a => Math.abs(a) <= capacity)
        return { accept, committedKw: accept ? input.request.amountsKw : input.request.amountsKw.map(() => 0) }
      }),
      queryPeers: fromPromise<PeerOffer[], { request: DrRequest }>(async ({ input }) => {
        await hold('queryPeers')
        calls.peerQueries++
        const cap = options.peerCapacityKw ?? 0
        return cap > 0 ? [{ peerId: 'peer-1', flexUpKw: input.request.amountsKw.map(() => cap), flexDownKw: input.request.amountsKw.map(() => cap), expiresAtMs: input.request.startMs }] : []
      }),
      planDispatch: fromPromise<DispatchPlan, PlanInput>(async ({ input }) => {
        await hold('planDispatch')
        calls.plans.push(input)
        return plan(input.request, input.excluded)
      }),
      notifyCustomers: fromPromise<{ optedOut: string[] }, NotifyInput>(async ({ input }) => {
        await hold('notifyCustomers')
        calls.notified.push(input)
        const optedOut = Object.keys(input.plan.setpointsKw).filter(v => optOutOnce.delete(v))
        return { optedOut }
      }),
      monitor: fromPromise<Measurement, MonitorInput>(async ({ input }) => {
        await hold('monitor')
        const t = input.intervalIndex
        const delta = input.request.amountsKw[t] ?? 0
        const customerDeviationsKw: Record<string, number> = {}
        let aggregateKw = 0
        for (const c of world.customers) {
          const delivered = world.deliveredKw(c, input.plan, t)
          aggregateKw += delivered
          const setpoint = input.plan.setpointsKw[c.venId]?.[t]
          if (setpoint !== undefined) customerDeviationsKw[c.venId] = delivered - setpoint
        }
        const missing = Object.keys(input.plan.setpointsKw).filter(v => world.silent.has(v))
        return { intervalIndex: t, final: input.final, aggregateKw, requestedKw: baseline(world.customers) + delta, customerDeviationsKw, missing }
      }),
      // Covers the aggregate deviation with the spare flexibility of the customers that follow their setpoints.
      intraMatch: fromPromise<IntraResult, IntraInput>(async ({ input }) => {
        await hold('intraMatch')
        const { measurement: m, request } = input
        const t = m.intervalIndex
        const deviation = m.aggregateKw - m.requestedKw
        const setpointsKw = Object.fromEntries(Object.entries(input.plan.setpointsKw).map(([v, row]) => [v, [...row]]))
        const coveredKw = request.amountsKw.map(() => 0)
        const residualKw = request.amountsKw.map(() => 0)
        const chosen: string[] = []
        for (let i = t; i < request.amountsKw.length; i++) {
          let need = deviation
          for (const c of world.customers) {
            if (Math.abs(need) < 1e-9) break
            if (Math.abs(m.customerDeviationsKw[c.venId] ?? 0) > 1e-9 || world.silent.has(c.venId)) continue
            const row = setpointsKw[c.venId] ?? request.amountsKw.map(() => c.baselineKw)
            const current = row[i] ?? c.baselineKw
            const room = need > 0 ? current - (c.baselineKw - c.flexDownKw) : (c.baselineKw + c.flexUpKw) - current
            const move = Math.min(Math.abs(need), Math.max(0, room))
            if (move <= 0) continue
            row[i] = current - Math.sign(need) * move
            setpointsKw[c.venId] = row
            need -= Math.sign(need) * move
            coveredKw[i] = (coveredKw[i] ?? 0) + Math.sign(deviation) * move
            if (!chosen.includes(c.venId)) chosen.push(c.venId)
          }
          residualKw[i] = need
        }
        return { plan: { setpointsKw, uncoveredKw: input.plan.uncoveredKw }, coveredKw, residualKw, chosen }
      }),
      interMatch: fromPromise<InterResult, InterInput>(async ({ input }) => {
        await hold('interMatch')
        calls.inter.push(input)
        const cap = options.peerCapacityKw ?? 0
        const committedKw = input.residualKw.map(r => Math.sign(r) * Math.min(Math.abs(r), cap))
        return { committedKw, residualKw: input.residualKw.map((r, i) => r - (committedKw[i] ?? 0)), peersAsked: cap > 0 ? ['peer-1'] : [] }
      }),
      cancelDispatch: fromPromise<void, CancelInput>(async ({ input }) => { calls.cancelled.push(input) }),
      updateReliabilities: fromPromise<void, ReliabilityInput>(async () => { await hold('updateReliabilities'); calls.reliabilityUpdates++ }),
      sendCompletionReport: fromPromise<void, CompletionSummary>(async ({ input }) => { calls.reports.push(input) })
    },
    actions: {
      answerOpt: (_: unknown, params: OptAnswer) => { calls.answers.push(params) },
      reportShortfall: (_: unknown, params: ShortfallNotice) => { calls.shortfalls.push(params) },
      reportFailure: (_: unknown, params: FailureNotice) => { calls.failures.push(params) }
    }
  }
  return { implementations, calls, release }
}

export const customers5: Customer[] = [
  { venId: 'c1', baselineKw: 10, flexDownKw: 4, flexUpKw: 2 },
  { venId: 'c2', baselineKw: 8, flexDownKw: 3, flexUpKw: 2 },
  { venId: 'c3', baselineKw: 6, flexDownKw: 2, flexUpKw: 2 },
  { venId: 'c4', baselineKw: 12, flexDownKw: 5, flexUpKw: 3 },
  { venId: 'c5', baselineKw: 4, flexDownKw: 1, flexUpKw: 1 }
]

export const T0 = Date.UTC(2026, 0, 1, 12)
export const MINUTE = 60_000

export function request (overrides: Partial<DrRequest> = {}): DrRequest {
  return {
    eventId: 'ev-1',
    modificationNumber: 0,
    origin: 'upstream',
    marketContext: 'http://market.example/ctx',
    startMs: T0 + 10 * MINUTE,
    intervalMs: 15 * MINUTE,
    amountsKw: [-5, -7.5, -5],
    signalType: 'delta',
    ...overrides
  }
}
