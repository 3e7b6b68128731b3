/**
 * The figures of a run, counted the way the utility sees them: per agent and per interval, the setpoint it
 * asked of the node against the flow delivered by the node's own customers plus what fellow nodes delivered
 * on its behalf. From those: the share of intervals within tolerance, delivered / requested energy, the
 * matchmaking actions and the cost of the flexibility used. Pure arithmetic on what the runner recorded.
 *
 * Tolerance is relative to the setpoint, but never tighter than the same share of the requested change:
 * at noon a PV-heavy node's setpoint can be near zero, and ±5 % of nearly nothing would measure noise.
 */

export interface IntervalInput {
  startMs: number
  /** The aggregate flow the utility asked for (kW). */
  setpointKw: number
  /** The aggregate flow the node's customers would have had without DR (kW, the hidden truth). */
  baselineKw: number
  /** The aggregate flow of the node's own customers (kW). */
  ownFlowKw: number
  /** Change from baseline fellow nodes delivered on this node's behalf (kW, signed like a flow change). */
  peerDeltaKw: number
  intraActions: number
  interActions: number
  /** Virtual cost of the node's customers' deviation from their baselines in this interval. */
  cost: number
  /**
   * The flow the node's own customers could at best have reached toward the setpoint: all of their true
   * flexibility that way, each acting as its hidden mode and the failures say (kW; the fleet's oracle, which no
   * node has).
   */
  reachableKw: number
}

export interface IntervalFigure extends IntervalInput {
  deliveredKw: number
  deviationKw: number
  withinTolerance: boolean
}

export interface AgentInput {
  agentId: string
  intervalMs: number
  intervals: IntervalInput[]
}

export interface AgentFigures {
  agentId: string
  intervals: IntervalFigure[]
  /** Fraction of intervals within tolerance. */
  withinTolerance: number
  energyRequestedKwh: number
  energyDeliveredKwh: number
  /** energyDeliveredKwh / energyRequestedKwh (1 when nothing was requested). */
  energyDelivered: number
  /**
   * The most of the requested energy the node's own customers could have delivered (`reachableKw`), as a share
   * of it: below 1, no strategy of this node alone meets the request; well above `energyDelivered`, the node
   * left flexibility unused.
   */
  energyReachable: number
  /** Share of the delivered energy that came from the node's own customers. */
  ownShare: number
  matchmaking: { intra: number, inter: number }
  cost: number
}

export interface Summary {
  agents: number
  intervals: number
  withinTolerance: number
  energyRequestedKwh: number
  energyDeliveredKwh: number
  energyDelivered: number
  /** The same oracle over every agent's customers (each node's own, not pooled across nodes). */
  energyReachable: number
  ownShare: number
  matchmaking: { intra: number, inter: number }
  cost: number
}

/** Relative tolerance around the setpoint. @default 0.05 */
export interface FigureInit { tolerance?: number }

export function agentFigures (input: AgentInput, init: FigureInit = {}): AgentFigures {
  const tolerance = init.tolerance ?? 0.05
  const hours = input.intervalMs / 3_600_000
  let within = 0
  let requestedKwh = 0
  let deliveredKwh = 0
  let ownKwh = 0
  let reachableKwh = 0
  let intra = 0
  let inter = 0
  let cost = 0
  const intervals = input.intervals.map(i => {
    const deliveredKw = i.ownFlowKw + i.peerDeltaKw
    const deviationKw = deliveredKw - i.setpointKw
    const requestedDelta = i.setpointKw - i.baselineKw
    const ok = Math.abs(deviationKw) <= tolerance * Math.max(Math.abs(i.setpointKw), Math.abs(requestedDelta)) + 1e-9
    if (ok) within++
    const delivered = credited(deliveredKw - i.baselineKw, requestedDelta)
    requestedKwh += Math.abs(requestedDelta) * hours
    deliveredKwh += delivered * hours
    ownKwh += Math.min(delivered, credited(i.ownFlowKw - i.baselineKw, requestedDelta)) * hours
    reachableKwh += credited(i.reachableKw - i.baselineKw, requestedDelta) * hours
    intra += i.intraActions
    inter += i.interActions
    cost += i.cost
    return { ...i, deliveredKw, deviationKw, withinTolerance: ok }
  })
  return {
    agentId: input.agentId,
    intervals,
    withinTolerance: intervals.length === 0 ? 1 : within / intervals.length,
    energyRequestedKwh: requestedKwh,
    energyDeliveredKwh: deliveredKwh,
    energyDelivered: requestedKwh === 0 ? 1 : deliveredKwh / requestedKwh,
    energyReachable: requestedKwh === 0 ? 1 : reachableKwh / requestedKwh,
    ownShare: deliveredKwh === 0 ? 1 : ownKwh / deliveredKwh,
    matchmaking: { intra, inter },
    cost
  }
}

/** The part of a change that goes the requested way, up to what was requested (kW ≥ 0). */
function credited (deltaKw: number, requestedDeltaKw: number): number {
  if (requestedDeltaKw === 0) return 0
  return Math.min(Math.abs(requestedDeltaKw), Math.max(0, deltaKw * Math.sign(requestedDeltaKw)))
}

export function summarise (agents: AgentFigures[]): Summary {
  const intervals = agents.reduce((s, a) => s + a.intervals.length, 0)
  const within = agents.reduce((s, a) => s + a.intervals.filter(i => i.withinTolerance).length, 0)
  const requested = agents.reduce((s, a) => s + a.energyRequestedKwh, 0)
  const delivered = agents.reduce((s, a) => s + a.energyDeliveredKwh, 0)
  const own = agents.reduce((s, a) => s + a.ownShare * a.energyDeliveredKwh, 0)
  const reachable = agents.reduce((s, a) => s + a.energyReachable * a.energyRequestedKwh, 0)
  return {
    agents: agents.length,
    intervals,
    withinTolerance: intervals === 0 ? 1 : within / intervals,
    energyRequestedKwh: requested,
    energyDeliveredKwh: delivered,
    energyDelivered: requested === 0 ? 1 : delivered / requested,
    energyReachable: requested === 0 ? 1 : reachable / requested,
    ownShare: delivered === 0 ? 1 : own / delivered,
    matchmaking: {
      intra: agents.reduce((s, a) => s + a.matchmaking.intra, 0),
      inter: agents.reduce((s, a) => s + a.matchmaking.inter, 0)
    },
    cost: agents.reduce((s, a) => s + a.cost, 0)
  }
}
