/**
 * The OpenADR 2.0b layer: the model (spec names), the codec (oadrPayload text ↔ typed messages), the
 * transport-independent VTN and VEN, and the in-process transport. HTTP(S) and security live in ./http and
 * ./security.
 */
export * from './model/index.js'
export * from './codec/index.js'
export * from './errors.js'
export * from './transport.js'
export { Vtn } from './vtn/vtn.js'
export type { NewEvent, EventChange } from './vtn/events.js'
export type * from './vtn/types.js'
export { Ven } from './ven/ven.js'
export type * from './ven/types.js'
export { localSender, LocalNetwork, LocalTransportError } from './local.js'
