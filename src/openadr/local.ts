/**
 * The in-process transports: a PayloadSender that hands documents straight to a PayloadHandler, with the
 * identity it should present, and a MessageSender that hands decoded messages straight to a MessageHandler
 * (the same VTN or VEN service, without encoding and parsing XML: for large simulations). `LocalNetwork`
 * maps transport addresses to handlers, so a VTN can push to VENs living in the same process (tests, the
 * simulator) exactly as it would over HTTP.
 */
import type { OadrMessage } from './model/message.js'
import type { MessageHandler, MessageSender, OadrServiceName, PayloadHandler, PayloadSender, PeerIdentity, SendOptions } from './transport.js'

export class LocalTransportError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'LocalTransportError'
  }
}

/** A sender that calls `handler` directly, presenting `peer` as the sender's identity. */
export function localSender (handler: PayloadHandler, peer: PeerIdentity = { transport: 'local' }): PayloadSender {
  return {
    async send (service: OadrServiceName, xml: string, options?: SendOptions): Promise<string> {
      options?.signal?.throwIfAborted()
      return await handler(service, xml, peer)
    }
  }
}

/** A sender that calls the service `handler` with decoded messages, presenting `peer` as the sender's identity. */
export function localMessageSender (handler: MessageHandler, peer: PeerIdentity = { transport: 'local' }): MessageSender {
  return {
    // The handler's own promise, without one more around it: a simulation sends every customer's messages through here.
    sendMessage (service: OadrServiceName, message: OadrMessage, options?: SendOptions): Promise<OadrMessage> {
      if (options?.signal?.aborted === true) return Promise.reject(options.signal.reason)
      return handler(service, message, peer)
    }
  }
}

/** Handlers by address, for pushes inside one process. */
export class LocalNetwork {
  private readonly handlers = new Map<string, PayloadHandler>()

  /** Makes `handler` reachable at `address` (e.g. `local://ven-1`). */
  listen (address: string, handler: PayloadHandler): void {
    this.handlers.set(address, handler)
  }

  close (address: string): void {
    this.handlers.delete(address)
  }

  /** A sender to whatever listens at `address` when a document is sent (an error if nothing does). */
  senderFor (address: string, peer: PeerIdentity = { transport: 'local' }): PayloadSender {
    return {
      send: async (service, xml, options) => {
        const handler = this.handlers.get(address)
        if (handler === undefined) throw new LocalTransportError(`nothing listens at ${address}`)
        return await localSender(handler, peer).send(service, xml, options)
      }
    }
  }
}
