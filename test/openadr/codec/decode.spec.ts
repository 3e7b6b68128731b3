import assert from 'node:assert/strict'
import { decodePayload, encodePayload } from '../../../src/openadr/codec/index.js'
import { OadrError } from '../../../src/openadr/errors.js'
import { fullSamples } from './samples.js'

const poll = encodePayload({ type: 'oadrPoll', venID: 'ven-1' })
const distribute = encodePayload(fullSamples.find(m => m.type === 'oadrDistributeEvent') ?? fullSamples[0]!)
const registration = encodePayload(fullSamples.find(m => m.type === 'oadrCreatePartyRegistration') ?? fullSamples[0]!)

function refuses (xml: string, name: string, code: string): void {
  assert.throws(() => decodePayload(xml), (err: unknown) => {
    assert.ok(err instanceof OadrError, `expected an OadrError, got ${String(err)}`)
    assert.equal(err.name, name, err.message)
    assert.equal(err.responseCode, code)
    return true
  })
}

describe('codec: strict decoding', () => {
  it('refuses text that is not XML with XmlSyntaxError (400)', () => {
    refuses('hello', 'XmlSyntaxError', '400')
    refuses('', 'XmlSyntaxError', '400')
    refuses(poll.slice(0, -10), 'XmlSyntaxError', '400')
    refuses(poll.replace('</ei:venID>', '</ei:venid>'), 'XmlSyntaxError', '400')
    refuses(poll.replace('ven-1', 'a & b'), 'XmlSyntaxError', '400')
    refuses(poll.replace('ven-1', 'a\u0001b'), 'XmlSyntaxError', '400')
    refuses(poll + '<x/>', 'XmlSyntaxError', '400')
  })

  it('refuses any DOCTYPE or entity declaration (XXE, billion laughs) with XmlDoctypeError (400)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + poll.replace('<?xml version="1.0" encoding="utf-8"?>\n', '').replace('ven-1', '&x;')
    refuses(xxe, 'XmlDoctypeError', '400')
    const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    refuses(laughs, 'XmlDoctypeError', '400')
    refuses(poll.replace('ven-1', '&lol;'), 'XmlSyntaxError', '400')
  })

  it('refuses a wrong root with SchemaViolationError (459)', () => {
    refuses('<oadrPoll xmlns="http://openadr.org/oadr-2.0b/2012/07"/>', 'SchemaViolationError', '459')
    refuses(poll.replace(/oadr-2\.0b\/2012\/07/g, 'oadr-2.0a/2012/07'), 'SchemaViolationError', '459')
  })

  it('refuses missing, unexpected and misordered elements with SchemaViolationError (459)', () => {
    refuses(poll.replace('<ei:venID>ven-1</ei:venID>', ''), 'SchemaViolationError', '459')
    refuses(poll.replace('</ei:venID>', '</ei:venID><ei:venID>2</ei:venID>'), 'SchemaViolationError', '459')
    refuses(registration.replace(/<oadr:oadrReportOnly>false<\/oadr:oadrReportOnly>/, ''), 'SchemaViolationError', '459')
    refuses(distribute.replace(/<pyld:requestID>d-1<\/pyld:requestID><ei:vtnID>vtn-1<\/ei:vtnID>/, '<ei:vtnID>vtn-1</ei:vtnID><pyld:requestID>d-1</pyld:requestID>'), 'SchemaViolationError', '459')
    refuses(poll.replace('<ei:venID>', 'text<ei:venID>'), 'SchemaViolationError', '459')
    refuses(poll.replace('<ei:venID>', '<ei:venID foo="1">'), 'SchemaViolationError', '459')
  })

  it('refuses wrong enumerations and simple types with SchemaViolationError (459)', () => {
    refuses(distribute.replace('<ei:signalType>setpoint</ei:signalType>', '<ei:signalType>watts</ei:signalType>'), 'SchemaViolationError', '459')
    refuses(distribute.replace('<ei:signalName>SIMPLE</ei:signalName>', '<ei:signalName>COMPLEX</ei:signalName>'), 'SchemaViolationError', '459')
    refuses(distribute.replace('<ei:eventStatus>far</ei:eventStatus>', '<ei:eventStatus>soon</ei:eventStatus>'), 'SchemaViolationError', '459')
    refuses(distribute.replace('<ei:modificationNumber>2</ei:modificationNumber>', '<ei:modificationNumber>-1</ei:modificationNumber>'), 'SchemaViolationError', '459')
    refuses(distribute.replace('<ei:value>120.5</ei:value>', '<ei:value>lots</ei:value>'), 'SchemaViolationError', '459')
    refuses(distribute.replace(/<xcal:date-time>2026-01-15T12:00:00.000Z/, '<xcal:date-time>yesterday'), 'SchemaViolationError', '459')
    refuses(distribute.replace('<xcal:duration>PT1H</xcal:duration>', '<xcal:duration>an hour</xcal:duration>'), 'SchemaViolationError', '459')
    refuses(registration.replace('<oadr:oadrHttpPullModel>false', '<oadr:oadrHttpPullModel>no'), 'SchemaViolationError', '459')
    refuses(poll.replace('schemaVersion="2.0b"', 'schemaVersion="3.0"'), 'SchemaViolationError', '459')
  })

  it('accepts what the schema allows beyond our own output: default namespaces, comments, CDATA, x- names', () => {
    const other = '<?xml version="1.0" encoding="UTF-8"?><!-- hi --><oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07">' +
      '<oadrSignedObject Id="oadrSignedObject"><oadrPoll xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" ei:schemaVersion="2.0b">' +
      '<ei:venID><![CDATA[ven&1]]></ei:venID></oadrPoll></oadrSignedObject></oadrPayload>'
    assert.deepEqual(decodePayload(other), { type: 'oadrPoll', venID: 'ven&1' })
  })
})
