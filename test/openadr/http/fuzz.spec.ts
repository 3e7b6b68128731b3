import { strict as assert } from 'node:assert'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { OadrHttpClients, OadrHttpServer, oadrServiceUrl, securedHandler } from '../../../src/openadr/http/index.js'
import { PayloadSigner } from '../../../src/openadr/security/index.js'
import { decodePayload, encodePayload, serviceOf } from '../../../src/openadr/codec/index.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import type { OadrMessage } from '../../../src/openadr/model/index.js'
import { oadrServiceNames, type OadrServiceName } from '../../../src/openadr/transport.js'
import { testPki } from '../../helpers/certs.js'
import { fullSamples, minimalSamples, telemetryMetadata } from '../codec/samples.js'

/**
 * Mutated payloads against a running VTN: the real Vtn service (LevelDB store) behind the HTTP edge and the
 * signature check. Before fuzzing, a VEN bound to its signing certificate (ven-1) and a plain VEN (ven-2)
 * are registered, an event is out for both, ven-1 has answered it and sent an opt schedule. Every mutation
 * must get an oadrResponse or a 4xx, never a 5xx or a stack trace; afterwards ven-1's records and the event
 * are as they were, in memory and in the store reopened from disk, and the VTN still serves both VENs.
 */
const poll = encodePayload({ type: 'oadrPoll', venID: 'ven-1' })

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

describe('fuzz: mutated payloads against a running VTN (HTTP edge, signature check, codec, service, store)', function () {
  this.timeout(120_000)
  const pki = testPki('ecdsa')
  const ven1 = pki.client('ven-1')
  const signer = new PayloadSigner({ cert: ven1.cert, key: ven1.key })
  const reached: Array<{ xml: string, signed: boolean }> = []
  const dataDir = mkdtempSync(join(tmpdir(), 'adrmesh-fuzz-vtn-'))
  const clients = new OadrHttpClients({ signWith: { cert: ven1.cert, key: ven1.key } })
  const plain = new OadrHttpClients({})
  let vtn: Vtn
  let server: OadrHttpServer
  let signedObject: string
  let storedBefore: string

  async function exchange (via: OadrHttpClients, message: OadrMessage): Promise<OadrMessage> {
    return decodePayload(await via.senderFor(server.url).send(serviceOf(message.type), encodePayload(message)))
  }

  /** ven-1's records and the event, as JSON (ven-2 speaks without proof: anyone may re-register or cancel it). */
  function stored (v: Vtn): string {
    return JSON.stringify({
      registration: v.registration('ven-1'),
      event: v.event('e-1'),
      responses: v.eventResponses('e-1').filter(r => r.venID === 'ven-1'),
      opts: v.optSchedules('ven-1'),
      offers: v.offeredReports('ven-1')
    })
  }

  before(async () => {
    vtn = new Vtn({ vtnID: 'vtn-fuzz', dataDir })
    await vtn.start()
    const handler = securedHandler(async (service, xml, peer) => {
      reached.push({ xml, signed: peer.fingerprint !== undefined })
      return await vtn.handler(service, xml, peer)
    }, { verify: { trustedCa: [pki.ca.cert] } })
    server = new OadrHttpServer({ maxBodyBytes: 256 * 1024 }, { handler })
    await server.start()
    const registration = { oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrHttpPullModel: true } as const
    assert.equal((await exchange(clients, { type: 'oadrCreatePartyRegistration', requestID: 'r1', venID: 'ven-1', oadrXmlSignature: true, oadrVenName: 'one', ...registration })).type, 'oadrCreatedPartyRegistration')
    assert.equal((await exchange(plain, { type: 'oadrCreatePartyRegistration', requestID: 'r2', venID: 'ven-2', oadrXmlSignature: false, oadrVenName: 'two', ...registration })).type, 'oadrCreatedPartyRegistration')
    await vtn.createEvent({
      eventID: 'e-1', marketContext: 'http://utility.example/dr', dtstartMs: Date.now() + 86_400_000, targets: { venIDs: ['ven-1', 'ven-2'] },
      signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 's', intervals: [{ durationMs: 900_000, values: [10] }, { durationMs: 900_000, values: [20] }] }]
    })
    assert.equal((await exchange(clients, { type: 'oadrPoll', venID: 'ven-1' })).type, 'oadrDistributeEvent')
    await exchange(clients, { type: 'oadrCreatedEvent', eiResponse: { responseCode: '200', requestID: 'd' }, venID: 'ven-1', eventResponses: [{ responseCode: '200', requestID: 'd', qualifiedEventID: { eventID: 'e-1', modificationNumber: 0 }, optType: 'optIn' }] })
    await exchange(clients, { type: 'oadrCreateOpt', optID: 'opt-1', optType: 'optOut', optReason: 'mustRun', venID: 'ven-1', createdDateTimeMs: Date.now(), requestID: 'o', qualifiedEventID: { eventID: 'e-1', modificationNumber: 0 }, eiTarget: {} })
    await exchange(clients, { type: 'oadrRegisterReport', requestID: 'rr', oadrReports: [telemetryMetadata], venID: 'ven-1' })
    assert.equal(vtn.eventResponses('e-1').length, 1)
    assert.equal(vtn.optSchedules('ven-1').length, 1)
    storedBefore = stored(vtn)
    signedObject = /<oadr:oadrSignedObject[\s\S]*<\/oadr:oadrSignedObject>/.exec(signer.sign(poll))?.[0] ?? ''
    assert.notEqual(signedObject, '')
  })
  after(async () => {
    agent.destroy()
    clients.stop()
    plain.stop()
    await server.stop()
    await vtn.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

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

  function checkAnswer (answer: Answer): void {
    assert.ok(answer.status === 200 || (answer.status >= 400 && answer.status < 500), `status ${answer.status}`)
    assert.doesNotMatch(answer.body, /\n\s+at |Error:|\.ts:\d/)
    if (answer.status !== 200) return
    const message = decodePayload(answer.body)
    if (message.type === 'oadrResponse') assert.match(message.eiResponse.responseCode, /^(200|4\d\d)$/, message.eiResponse.responseDescription)
  }

  it('signed payloads of a certificate-bound VEN: a refusal or a 4xx for every mutation, only intact signed objects are taken as signed', async () => {
    await fc.assert(fc.asyncProperty(
      mutation,
      fc.constantFrom(...oadrServiceNames),
      fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT'),
      fc.constantFrom('application/xml', 'application/xml', 'application/xml', 'text/xml', 'application/json', 'text/plain'),
      async (m, service, method, contentType) => {
        const from = reached.length
        checkAnswer(await send(oadrServiceUrl(server.url, service), method, contentType, mutate(signer.sign(poll), m)))
        for (const { xml, signed } of reached.slice(from)) if (signed) assert.ok(xml.includes(signedObject), 'only a payload whose signed object is intact is taken as signed')
      }
    ), { numRuns: 1000, seed: 20_240_601 })
  })

  it('every 2.0b message, mutated, from a plain VEN: an oadrResponse with a 2xx/4xx code or a 4xx, never a 5xx', async () => {
    const documents = [...fullSamples, ...minimalSamples].map(message => ({
      service: serviceOf(message.type),
      xml: encodePayload(message).replaceAll('>ven-1<', '>ven-2<').replaceAll('>v<', '>ven-2<')
    }))
    await fc.assert(fc.asyncProperty(
      mutation,
      fc.constantFrom(...documents),
      fc.constantFrom<OadrServiceName | undefined>(undefined, undefined, undefined, ...oadrServiceNames),
      async (m, document, otherService) => {
        checkAnswer(await send(oadrServiceUrl(server.url, otherService ?? document.service), 'POST', 'application/xml', mutate(document.xml, m)))
      }
    ), { numRuns: 2000, seed: 20_240_602 })
  })

  it('afterwards: what was stored is intact, in memory and on disk, and both VENs are still served', async () => {
    assert.equal(stored(vtn), storedBefore)
    assert.equal((await exchange(clients, { type: 'oadrPoll', venID: 'ven-1' })).type !== 'oadrRequestReregistration', true)
    await exchange(plain, { type: 'oadrCreatePartyRegistration', requestID: 'r3', venID: 'ven-2', oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp', oadrReportOnly: false, oadrXmlSignature: false, oadrVenName: 'two', oadrHttpPullModel: true })
    const answer = await exchange(plain, { type: 'oadrRequestEvent', requestID: 'q', venID: 'ven-2' })
    assert.equal(answer.type, 'oadrDistributeEvent')
    assert.deepEqual((answer as { oadrEvents: Array<{ eiEvent: { eventDescriptor: { eventID: string } } }> }).oadrEvents.map(e => e.eiEvent.eventDescriptor.eventID), ['e-1'])
    const byVenID = (v: Vtn): string => JSON.stringify(v.registrations().sort((a, b) => a.venID < b.venID ? -1 : 1))
    const inMemory = byVenID(vtn)
    await server.stop()
    await vtn.stop()
    vtn = new Vtn({ vtnID: 'vtn-fuzz', dataDir })
    await vtn.start()
    assert.equal(stored(vtn), storedBefore, 'the store reopened from disk holds the same records')
    assert.equal(byVenID(vtn), inMemory)
  })
})
