import { strict as assert } from 'node:assert'
import http from 'node:http'
import net from 'node:net'
import { OadrHttpServer, HttpPayloadSender, HttpStatusError, HttpTimeoutError, oadrServiceUrl } from '../../../src/openadr/http/index.js'
import { oadrServiceNames, type OadrServiceName, type PayloadHandler, type PeerIdentity } from '../../../src/openadr/transport.js'

interface Seen { service: OadrServiceName, xml: string, peer: PeerIdentity }

/** Answers each document with a document naming the service and the size it received. */
function recordingHandler (seen: Seen[]): PayloadHandler {
  return async (service, xml, peer) => {
    seen.push({ service, xml, peer })
    return `<answer service="${service}" bytes="${Buffer.byteLength(xml)}"/>`
  }
}

interface RawAnswer { status: number, headers: http.IncomingHttpHeaders, body: string }

async function post (url: string, init: { method?: string, headers?: Record<string, string | number>, body?: string | Buffer } = {}): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'POST', headers: init.headers ?? { 'Content-Type': 'application/xml' }, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }) })
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** Writes raw bytes on a socket and resolves with whatever comes back before the server closes it. */
async function raw (port: number, text: string, keepOpenMs = 0): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', c => chunks.push(c))
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString()) })
    socket.on('error', reject)
    socket.write(text)
    if (keepOpenMs > 0) setTimeout(() => socket.end(), keepOpenMs)
  })
}

describe('OadrHttpServer', () => {
  const seen: Seen[] = []
  let server: OadrHttpServer
  let port: number

  before(async () => {
    server = new OadrHttpServer({ maxBodyBytes: 64 * 1024, requestTimeoutMs: 300 }, { handler: recordingHandler(seen) })
    await server.start()
    port = Number(new URL(server.url).port)
  })
  after(async () => { await server.stop() })
  beforeEach(() => { seen.length = 0 })

  it('serves every 2.0b service at {base}/OpenADR2/Simple/2.0b/{service} with application/xml', async () => {
    for (const service of oadrServiceNames) {
      const answer = await post(oadrServiceUrl(server.url, service), { headers: { 'Content-Type': 'application/xml' }, body: `<p s="${service}"/>` })
      assert.equal(answer.status, 200)
      assert.equal(answer.headers['content-type'], 'application/xml')
      assert.equal(answer.body, `<answer service="${service}" bytes="${Buffer.byteLength(`<p s="${service}"/>`)}"/>`)
    }
    assert.deepEqual(seen.map(s => s.service), oadrServiceNames)
    assert.equal(seen[0]?.peer.transport, 'http')
    assert.equal(seen[0]?.peer.remoteAddress, '127.0.0.1')
  })

  it('accepts a charset parameter and text/xml, and decodes the body as UTF-8', async () => {
    const body = '<p>Zürich €</p>'
    const a = await post(oadrServiceUrl(server.url, 'EiEvent'), { headers: { 'Content-Type': 'application/xml; charset=UTF-8' }, body })
    const b = await post(oadrServiceUrl(server.url, 'EiEvent'), { headers: { 'Content-Type': 'text/xml' }, body })
    assert.equal(a.status, 200)
    assert.equal(b.status, 200)
    assert.equal(seen[0]?.xml, body)
  })

  it('answers 404 for a path that is not an OpenADR service', async () => {
    for (const path of ['/', '/OpenADR2/Simple/2.0b/', '/OpenADR2/Simple/2.0b/EiNothing', '/OpenADR2/Simple/2.0a/EiEvent', '/OpenADR2/Simple/2.0b/EiEvent/x']) {
      assert.equal((await post(`${server.url}${path}`, { body: '<x/>' })).status, 404, path)
    }
    assert.equal(seen.length, 0)
  })

  it('answers 405 with Allow: POST for another method', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const answer = await post(oadrServiceUrl(server.url, 'OadrPoll'), { method })
      assert.equal(answer.status, 405, method)
      assert.equal(answer.headers.allow, 'POST')
    }
    assert.equal(seen.length, 0)
  })

  it('answers 415 for a content type that is not XML', async () => {
    for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      assert.equal((await post(oadrServiceUrl(server.url, 'EiEvent'), { headers: { 'Content-Type': type }, body: '<x/>' })).status, 415, type)
    }
    assert.equal(seen.length, 0)
  })

  it('answers 413 to a declared oversize body without reading it, and keeps serving', async () => {
    const answer = await raw(port, `POST /OpenADR2/Simple/2.0b/EiEvent HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: 10485760\r\n\r\n<x>`)
    assert.match(answer, /^HTTP\/1\.1 413 /)
    assert.equal(seen.length, 0)
    assert.equal((await post(oadrServiceUrl(server.url, 'OadrPoll'), { body: '<x/>' })).status, 200)
  })

  it('answers 413 to a chunked body once it passes the limit, and keeps serving', async () => {
    const answer = await post(oadrServiceUrl(server.url, 'EiReport'), {
      headers: { 'Content-Type': 'application/xml', 'Transfer-Encoding': 'chunked' },
      body: Buffer.alloc(200 * 1024, 'a')
    })
    assert.equal(answer.status, 413)
    assert.equal(seen.length, 0)
    assert.equal((await post(oadrServiceUrl(server.url, 'OadrPoll'), { body: '<x/>' })).status, 200)
  })

  it('answers 408 to a body that does not arrive in time, and keeps serving', async () => {
    const answer = await raw(port, `POST /OpenADR2/Simple/2.0b/EiEvent HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: 100\r\n\r\n<x>`, 3000)
    assert.match(answer, /^HTTP\/1\.1 408 /)
    assert.equal(seen.length, 0)
    assert.equal((await post(oadrServiceUrl(server.url, 'OadrPoll'), { body: '<x/>' })).status, 200)
  })

  it('answers 400 to bytes that are not HTTP', async () => {
    assert.match(await raw(port, 'BREW /coffee HTCPCP/1.0\r\n\r\n'), /^HTTP\/1\.1 400 /)
  })
})

describe('OadrHttpServer with a handler that breaks its contract', () => {
  it('answers 500 without the stack trace and keeps serving', async () => {
    let calls = 0
    const server = new OadrHttpServer({}, {
      handler: async () => {
        calls++
        if (calls === 1) throw new Error('secret internals at /srv/x.ts:12')
        return '<ok/>'
      }
    })
    await server.start()
    try {
      const broken = await post(oadrServiceUrl(server.url, 'EiEvent'), { body: '<x/>' })
      assert.equal(broken.status, 500)
      assert.doesNotMatch(broken.body, /secret|\.ts:|at /)
      assert.equal((await post(oadrServiceUrl(server.url, 'EiEvent'), { body: '<x/>' })).body, '<ok/>')
    } finally {
      await server.stop()
    }
  })
})

describe('HttpPayloadSender', () => {
  const seen: Seen[] = []
  let server: OadrHttpServer

  before(async () => {
    server = new OadrHttpServer({ basePath: '/vtn' }, { handler: recordingHandler(seen) })
    await server.start()
  })
  after(async () => { await server.stop() })

  it('posts to the service under the base URL and reuses one kept-alive connection', async () => {
    const sender = new HttpPayloadSender({ baseUrl: `${server.url}/vtn/` })
    try {
      for (const service of oadrServiceNames) {
        assert.equal(await sender.send(service, '<q/>'), `<answer service="${service}" bytes="4"/>`)
      }
      // The server keeps one PeerIdentity per connection.
      assert.equal(new Set(seen.map(s => s.peer)).size, 1)
    } finally {
      sender.stop()
    }
  })

  it('rejects with HttpStatusError when the other end answers with an HTTP error', async () => {
    const sender = new HttpPayloadSender({ baseUrl: server.url })
    try {
      await assert.rejects(sender.send('EiEvent', '<q/>'), (err: Error) => err instanceof HttpStatusError && err.status === 404)
    } finally {
      sender.stop()
    }
  })

  it('rejects with HttpTimeoutError when no answer comes in time', async () => {
    const silent = new OadrHttpServer({}, { handler: async () => await new Promise<string>(() => {}) })
    await silent.start()
    const sender = new HttpPayloadSender({ baseUrl: silent.url, timeoutMs: 100 })
    try {
      await assert.rejects(sender.send('OadrPoll', '<q/>'), HttpTimeoutError)
    } finally {
      sender.stop()
      await silent.stop()
    }
  })

  it('refuses an https URL without TLS material', () => {
    assert.throws(() => new HttpPayloadSender({ baseUrl: 'https://127.0.0.1:1' }), TypeError)
  })
})
