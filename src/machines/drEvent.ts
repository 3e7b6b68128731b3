/**
 * The DR-event statechart: one actor per DR event (from upstream) or cover request (from a fellow node),
 * from its receipt to its completion report. No I/O: every decision and effect is a named actor or action
 * the wiring provides (`drEventMachine.provide({ actors, actions })`).
 *
 * received → deciding (optIn/optOut, or accept/reject for a peer) → scheduled (ask peers, plan, notify
 * customers, re-plan around opt-outs, wait for the start) → active, per checkpoint: monitoring → intra →
 * inter → monitoring … → completing (reliabilities, completion report) → completed. MODIFY (a higher
 * modificationNumber) re-decides and re-plans from any live state; CANCEL cancels from any live state.
 *
 * Persistence: every wait is the `waitUntil` actor on an absolute deadline kept in context, so a restored
 * snapshot re-arms it (XState does not restore `after` delays). Invoked actors running at a crash run
 * again after restore, so their implementations must be idempotent (keyed on eventId and
 * modificationNumber). Effect actions (`answerOpt`, `reportShortfall`, `reportFailure`) run inside a
 * transition, before the wiring can persist its snapshot: the wiring queues them and sends them once the
 * snapshot is stored.
 */
import { assign, setup } from 'xstate'
import type { PeerOffer } from '../node/interMatchmaking.js'
import {
  accumulate, advanceCheckpoint, hasResidual, initialContext, initialIntervals, isLastCheckpoint, mayAskPeers,
  nextCheckpoint, recordDelivered, violatesInvariants
} from './drEventLogic.js'
import type {
  CompletionSummary, DispatchPlan, DrEventContext, DrEventEvent, DrEventInput, DrRequest, FailureNotice,
  InterResult, IntraResult, Measurement, NotifyResult, OptAnswer, OptDecision, ShortfallNotice, WaitUntilInput,
  WaitUntilOutput
} from './drEventTypes.js'
import { notProvidedAction, notProvidedActor } from './notProvided.js'

export interface PlanInput { request: DrRequest, decision: OptDecision | null, peerOffers: PeerOffer[], excluded: string[] }
export interface NotifyInput { request: DrRequest, plan: DispatchPlan }
export interface MonitorInput {
  request: DrRequest
  plan: DispatchPlan
  intervalIndex: number
  checkIndex: number
  final: boolean
  checkAtMs: number
  optedOut: string[]
}
export interface IntraInput { request: DrRequest, plan: DispatchPlan, measurement: Measurement }
export interface InterInput { request: DrRequest, residualKw: number[], intervalIndex: number }
export interface CancelInput { request: DrRequest, plan: DispatchPlan | null }
export interface ReliabilityInput { request: DrRequest, plan: DispatchPlan | null, intervals: DrEventContext['intervals'] }

const emptyPlan = (request: DrRequest): DispatchPlan => ({ setpointsKw: {}, uncoveredKw: request.amountsKw.map(() => 0) })

function failure (eventId: string, stage: string, error: unknown): FailureNotice {
  return { eventId, stage, message: error instanceof Error ? error.message : String(error) }
}

function residualFrom (residualKw: number[], fromIndex: number): number[] {
  return residualKw.map((r, i) => i >= fromIndex ? r : 0)
}

export const drEventMachine = setup({
  types: {
    context: {} as DrEventContext,
    events: {} as DrEventEvent,
    input: {} as DrEventInput
  },
  actors: {
    waitUntil: notProvidedActor<WaitUntilOutput, WaitUntilInput>('waitUntil'),
    decideOpt: notProvidedActor<OptDecision, { request: DrRequest }>('decideOpt'),
    queryPeers: notProvidedActor<PeerOffer[], { request: DrRequest }>('queryPeers'),
    planDispatch: notProvidedActor<DispatchPlan, PlanInput>('planDispatch'),
    notifyCustomers: notProvidedActor<NotifyResult, NotifyInput>('notifyCustomers'),
    monitor: notProvidedActor<Measurement, MonitorInput>('monitor'),
    intraMatch: notProvidedActor<IntraResult, IntraInput>('intraMatch'),
    interMatch: notProvidedActor<InterResult, InterInput>('interMatch'),
    cancelDispatch: notProvidedActor<void, CancelInput>('cancelDispatch'),
    updateReliabilities: notProvidedActor<void, ReliabilityInput>('updateReliabilities'),
    sendCompletionReport: notProvidedActor<void, CompletionSummary>('sendCompletionReport')
  },
  actions: {
    answerOpt: (_, _params: OptAnswer) => notProvidedAction('answerOpt'),
    reportShortfall: (_, _params: ShortfallNotice) => notProvidedAction('reportShortfall'),
    reportFailure: (_, _params: FailureNotice) => notProvidedAction('reportFailure'),
    applyModification: assign(({ context, event }) => {
      if (event.type !== 'MODIFY') return {}
      const fresh = initialIntervals(event.request.amountsKw)
      const intervals = fresh.map(r => r.index < context.intervalIndex ? (context.intervals[r.index] ?? r) : r)
      return { request: event.request, decision: null, replans: 0, intervals, residualKw: event.request.amountsKw.map(() => 0) }
    })
  },
  guards: {
    isNewerModification: ({ context, event }) => event.type === 'MODIFY' &&
      event.request.eventId === context.request.eventId &&
      event.request.modificationNumber > context.request.modificationNumber,
    mayAskPeers: ({ context }) => mayAskPeers(context),
    isNewOptOut: ({ context, event }) => event.type === 'CUSTOMER_OPTED_OUT' && !context.optedOut.includes(event.venId),
    mayReplan: ({ context }) => context.replans < context.maxReplans
  }
}).createMachine({
  id: 'drEvent',
  context: ({ input }) => initialContext(input),
  initial: 'received',
  on: {
    MODIFY: { guard: 'isNewerModification', target: '.deciding', actions: 'applyModification' },
    CANCEL: { target: '.cancelling' }
  },
  states: {
    received: {
      always: [
        { guard: ({ context }) => isWellFormed(context.request), target: 'deciding' },
        { target: 'failed', actions: assign({ failure: ({ context }) => failure(context.request.eventId, 'received', new Error('request needs intervals, a positive interval length and finite amounts')) }) }
      ]
    },
    deciding: {
      invoke: {
        src: 'decideOpt',
        input: ({ context }) => ({ request: context.request }),
        onDone: [
          {
            guard: ({ event }) => event.output.accept,
            target: 'scheduled',
            actions: [
              assign({ decision: ({ event }) => event.output }),
              { type: 'answerOpt', params: ({ context, event }) => answer(context.request, event.output) }
            ]
          },
          {
            target: 'declined',
            actions: [
              assign({ decision: ({ event }) => event.output }),
              { type: 'answerOpt', params: ({ context, event }) => answer(context.request, event.output) }
            ]
          }
        ],
        onError: { target: 'failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'deciding', event.error) }) }
      }
    },
    declined: {
      // A declined event stays open to a modification until its window has passed.
      invoke: {
        src: 'waitUntil',
        input: ({ context }) => ({ dueMs: windowEndMs(context.request) }),
        onDone: 'expired'
      }
    },
    scheduled: {
      initial: 'preparing',
      on: {
        CUSTOMER_OPTED_OUT: [
          {
            guard: ({ context, event }) => !context.optedOut.includes(event.venId) && context.replans < context.maxReplans,
            target: '.planning',
            actions: assign({ optedOut: ({ context, event }) => [...context.optedOut, event.venId], replans: ({ context }) => context.replans + 1 })
          },
          { guard: 'isNewOptOut', actions: assign({ optedOut: ({ context, event }) => [...context.optedOut, event.venId] }) }
        ]
      },
      states: {
        preparing: { always: [{ guard: 'mayAskPeers', target: 'queryingPeers' }, { target: 'planning' }] },
        queryingPeers: {
          invoke: {
            src: 'queryPeers',
            input: ({ context }) => ({ request: context.request }),
            onDone: { target: 'planning', actions: assign({ peerOffers: ({ event }) => event.output }) },
            // Peers are optional: a mesh that cannot answer leaves the node planning with its own customers.
            onError: { target: 'planning', actions: assign({ peerOffers: [] }) }
          }
        },
        planning: {
          invoke: {
            src: 'planDispatch',
            input: ({ context }) => ({ request: context.request, decision: context.decision, peerOffers: context.peerOffers, excluded: context.optedOut }),
            onDone: { target: 'notifying', actions: assign({ plan: ({ event }) => event.output }) },
            onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'planning', event.error) }) }
          }
        },
        notifying: {
          invoke: {
            src: 'notifyCustomers',
            input: ({ context }) => ({ request: context.request, plan: context.plan ?? emptyPlan(context.request) }),
            onDone: [
              {
                guard: ({ context, event }) => event.output.optedOut.some(v => !context.optedOut.includes(v)) && context.replans < context.maxReplans,
                target: 'planning',
                actions: assign({
                  optedOut: ({ context, event }) => union(context.optedOut, event.output.optedOut),
                  replans: ({ context }) => context.replans + 1
                })
              },
              { target: 'waitingStart', actions: assign({ optedOut: ({ context, event }) => union(context.optedOut, event.output.optedOut) }) }
            ],
            onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'notifying', event.error) }) }
          }
        },
        waitingStart: {
          invoke: {
            src: 'waitUntil',
            input: ({ context }) => ({ dueMs: context.request.startMs }),
            onDone: [
              { guard: ({ context, event }) => nextCheckpoint(context, event.output.firedAtMs).intervalIndex >= context.request.amountsKw.length, target: '#drEvent.completing' },
              { target: '#drEvent.active', actions: assign(({ context, event }) => nextCheckpoint(context, event.output.firedAtMs)) }
            ]
          }
        }
      }
    },
    active: {
      initial: 'monitoring',
      on: {
        CUSTOMER_OPTED_OUT: { guard: 'isNewOptOut', actions: assign({ optedOut: ({ context, event }) => [...context.optedOut, event.venId] }) }
      },
      states: {
        monitoring: {
          initial: 'waiting',
          states: {
            waiting: {
              invoke: { src: 'waitUntil', input: ({ context }) => ({ dueMs: context.nextCheckMs }), onDone: 'measuring' }
            },
            measuring: {
              invoke: {
                src: 'monitor',
                input: ({ context }) => ({
                  request: context.request,
                  plan: context.plan ?? emptyPlan(context.request),
                  intervalIndex: context.intervalIndex,
                  checkIndex: context.checkIndex,
                  final: context.checkIndex === context.checksPerInterval - 1,
                  checkAtMs: context.nextCheckMs,
                  optedOut: context.optedOut
                }),
                onDone: {
                  target: 'measured',
                  actions: assign({
                    measurement: ({ event }) => event.output,
                    intervals: ({ context, event }) => recordDelivered(context.intervals, event.output)
                  })
                },
                onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'monitoring', event.error) }) }
              }
            },
            measured: {
              always: [
                { guard: ({ context }) => context.measurement !== null && violatesInvariants(context.measurement, context.toleranceKw), target: '#drEvent.active.intra' },
                { target: '#drEvent.active.checkpointDone' }
              ]
            }
          }
        },
        intra: {
          invoke: {
            src: 'intraMatch',
            input: ({ context }) => ({ request: context.request, plan: context.plan ?? emptyPlan(context.request), measurement: context.measurement as Measurement }),
            onDone: {
              target: 'intraDone',
              actions: assign({
                plan: ({ event }) => event.output.plan,
                intervals: ({ context, event }) => accumulate(context.intervals, 'intraCoveredKw', event.output.coveredKw),
                residualKw: ({ context, event }) => residualFrom(event.output.residualKw, context.intervalIndex)
              })
            },
            onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'intra', event.error) }) }
          }
        },
        intraDone: {
          always: [
            { guard: ({ context }) => hasResidual(context.residualKw, context.toleranceKw) && mayAskPeers(context), target: 'inter' },
            { guard: ({ context }) => hasResidual(context.residualKw, context.toleranceKw), target: 'shortfall' },
            { target: 'checkpointDone' }
          ]
        },
        inter: {
          invoke: {
            src: 'interMatch',
            input: ({ context }) => ({ request: context.request, residualKw: context.residualKw, intervalIndex: context.intervalIndex }),
            onDone: {
              target: 'interDone',
              actions: assign({
                intervals: ({ context, event }) => accumulate(context.intervals, 'interCoveredKw', event.output.committedKw),
                residualKw: ({ context, event }) => residualFrom(event.output.residualKw, context.intervalIndex)
              })
            },
            // A mesh failure leaves the residual as it was: it becomes shortfall, the event carries on.
            onError: 'interDone'
          }
        },
        interDone: {
          always: [
            { guard: ({ context }) => hasResidual(context.residualKw, context.toleranceKw), target: 'shortfall' },
            { target: 'checkpointDone' }
          ]
        },
        shortfall: {
          entry: { type: 'reportShortfall', params: ({ context }) => ({ eventId: context.request.eventId, intervalIndex: context.intervalIndex, residualKw: context.residualKw }) },
          always: {
            target: 'checkpointDone',
            actions: assign({
              intervals: ({ context }) => context.intervals.map(r => r.index >= context.intervalIndex ? { ...r, shortfallKw: context.residualKw[r.index] ?? 0 } : r)
            })
          }
        },
        checkpointDone: {
          always: [
            { guard: ({ context }) => isLastCheckpoint(context), target: '#drEvent.completing' },
            { target: 'monitoring', actions: assign(({ context }) => advanceCheckpoint(context)) }
          ]
        }
      }
    },
    completing: {
      initial: 'updatingReliabilities',
      // The event window is over: a late modification or cancellation changes nothing.
      on: { MODIFY: {}, CANCEL: {} },
      states: {
        updatingReliabilities: {
          invoke: {
            src: 'updateReliabilities',
            input: ({ context }) => ({ request: context.request, plan: context.plan, intervals: context.intervals }),
            onDone: 'reporting',
            onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'reliabilities', event.error) }) }
          }
        },
        reporting: {
          invoke: {
            src: 'sendCompletionReport',
            input: ({ context }) => ({ eventId: context.request.eventId, origin: context.request.origin, request: context.request, intervals: context.intervals, peer: context.request.peer }),
            onDone: '#drEvent.completed',
            onError: { target: '#drEvent.failed', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'reporting', event.error) }) }
          }
        }
      }
    },
    cancelling: {
      on: { MODIFY: {}, CANCEL: {} },
      invoke: {
        src: 'cancelDispatch',
        input: ({ context }) => ({ request: context.request, plan: context.plan }),
        onDone: 'cancelled',
        // The upstream cancelled: the event ends cancelled even if a customer could not be told.
        onError: { target: 'cancelled', actions: assign({ failure: ({ context, event }) => failure(context.request.eventId, 'cancelling', event.error) }) }
      }
    },
    completed: { type: 'final' },
    cancelled: { type: 'final' },
    expired: { type: 'final' },
    failed: {
      type: 'final',
      entry: { type: 'reportFailure', params: ({ context }) => context.failure ?? { eventId: context.request.eventId, stage: 'unknown', message: 'failed' } }
    }
  },
  output: ({ context }) => ({ eventId: context.request.eventId, intervals: context.intervals, failure: context.failure })
})

function answer (request: DrRequest, decision: OptDecision): OptAnswer {
  return { eventId: request.eventId, modificationNumber: request.modificationNumber, origin: request.origin, decision, peer: request.peer }
}

function isWellFormed (request: DrRequest): boolean {
  return request.amountsKw.length > 0 && request.intervalMs > 0 && request.amountsKw.every(Number.isFinite) && Number.isFinite(request.startMs)
}

function windowEndMs (request: DrRequest): number {
  return request.startMs + request.intervalMs * request.amountsKw.length
}

function union (a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])]
}

export type DrEventMachine = typeof drEventMachine
