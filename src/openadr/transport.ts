/**
 * The transport seam. What a VTN or VEN does with a message is independent of how the message travels:
 * a service is a `PayloadHandler` (one oadrPayload document in, one out, both XML text), and a transport
 * (HTTP, HTTPS, XMPP, in-process) only carries documents between a `PayloadSender` and a handler.
 * Under the codec, the same service is a `MessageHandler` (one decoded message in, one out): the
 * in-process object transport (`localMessageSender`) hands messages to it without encoding or parsing them.
 */
import type { OadrMessage } from './model/message.js'

export type OadrServiceName = 'EiRegisterParty' | 'EiEvent' | 'EiReport' | 'EiOpt' | 'OadrPoll'

export const oadrServiceNames: readonly OadrServiceName[] = ['EiRegisterParty', 'EiEvent', 'EiReport', 'EiOpt', 'OadrPoll']

/** What the transport knows about the other end, for authorisation (a venID bound to a certificate). */
export interface PeerIdentity {
  transport: 'http' | 'https' | 'xmpp' | 'local'
  /** OpenADR fingerprint of the client certificate (last 10 bytes of its SHA-256, colon-separated hex). */
  fingerprint?: string
  /** Remote address, for logs. */
  remoteAddress?: string
  /** XMPP: the sender's full JID. */
  jid?: string
}

/** Answers one oadrPayload document with another. Must never throw: errors become an oadrResponse. */
export type PayloadHandler = (service: OadrServiceName, xml: string, peer: PeerIdentity) => Promise<string>

export interface SendOptions {
  signal?: AbortSignal
}

/** Delivers one oadrPayload document to the other end's service and resolves to its answer document. */
export interface PayloadSender {
  send: (service: OadrServiceName, xml: string, options?: SendOptions) => Promise<string>
}

/**
 * A service under its codec: one decoded oadrPayload message in, one out. Must never throw: errors become an
 * oadrResponse. Messages are handed over, not copied: neither side changes a message once sent or received.
 */
export type MessageHandler = (service: OadrServiceName, message: OadrMessage, peer: PeerIdentity) => Promise<OadrMessage>

/** Delivers one decoded message to the other end's service and resolves to its decoded answer. */
export interface MessageSender {
  sendMessage: (service: OadrServiceName, message: OadrMessage, options?: SendOptions) => Promise<OadrMessage>
}

/** A sender either way: a VEN or VTN given a `MessageSender` skips its codec. */
export type AnySender = PayloadSender | MessageSender

export function isMessageSender (sender: AnySender): sender is MessageSender {
  return 'sendMessage' in sender
}
