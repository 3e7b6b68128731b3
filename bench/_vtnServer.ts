/**
 * Child process of `bench/vtn.ts`: the server under load, alone in its process so that the load generator
 * does not share its event loop. Prints `{"url": …}` once listening, its CPU time on each `cpu` line read from stdin; stops on SIGTERM.
 * `vtn`: the real Vtn service (strict codec, registered VENs, in-memory store) behind OadrHttpServer;
 * `transport`: OadrHttpServer answering a fixed body (the HTTP edge's ceiling); `bare`: a bare Node server.
 */
import '../src/util/polyfills.js'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { OadrHttpServer } from '../src/openadr/http/server.js'
import { Vtn } from '../src/openadr/vtn/vtn.js'
import { encodePayload } from '../src/openadr/codec/index.js'
import type { PayloadHandler } from '../src/openadr/transport.js'

/** VENs registered before the load starts; the load polls as the first of them. */
const registeredVens = 100

const emptyPollAnswer = '<?xml version="1.0" encoding="UTF-8"?>\n<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads">' +
  '<oadr:oadrSignedObject><oadr:oadrResponse ei:schemaVersion="2.0b"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><pyld:requestID/></ei:eiResponse>' +
  '<ei:venID>ven-0</ei:venID></oadr:oadrResponse></oadr:oadrSignedObject></oadr:oadrPayload>'

async function vtnHandler (): Promise<PayloadHandler> {
  const vtn = new Vtn({ vtnID: 'bench-vtn' })
  await vtn.start()
  for (let i = 0; i < registeredVens; i++) {
    const answer = await vtn.handler('EiRegisterParty', encodePayload({
      type: 'oadrCreatePartyRegistration', requestID: `r-${i}`, venID: `ven-${i}`, oadrProfileName: '2.0b', oadrTransportName: 'simpleHttp',
      oadrReportOnly: false, oadrXmlSignature: false, oadrVenName: `site-${i}`, oadrHttpPullModel: true
    }), { transport: 'http' })
    if (!answer.includes('oadrCreatedPartyRegistration')) throw new Error(`registration of ven-${i} failed: ${answer}`)
  }
  return vtn.handler
}

// `cpu` on stdin: this process's CPU time so far, so the bench can charge each case its own cost.
createInterface({ input: process.stdin }).on('line', () => {
  const { user, system } = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`)
})

const kind = process.argv[2] ?? 'vtn'
if (kind === 'bare') {
  const bare = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/xml' }); res.end(emptyPollAnswer) })
  })
  bare.listen(0, '127.0.0.1', () => {
    const { port } = bare.address() as { port: number }
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, handler: 'bare-node' })}\n`)
  })
  process.on('SIGTERM', () => { bare.close(); process.exit(0) })
} else {
  const handler: PayloadHandler = kind === 'transport' ? async () => emptyPollAnswer : await vtnHandler()
  const server = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler })
  await server.start()
  process.stdout.write(`${JSON.stringify({ url: server.url, handler: kind })}\n`)
  process.on('SIGTERM', () => { void server.stop().then(() => process.exit(0)) })
}
