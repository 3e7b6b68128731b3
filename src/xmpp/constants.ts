/**
 * Names the OpenADR 2.0b XMPP binding and RFC 6120 give to things: the payload namespace the IQ child is
 * matched on, the stanza-error namespace, and the service-discovery names of the OpenADR services.
 */
/** The oadrPayload namespace: an OpenADR IQ's single child is `{oadrNs}oadrPayload`. */
export const oadrPayloadNs = 'http://openadr.org/oadr-2.0b/2012/07'

export const stanzaErrorNs = 'urn:ietf:params:xml:ns:xmpp-stanzas'

/** XEP-0030 feature an OpenADR 2.0 entity advertises. */
export const openadrFeature = 'http://openadr.org/openadr2'

/** XEP-0030 items node listing the JID of each OpenADR service, and each item's node prefix. */
export const openadrServicesNode = 'http://openadr.org/openadr2#services'
export const openadrServiceNodePrefix = 'http://openadr.org/OpenADR2/'

export const discoInfoNs = 'http://jabber.org/protocol/disco#info'
export const discoItemsNs = 'http://jabber.org/protocol/disco#items'

/**
 * Stanza-error conditions that mean "not there now": the server bounces an IQ to an offline full JID with
 * service-unavailable (it does not store IQs), so these are retried; every other condition is final.
 */
export const transientConditions: ReadonlySet<string> = new Set([
  'service-unavailable', 'recipient-unavailable', 'remote-server-timeout', 'remote-server-not-found', 'resource-constraint'
])
