/**
 * The node statechart: starting → ready → draining → stopped (or failed when it cannot start).
 *
 * Decision: the wiring, not this chart, spawns the DR-event and customer-session actors. Each of those is
 * persisted under its own key, restored on its own, and audited in its own log; as children of this chart
 * they would be persisted inside one growing snapshot rewritten on every transition of any of them. This
 * chart owns the node's lifecycle and the admission rule: new events and registrations are accepted only
 * in `ready`; in `draining` the live actors are persisted and the services stopped.
 */
import { assign, setup } from 'xstate'
import { notProvidedActor } from './notProvided.js'

export interface NodeContext {
  nodeId: string
  failure: string | null
}

export type NodeEvent = { type: 'SHUTDOWN', signal?: string }

export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeEvent,
    input: {} as { nodeId: string }
  },
  actors: {
    /** Opens the store, restores live actors, starts the transports. */
    startServices: notProvidedActor<void, { nodeId: string }>('startServices'),
    /** Stops accepting, lets in-flight work persist, stops the transports and closes the store. */
    drain: notProvidedActor<void, { nodeId: string }>('drain')
  }
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ nodeId: input.nodeId, failure: null }),
  initial: 'starting',
  states: {
    starting: {
      invoke: {
        src: 'startServices',
        input: ({ context }) => ({ nodeId: context.nodeId }),
        onDone: 'ready',
        onError: { target: 'failed', actions: assign({ failure: ({ event }) => String(event.error) }) }
      },
      // A signal while starting still drains what was started.
      on: { SHUTDOWN: 'draining' }
    },
    ready: { on: { SHUTDOWN: 'draining' } },
    draining: {
      invoke: {
        src: 'drain',
        input: ({ context }) => ({ nodeId: context.nodeId }),
        onDone: 'stopped',
        onError: { target: 'failed', actions: assign({ failure: ({ event }) => String(event.error) }) }
      }
    },
    stopped: { type: 'final' },
    failed: { type: 'final' }
  }
})

export type NodeMachine = typeof nodeMachine
