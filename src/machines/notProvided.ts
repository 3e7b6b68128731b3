/**
 * Placeholders for the actors and actions a chart declares but the wiring implements (`machine.provide`).
 * A chart run without its implementation fails loudly (the actor ends in error) instead of pretending.
 */
import { fromPromise } from 'xstate'

export class NotProvidedError extends Error {
  constructor (readonly implementation: string) {
    super(`'${implementation}' must be provided with machine.provide() by the wiring`)
    this.name = 'NotProvidedError'
  }
}

export function notProvidedActor<TOutput, TInput> (name: string) {
  return fromPromise<TOutput, TInput>(async () => { throw new NotProvidedError(name) })
}

export function notProvidedAction (name: string): never {
  throw new NotProvidedError(name)
}
