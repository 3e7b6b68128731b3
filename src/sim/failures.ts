/**
 * Failure injection plans: which dispatched customers fail mid-event and when, which node is killed and
 * when, and which nodes are cut off from which during a partition. Plans are drawn once from a seeded
 * stream before the event, so two strategies compared on the same seed face the same failures.
 */
import { randomInt, uniform, type Random } from '../util/random.js'
import type { InjectedFailure } from './behaviour.js'
import type { Window } from './customers.js'

export interface FailureInit {
  /** Share of dispatched customers failing mid-event, 0..1. @default 0 */
  failureRate?: number
  /** Share of the failing customers that also stop reporting. @default 0.5 */
  darkShare?: number
  /** Failures happen between these fractions of the event. @default [0.1, 0.6] */
  within?: [number, number]
  /** Kill one node (by index) at this fraction of the event. @default undefined */
  killNode?: { agentIndex: number, atFraction: number }
  /** Split the nodes into two halves (even and odd indices) over this fraction of the event. @default undefined */
  partition?: { fromFraction: number, toFraction: number }
}

export interface FailurePlan {
  customers: Map<string, InjectedFailure>
  killNode?: { agentIndex: number, atMs: number }
  partition?: { groups: number[][], fromMs: number, toMs: number }
}

export class SimulationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SimulationError'
  }
}

/**
 * Chooses `round(rate × n)` of the dispatched customers (a partial Fisher–Yates shuffle of a sorted copy, so
 * the choice depends on the seed and the set, not on the order it was given in).
 */
export function planFailures (random: Random, init: FailureInit, dispatched: string[], window: Window, agents: number): FailurePlan {
  const rate = init.failureRate ?? 0
  if (!(rate >= 0 && rate <= 1)) throw new SimulationError(`failure rate must be in [0, 1], got ${rate}`)
  const [from, to] = init.within ?? [0.1, 0.6]
  const spanMs = window.intervals * window.intervalMs
  const ids = [...dispatched].sort()
  const n = Math.round(rate * ids.length)
  for (let k = 0; k < n; k++) {
    const j = k + randomInt(random, ids.length - k)
    const swap = ids[k] as string
    ids[k] = ids[j] as string
    ids[j] = swap
  }
  const customers = new Map<string, InjectedFailure>()
  for (const venId of ids.slice(0, n)) {
    customers.set(venId, { atMs: window.startMs + uniform(random, from, to) * spanMs, dark: random.next() < (init.darkShare ?? 0.5) })
  }
  const plan: FailurePlan = { customers }
  if (init.killNode !== undefined) {
    if (init.killNode.agentIndex < 0 || init.killNode.agentIndex >= agents) throw new SimulationError(`no agent ${init.killNode.agentIndex} to kill`)
    plan.killNode = { agentIndex: init.killNode.agentIndex, atMs: window.startMs + init.killNode.atFraction * spanMs }
  }
  if (init.partition !== undefined) {
    const all = Array.from({ length: agents }, (_, i) => i)
    plan.partition = {
      groups: [all.filter(i => i % 2 === 0), all.filter(i => i % 2 === 1)],
      fromMs: window.startMs + init.partition.fromFraction * spanMs,
      toMs: window.startMs + init.partition.toFraction * spanMs
    }
  }
  return plan
}

/** Whether nodes a and b can talk at `atMs` under the plan. */
export function reachable (plan: FailurePlan, a: number, b: number, atMs: number): boolean {
  const p = plan.partition
  if (p === undefined || atMs < p.fromMs || atMs >= p.toMs) return true
  return p.groups.some(g => g.includes(a) && g.includes(b))
}
