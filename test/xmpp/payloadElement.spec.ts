import assert from 'node:assert/strict'
import { encodePayload } from '../../src/openadr/codec/index.js'
import { payloadElementOf, serviceOfPayload } from '../../src/xmpp/payloadElement.js'

describe('xmpp: payloadElementOf (what the transport agrees to carry)', () => {
  it('refuses DOCTYPE, malformed XML and non-oadrPayload roots with XmppPayloadError', () => {
    const ns = 'http://openadr.org/oadr-2.0b/2012/07'
    assert.throws(() => payloadElementOf(`<!DOCTYPE x [<!ENTITY a "b">]><oadrPayload xmlns="${ns}"/>`), { name: 'XmppPayloadError', message: /DOCTYPE/ })
    assert.throws(() => payloadElementOf(`<oadrPayload xmlns="${ns}"><a></b></oadrPayload>`), { name: 'XmppPayloadError', message: /well-formed/ })
    assert.throws(() => payloadElementOf('<oadrPayload xmlns="urn:other"/>'), { name: 'XmppPayloadError', message: /root/ })
    assert.throws(() => payloadElementOf(`<x:oadrPayload xmlns="${ns}"/>`), { name: 'XmppPayloadError' })
  })

  it('names the service of each message, by local name whatever the prefix', () => {
    assert.equal(serviceOfPayload(payloadElementOf(encodePayload({ type: 'oadrPoll', venID: 'v' }))), 'OadrPoll')
    assert.equal(serviceOfPayload(payloadElementOf(encodePayload({ type: 'oadrRequestEvent', requestID: 'r', venID: 'v' }))), 'EiEvent')
    assert.equal(serviceOfPayload(payloadElementOf('<p:oadrPayload xmlns:p="http://openadr.org/oadr-2.0b/2012/07"><p:oadrSignedObject><p:oadrCreateOpt/></p:oadrSignedObject></p:oadrPayload>')), 'EiOpt')
    assert.equal(serviceOfPayload(payloadElementOf('<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject><oadrNothing/></oadrSignedObject></oadrPayload>')), undefined)
  })

  it('keeps text, CDATA and the XML declaration out of the stanza', () => {
    const element = payloadElementOf(`<?xml version="1.0"?>\n<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><t><![CDATA[a<b]]> &amp; c</t></oadrPayload>`)
    assert.equal(element.toString(), '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><t>a&lt;b &amp; c</t></oadrPayload>')
  })
})
