/**
 * The agent's outward channels: toward its customers (send an event's setpoints, collect the answer, cancel)
 * and toward whoever asked for the event upstream (opt answer, shortfall, completion report). The OpenADR
 * VTN/VEN services implement them over oadrDistributeEvent / oadrCreatedEvent / EiReport; `pullChannel` is
 * the channel of a node whose customers pick their setpoints up through the JSON API.
 */
import type { CompletionSummary, FailureNotice, OptAnswer, ShortfallNotice } from '../machines/drEventTypes.js'

export interface CustomerDispatch {
  eventId: string
  /** The upstream modificationNumber; `revision` counts the node's own re-dispatches within it. */
  modificationNumber: number
  revision: number
  marketContext: string
  startMs: number
  intervalMs: number
  setpointsKw: number[]
}

export interface CustomerChannel {
  /** Sends the customer its setpoints; resolves to its answer. Idempotent per (eventId, modificationNumber, revision). */
  distribute: (venId: string, dispatch: CustomerDispatch) => Promise<'optIn' | 'optOut'>
  /** Withdraws the customer's setpoints for the event. Idempotent. */
  cancel: (venId: string, eventId: string) => Promise<void>
  /**
   * Called on start once the customer book is loaded, before live events are restored: brings the book up
   * to date with what the channel stored before a crash (its book updates may have been lost). Idempotent.
   */
  recover?: () => Promise<void>
  /** Whether a `distribute` of the event is waiting for a customer's answer (which comes when it next polls). */
  awaitingAnswers?: (eventId: string) => boolean
}

export interface UpstreamChannel {
  answer: (answer: OptAnswer) => Promise<void>
  shortfall: (notice: ShortfallNotice) => Promise<void>
  failure: (notice: FailureNotice) => Promise<void>
  complete: (summary: CompletionSummary) => Promise<void>
}

/** An upstream that is not there (requests injected through the JSON API): the audit trail keeps the answers. */
export const noUpstream: UpstreamChannel = {
  answer: async () => {},
  shortfall: async () => {},
  failure: async () => {},
  complete: async () => {}
}

/**
 * Customers enrolled through the JSON API take part in what they are dispatched to (enrolment is their
 * opt-in) and read their setpoints from `GET /api/customers/:venId/dispatch`.
 */
export class PullChannel implements CustomerChannel {
  private readonly pending = new Map<string, Map<string, CustomerDispatch>>()

  async distribute (venId: string, dispatch: CustomerDispatch): Promise<'optIn'> {
    const mine = this.pending.get(venId) ?? new Map<string, CustomerDispatch>()
    const had = mine.get(dispatch.eventId)
    if (had === undefined || had.modificationNumber < dispatch.modificationNumber ||
      (had.modificationNumber === dispatch.modificationNumber && had.revision <= dispatch.revision)) {
      mine.set(dispatch.eventId, dispatch)
    }
    this.pending.set(venId, mine)
    return 'optIn'
  }

  async cancel (venId: string, eventId: string): Promise<void> {
    this.pending.get(venId)?.delete(eventId)
  }

  dispatchesOf (venId: string): CustomerDispatch[] {
    return [...(this.pending.get(venId)?.values() ?? [])]
  }
}
