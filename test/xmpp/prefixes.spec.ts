import assert from 'node:assert/strict'
import { xml } from '@xmpp/client'
import { decodePayload, encodePayload } from '../../src/openadr/codec/index.js'
import { payloadElementOf } from '../../src/xmpp/payloadElement.js'
import { withConventionalPrefixes } from '../../src/xmpp/prefixes.js'

const ei = 'http://docs.oasis-open.org/ns/energyinterop/201110'

describe('xmpp: conventional prefixes restored after a server re-serialised a payload', () => {
  it('turns Prosody\'s default-namespace and ns1: forms back into oadr:/ei: names', () => {
    const asProsodySendsIt = '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject>' +
      `<oadrPoll xmlns:ns1="${ei}" ns1:schemaVersion="2.0b"><venID xmlns="${ei}">v1</venID></oadrPoll></oadrSignedObject></oadrPayload>`
    const restored = withConventionalPrefixes(payloadElementOf(asProsodySendsIt)).toString()
    assert.equal(restored, `<oadr:oadrPayload xmlns:ei="${ei}" xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><oadr:oadrSignedObject>` +
      '<oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>v1</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>')
  })

  it('resolves namespaces declared on the enclosing stanza', () => {
    const iq = xml('iq', { xmlns: 'jabber:client', 'xmlns:o': 'http://openadr.org/oadr-2.0b/2012/07', 'xmlns:e': ei },
      xml('o:oadrPayload', {}, xml('o:oadrSignedObject', {}, xml('o:oadrPoll', { 'e:schemaVersion': '2.0b' }, xml('e:venID', {}, 'v9')))))
    const payload = iq.getChildElements()[0]
    assert.ok(payload !== undefined)
    const message = decodePayload(withConventionalPrefixes(payload).toString())
    assert.deepEqual(message, { type: 'oadrPoll', venID: 'v9' })
  })

  it('keeps names of unknown namespaces, unprefixed attributes and text, and round-trips an encoded payload', () => {
    const original = encodePayload({ type: 'oadrRequestEvent', requestID: 'r&<1>', venID: 'ven "1"' })
    const restored = withConventionalPrefixes(payloadElementOf(original)).toString()
    assert.deepEqual(decodePayload(restored), decodePayload(original))
    const foreign = withConventionalPrefixes(payloadElementOf('<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><x:any xmlns:x="urn:x" id="7"><plain xmlns="">t</plain></x:any></oadrPayload>')).toString()
    assert.equal(foreign, '<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><any xmlns="urn:x" id="7"><plain xmlns="">t</plain></any></oadr:oadrPayload>')
  })
})
