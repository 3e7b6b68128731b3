/**
 * The customer-session statechart: one actor per customer VEN, from registration to deregistration.
 *
 * registration → registered, two parallel regions:
 *   reports:       reporting ⇄ lapsed   (lapsed when no report arrived before `lastReportMs + graceMs`)
 *   participation: idle ⇄ participating (while the customer is dispatched in at least one event)
 * DEREGISTER from anywhere → deregistered (final).
 *
 * The time of each report comes in the event (`atMs`, read by the wiring from its clock); the lapse
 * deadline is absolute in context and awaited by the `waitUntil` actor, so a restored session re-arms it.
 * Monitoring reads `lapsed` as a deviation of every event the customer takes part in.
 */
import { assign, setup } from 'xstate'
import type { WaitUntilInput, WaitUntilOutput } from './drEventTypes.js'
import { notProvidedActor } from './notProvided.js'

/** What a customer can do, from its METADATA and `x-` forecast reports or the JSON API (docs/design.md units). */
export interface CustomerCapabilities {
  /** Forecast flow without DR (kW, load convention), on the forecast grid. */
  baselineKw: number[]
  flexUpKw: number[]
  flexDownKw: number[]
  /** Start of the series' first interval and their interval length. */
  forecastStartMs: number
  forecastIntervalMs: number
  /** Virtual cost of flexibility, currency per kWh, per direction. */
  costUpPerKwh: number
  costDownPerKwh: number
  minActivationKw: number
  pvKw: number
  batteryKwh: number
  location?: { lat: number, lon: number }
}

export interface CustomerSessionInput {
  venId: string
  /** No report for this long (ms) and the session lapses. @default 900_000 */
  graceMs?: number
  registeredAtMs: number
}

export interface CustomerSessionContext {
  venId: string
  venName: string | null
  marketContexts: string[]
  capabilities: CustomerCapabilities | null
  graceMs: number
  lastReportMs: number
  events: string[]
}

export type CustomerSessionEvent =
  | { type: 'REGISTERED', venName: string, marketContexts: string[], atMs: number }
  | { type: 'CAPABILITIES', capabilities: CustomerCapabilities, marketContexts?: string[] }
  | { type: 'REPORT', atMs: number }
  | { type: 'EVENT_ASSIGNED', eventId: string }
  | { type: 'EVENT_RELEASED', eventId: string }
  | { type: 'DEREGISTER' }

export const customerSessionMachine = setup({
  types: {
    context: {} as CustomerSessionContext,
    events: {} as CustomerSessionEvent,
    input: {} as CustomerSessionInput
  },
  actors: {
    waitUntil: notProvidedActor<WaitUntilOutput, WaitUntilInput>('waitUntil')
  },
  actions: {
    noteReport: assign({ lastReportMs: ({ context, event }) => event.type === 'REPORT' ? Math.max(context.lastReportMs, event.atMs) : context.lastReportMs }),
    noteCapabilities: assign(({ context, event }) => event.type === 'CAPABILITIES'
      ? { capabilities: event.capabilities, marketContexts: event.marketContexts ?? context.marketContexts }
      : {})
  }
}).createMachine({
  id: 'customerSession',
  context: ({ input }) => ({
    venId: input.venId,
    venName: null,
    marketContexts: [],
    capabilities: null,
    graceMs: input.graceMs ?? 900_000,
    lastReportMs: input.registeredAtMs,
    events: []
  }),
  initial: 'registration',
  on: { DEREGISTER: '.deregistered' },
  states: {
    registration: {
      on: {
        REGISTERED: {
          target: 'registered',
          actions: assign(({ event }) => ({ venName: event.venName, marketContexts: event.marketContexts, lastReportMs: event.atMs }))
        }
      }
    },
    registered: {
      type: 'parallel',
      on: { CAPABILITIES: { actions: 'noteCapabilities' } },
      states: {
        reports: {
          initial: 'reporting',
          states: {
            reporting: {
              on: { REPORT: { target: 'reporting', reenter: true, actions: 'noteReport' } },
              invoke: {
                src: 'waitUntil',
                input: ({ context }) => ({ dueMs: context.lastReportMs + context.graceMs }),
                onDone: 'lapsed'
              }
            },
            lapsed: {
              on: { REPORT: { target: 'reporting', actions: 'noteReport' } }
            }
          }
        },
        participation: {
          initial: 'idle',
          states: {
            idle: {
              on: { EVENT_ASSIGNED: { target: 'participating', actions: assign({ events: ({ event }) => [event.eventId] }) } }
            },
            participating: {
              on: {
                EVENT_ASSIGNED: { actions: assign({ events: ({ context, event }) => context.events.includes(event.eventId) ? context.events : [...context.events, event.eventId] }) },
                EVENT_RELEASED: [
                  { guard: ({ context, event }) => context.events.length === 1 && context.events[0] === event.eventId, target: 'idle', actions: assign({ events: [] }) },
                  { actions: assign({ events: ({ context, event }) => context.events.filter(e => e !== event.eventId) }) }
                ]
              }
            }
          }
        }
      }
    },
    deregistered: { type: 'final' }
  }
})

export type CustomerSessionMachine = typeof customerSessionMachine
