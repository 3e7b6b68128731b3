/**
 * The requester's record of fellow nodes' cover: every commitment a peer made to this node is kept (table
 * `meta`, keys `peer-cover:<requestId>:<peerId>`), and when the peer reports the outcome the peer is rated
 * on what this node observed, not on the report: a `CoverObserver` (the utility's or a meter's figures of
 * the peer's flow) gives the delivered change, and the peer's own report counts only when no observer has a
 * figure, at most as far as it committed. The rating is D's Beta model (`coverIntervals` → `recordOutcome`)
 * in the agent's reliability book; the outcome and the rating are appended to the event's audit trail.
 */
import { coverIntervals, recordOutcome, reliabilityOf } from '../actors/reliability.js'
import type { Agent } from './agent.js'
import { reliabilityPrior } from './agentDecisions.js'
import type { CoverOutcome, CoverRequest } from './interMatchmaking.js'

/** A commitment a fellow made to this node, as kept until its outcome is rated. */
export interface CoverRecord {
  requestId: string
  peerId: string
  /** This node's event the cover was for. */
  eventId: string
  marketContext: string
  startMs: number
  intervalMs: number
  committedKw: number[]
  committedAtMs: number
  /** Set once the outcome is rated; a repeated outcome changes nothing. */
  ratedAtMs?: number
}

/**
 * What this node can see of the peer's delivered change from its baseline per interval of the cover's window
 * (kW, load convention), from figures the peer does not control (a utility's or a meter's); null when it has
 * none. Several covers by one peer over the same interval share what was seen pro rata to their commitments.
 */
export type CoverObserver = (cover: CoverRecord) => Promise<number[] | null>

export class UnknownCoverError extends Error {
  constructor (requestId: string, peerId: string) {
    super(`no commitment ${requestId} from ${peerId}`)
    this.name = 'UnknownCoverError'
  }
}

export interface RatedOutcome {
  record: CoverRecord
  reportedKw: number[]
  observedKw: number[] | null
  /** What the rating used: the observer's figures, or the report bounded by the commitment. */
  basis: 'observed' | 'reported'
  reliability: { r: number, sd: number, lower: number, upper: number, events: number }
}

const coverKey = (requestId: string, peerId: string): string => `peer-cover:${requestId}:${peerId}`

/** The report bounded by the commitment, per interval: a peer cannot earn credit for more than it promised. */
function boundedReport (committedKw: number[], reportedKw: number[]): number[] {
  return committedKw.map((c, t) => {
    const r = reportedKw[t] ?? 0
    return c >= 0 ? Math.min(Math.max(r, 0), c) : Math.max(Math.min(r, 0), c)
  })
}

export class PeerRatings {
  constructor (private readonly agent: Agent, private readonly observer?: CoverObserver) {}

  async remember (request: CoverRequest, peerId: string, committedKw: number[], nowMs: number): Promise<CoverRecord> {
    const record: CoverRecord = {
      requestId: request.requestId,
      peerId,
      eventId: request.eventRef.eventId,
      marketContext: request.marketContext,
      startMs: request.startMs,
      intervalMs: request.intervalMs,
      committedKw,
      committedAtMs: nowMs
    }
    await this.agent.store.table<CoverRecord>('meta').put(coverKey(request.requestId, peerId), record)
    return record
  }

  async covers (): Promise<CoverRecord[]> {
    return await this.agent.store.table<CoverRecord>('meta').values({ gte: 'peer-cover:', lt: 'peer-cover:\uffff' })
  }

  /** Rates `fromPeerId` on an outcome it reported; throws UnknownCoverError for a commitment never made. */
  async rate (outcome: CoverOutcome, fromPeerId: string): Promise<RatedOutcome> {
    const table = this.agent.store.table<CoverRecord>('meta')
    const record = await table.get(coverKey(outcome.requestId, fromPeerId))
    if (record === undefined) throw new UnknownCoverError(outcome.requestId, fromPeerId)
    const seenKw = await this.observer?.(record) ?? null
    const observedKw = seenKw === null ? null : await this.shareOf(record, seenKw)
    const basis = observedKw === null ? 'reported' : 'observed'
    const creditedKw = observedKw ?? boundedReport(record.committedKw, outcome.deliveredKw)
    const mc = record.marketContext
    const book = record.ratedAtMs !== undefined
      ? this.agent.reliabilityBook()
      : await this.agent.updateReliability(b => recordOutcome(b, fromPeerId, mc, coverIntervals(record.committedKw, creditedKw), reliabilityPrior))
    const { r, sd, lower, upper, events } = reliabilityOf(book, fromPeerId, mc, reliabilityPrior)
    const rated: RatedOutcome = { record, reportedKw: outcome.deliveredKw, observedKw, basis, reliability: { r, sd, lower, upper, events } }
    if (record.ratedAtMs !== undefined) return rated
    const nowMs = this.agent.clockNow()
    const state = this.agent.event(record.eventId)?.state ?? 'unknown'
    await this.agent.audit.append(record.eventId, {
      event: 'PEER_OUTCOME',
      stateBefore: state,
      stateAfter: state,
      decision: { peerId: fromPeerId, requestId: record.requestId, committedKw: record.committedKw, reportedKw: outcome.deliveredKw, observedKw, basis, reliability: rated.reliability }
    }, [table.putOp(coverKey(outcome.requestId, fromPeerId), { ...record, ratedAtMs: nowMs })])
    return rated
  }

  /** This cover's share of what was seen of the peer: pro rata to the commitments it had in force then. */
  private async shareOf (record: CoverRecord, seenKw: number[]): Promise<number[]> {
    const same = (await this.covers()).filter(c => c.peerId === record.peerId && c.marketContext === record.marketContext)
    return record.committedKw.map((committed, t) => {
      const atMs = record.startMs + t * record.intervalMs
      const total = same.reduce((s, c) => {
        const k = (atMs - c.startMs) / c.intervalMs
        return Number.isInteger(k) ? s + (c.committedKw[k] ?? 0) : s
      }, 0)
      return total === 0 ? 0 : (seenKw[t] ?? 0) * committed / total
    })
  }
}
