/**
 * The transport seam. What a VTN or VEN does with a message is independent of how the message travels:
 * a service is a `PayloadHandler` (one oadrPayload document in, one out, both XML text), and a transport
 * (HTTP, HTTPS, XMPP, in-process) only carries documents between a `PayloadSender` and a handler.
 */
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
