/**
 * Errors of the XMPP transport. Callers match on `name`.
 */

/** A payload could not be delivered before its deadline or abort. */
export class XmppDeliveryError extends Error {
  constructor (message: string, readonly attempts: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'XmppDeliveryError'
  }
}

/** The other end answered the IQ with a final stanza error (bad-request, not-authorized, …). */
export class XmppStanzaError extends Error {
  constructor (readonly condition: string, text: string) {
    super(text === '' ? condition : `${condition}: ${text}`)
    this.name = 'XmppStanzaError'
  }
}

/** The XMPP server refused this end's credentials: retrying cannot help. */
export class XmppAuthenticationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'XmppAuthenticationError'
  }
}

/** The text handed to the transport is not an oadrPayload document it can carry. */
export class XmppPayloadError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'XmppPayloadError'
  }
}

/** The endpoint was stopped while a send waited. */
export class XmppStoppedError extends Error {
  constructor () {
    super('XMPP endpoint stopped')
    this.name = 'XmppStoppedError'
  }
}
