/**
 * Child process of `bench/vtn.ts`: the server under load, alone in its process so that the load generator
 * does not share its event loop. Prints `{"url": …}` once listening; stops on SIGTERM.
 */
import '../src/util/polyfills.js'
import http from 'node:http'
import { OadrHttpServer } from '../src/openadr/http/server.js'
import type { PayloadHandler } from '../src/openadr/transport.js'

/**
 * Until the Vtn service exists this serves the transport alone: every oadrPoll gets the fixed oadrResponse
 * a VTN sends when nothing is queued, so the figures are the HTTP edge's ceiling, not the VTN's.
 */
const emptyPollAnswer = '<?xml version="1.0" encoding="UTF-8"?>\n<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads">' +
  '<oadr:oadrSignedObject><oadr:oadrResponse ei:schemaVersion="2.0b"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><pyld:requestID/></ei:eiResponse>' +
  '<ei:venID>ven-0</ei:venID></oadr:oadrResponse></oadr:oadrSignedObject></oadr:oadrPayload>'

const handler: PayloadHandler = async () => emptyPollAnswer

if (process.argv[2] === 'bare') {
  // The reference: a bare Node server answering the same body, to print the edge's cost as a ratio.
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
  const server = new OadrHttpServer({ host: '127.0.0.1', port: 0 }, { handler })
  await server.start()
  process.stdout.write(`${JSON.stringify({ url: server.url, handler: 'transport' })}\n`)
  process.on('SIGTERM', () => { void server.stop().then(() => process.exit(0)) })
}
