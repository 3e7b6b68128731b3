import { strict as assert } from 'node:assert'
import http from 'node:http'
import fc from 'fast-check'
import { OadrHttpServer, oadrServiceUrl } from '../../../src/openadr/http/index.js'
import { PayloadSigner, PayloadVerifier, signingHandler } from '../../../src/openadr/security/index.js'
import { oadrServiceNames } from '../../../src/openadr/transport.js'
import { testPki } from '../../helpers/certs.js'

/**
 * Mutated payloads against the HTTP edge and the signature check in front of a service. The Vtn service is
 * not in this test (it is the other engineer's): the handler behind the check only records what reached it.
 */
const poll = '<?xml version="1.0" encoding="UTF-8"?>\n<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' +
  '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-1</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>'

function response (code: string): string {
  return `<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject><oadrResponse><responseCode>${code}</responseCode></oadrResponse></oadrSignedObject></oadrPayload>`
}

interface Answer { status: number, body: string }

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

async function send (url: string, method: string, contentType: string, body: Buffer): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'Content-Type': contentType, 'Content-Length': body.length } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><oadrPayload>&lol2;</oadrPayload>'
const xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><oadrPayload>&e;</oadrPayload>'

describe('fuzz: mutated payloads at the HTTP edge and the signature check', function () {
  this.timeout(120_000)
  const pki = testPki('ecdsa')
  const ven = pki.client('ven-1')
  const signer = new PayloadSigner({ cert: ven.cert, key: ven.key })
  const reached: string[] = []
  let server: OadrHttpServer
  let signedObject: string

  before(async () => {
    const handler = signingHandler({
      handler: async (_service, xml) => { reached.push(xml); return response('200') },
      verifier: new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] }),
      refusal: (_service, _xml, error) => response(error.responseCode)
    })
    server = new OadrHttpServer({ maxBodyBytes: 256 * 1024 }, { handler })
    await server.start()
    signedObject = /<oadr:oadrSignedObject[\s\S]*<\/oadr:oadrSignedObject>/.exec(signer.sign(poll))?.[0] ?? ''
    assert.notEqual(signedObject, '')
  })
  after(async () => { agent.destroy(); await server.stop() })

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate'), at: fc.nat() }),
    fc.record({ kind: fc.constant('flip'), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('drop'), at: fc.nat() }),
    fc.record({ kind: fc.constant('duplicate'), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice'), at: fc.nat(), text: fc.constantFrom(bomb, xxe, '<!--', ']]>', '&amp;', '&#0;', '\u0000', '<ds:Signature/>', '</oadr:oadrPayload>') }),
    fc.record({ kind: fc.constant('whole'), text: fc.constantFrom(bomb, xxe, '', 'not xml', '{"json":true}', 'x'.repeat(300 * 1024)) })
  )

  function mutate (signed: string, m: { kind: string, at?: number, bits?: number, text?: string }): Buffer {
    const bytes = Buffer.from(signed)
    const at = (m.at ?? 0) % bytes.length
    switch (m.kind) {
      case 'truncate': return bytes.subarray(0, at)
      case 'flip': { const copy = Buffer.from(bytes); copy[at] = (copy[at] ?? 0) ^ (m.bits ?? 1); return copy }
      case 'drop': case 'duplicate': {
        // Whole elements: find the tag starting at or after `at` and drop or repeat it with its content.
        const start = signed.indexOf('<', at % signed.length)
        const name = /^<([\w:.-]+)/.exec(signed.slice(start))?.[1]
        const end = name === undefined ? -1 : signed.indexOf(`</${name}>`, start)
        if (start === -1 || end === -1 || name === undefined) return bytes
        const element = signed.slice(start, end + name.length + 3)
        return Buffer.from(signed.slice(0, start) + (m.kind === 'duplicate' ? element + element : '') + signed.slice(start + element.length))
      }
      case 'splice': return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text ?? ''), bytes.subarray(at)])
      default: return Buffer.from(m.text ?? '')
    }
  }

  it('answers every mutation with a refusal or a 4xx, lets through only intact signed objects, and keeps serving', async () => {
    await fc.assert(fc.asyncProperty(
      mutation,
      fc.constantFrom(...oadrServiceNames),
      fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT'),
      fc.constantFrom('application/xml', 'application/xml', 'application/xml', 'text/xml', 'application/json', 'text/plain'),
      async (m, service, method, contentType) => {
        const before = reached.length
        const answer = await send(oadrServiceUrl(server.url, service), method, contentType, mutate(signer.sign(poll), m))
        assert.ok(answer.status === 200 || (answer.status >= 400 && answer.status < 500), `status ${answer.status}`)
        assert.doesNotMatch(answer.body, /\n\s+at |Error:|\.ts:\d/)
        if (answer.status === 200) assert.match(answer.body, /<responseCode>(200|4\d\d)<\/responseCode>/)
        for (const xml of reached.slice(before)) assert.ok(xml.includes(signedObject), 'only a payload whose signed object is intact reaches the service')
      }
    ), { numRuns: 2000, seed: 20_240_601 })
    // Still serving: a fresh signed poll goes through.
    const ok = await send(oadrServiceUrl(server.url, 'OadrPoll'), 'POST', 'application/xml', Buffer.from(signer.sign(poll)))
    assert.match(ok.body, /<responseCode>200</)
  })
})
