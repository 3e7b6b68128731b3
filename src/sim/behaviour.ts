/**
 * A customer's hidden true behaviour, and what it really does with a dispatch. The node only ever sees the
 * resulting telemetry; learning who complies is its job (src/actors/reliability.ts).
 *
 * Each customer has a kind (drawn from a mix) that sets its per-event probabilities of complying, complying
 * partly, ignoring the dispatch or dropping offline. Failure injection comes on top: a customer failing
 * mid-event goes back to its baseline at `failAtMs`, and, if it goes dark, stops reporting.
 */
import { uniform, type Random } from '../util/random.js'

export type BehaviourKind = 'complies' | 'partial' | 'ignores' | 'offline'
/** What the customer does during one event. */
export type EventMode = 'comply' | 'partial' | 'ignore' | 'offline'

export interface HiddenBehaviour {
  kind: BehaviourKind
  /** Per-event probabilities of each mode (sum 1). */
  modeProbabilities: Record<EventMode, number>
  /** Share of the requested change delivered when complying partly. */
  partialShare: number
}

export type BehaviourMix = Record<BehaviourKind, number>

/** Most households do what they signed up for; a minority does not, and the nodes must find out which. */
export const defaultBehaviourMix: BehaviourMix = { complies: 0.7, partial: 0.15, ignores: 0.08, offline: 0.07 }

const modesByKind: Record<BehaviourKind, Record<EventMode, number>> = {
  complies: { comply: 0.97, partial: 0.02, ignore: 0.01, offline: 0 },
  partial: { comply: 0.2, partial: 0.7, ignore: 0.1, offline: 0 },
  ignores: { comply: 0.1, partial: 0.1, ignore: 0.8, offline: 0 },
  offline: { comply: 0.35, partial: 0.05, ignore: 0, offline: 0.6 }
}

export function drawBehaviour (random: Random, mix: BehaviourMix = defaultBehaviourMix): HiddenBehaviour {
  const kind = pick(random, mix)
  return { kind, modeProbabilities: modesByKind[kind], partialShare: uniform(random, 0.3, 0.8) }
}

export function drawEventMode (random: Random, behaviour: HiddenBehaviour): EventMode {
  return pick(random, behaviour.modeProbabilities)
}

function pick<K extends string> (random: Random, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as Array<[K, number]>
  const total = entries.reduce((s, [, w]) => s + w, 0)
  let u = random.next() * total
  for (const [key, w] of entries) {
    u -= w
    if (u < 0) return key
  }
  return (entries.at(-1) as [K, number])[0]
}

/** Injected failure of one dispatched customer. */
export interface InjectedFailure {
  atMs: number
  /** A dark customer also stops reporting; otherwise it reports its baseline flow. */
  dark: boolean
}

export interface ResponseInput {
  mode: EventMode
  behaviour: HiddenBehaviour
  /** The flow the customer would have without DR (kW). */
  baselineKw: number
  /** Its dispatched flow for this interval, or undefined when not dispatched. */
  setpointKw: number | undefined
  /** What it really can do in this interval (kW ≥ 0). */
  flexUpKw: number
  flexDownKw: number
  atMs: number
  failure?: InjectedFailure
}

export interface Response {
  /** The customer's real flow (kW). */
  flowKw: number
  /** False when the customer sends no telemetry (offline or failed dark). */
  reports: boolean
}

/** What the customer really does in one interval. */
export function respond (i: ResponseInput): Response {
  const failed = i.failure !== undefined && i.atMs >= i.failure.atMs
  if (i.mode === 'offline' || (failed && i.failure?.dark === true)) return { flowKw: i.baselineKw, reports: false }
  if (i.setpointKw === undefined || failed || i.mode === 'ignore') return { flowKw: i.baselineKw, reports: true }
  const reachable = Math.min(i.baselineKw + i.flexUpKw, Math.max(i.baselineKw - i.flexDownKw, i.setpointKw))
  const share = i.mode === 'partial' ? i.behaviour.partialShare : 1
  return { flowKw: i.baselineKw + share * (reachable - i.baselineKw), reports: true }
}
