/**
 * The OpenADR HTTP(S) server: serves one `PayloadHandler` at `{base}/OpenADR2/Simple/2.0b/{service}`, for a
 * VTN or for a VEN in push mode. It owns the HTTP edge only: method, path, content type, body size and
 * time limits (answered with a 4xx, the connection dropped when the body is too big), the TLS handshake
 * with client certificates, and the peer's identity (certificate fingerprint) handed to the handler.
 * What the XML says is the handler's business.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { OadrServiceName, PayloadHandler, PeerIdentity } from '../transport.js'
import { oadrFingerprint } from '../security/fingerprint.js'
import { secureContextOptions, type OadrTlsInit } from '../security/tls.js'
import { oadrContentType, servicePathTable } from './paths.js'

/** The subset of a pino logger this server writes to. */
export interface HttpLogger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

export interface OadrHttpServerInit {
  /**
   * Address to bind.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port to bind; 0 picks a free one (read it back from `url`).
   * @default 0
   */
  port?: number
  /**
   * Path prefix before `/OpenADR2/Simple/2.0b/`, without a trailing slash.
   * @default ''
   */
  basePath?: string
  /**
   * Largest request body accepted; a bigger one gets 413 and the connection is closed unread.
   * @default 1_048_576
   */
  maxBodyBytes?: number
  /**
   * Time allowed to receive a whole request (headers and body); a slower one gets 408.
   * @default 30_000
   */
  requestTimeoutMs?: number
  /**
   * How long an idle keep-alive connection stays open.
   * @default 30_000
   */
  keepAliveTimeoutMs?: number
  /** Serve HTTPS with client certificates instead of plain HTTP. */
  tls?: OadrTlsInit
}

export interface OadrHttpServerComponents {
  handler: PayloadHandler
  logger?: HttpLogger
  /** Answers requests outside the OpenADR paths (e.g. a JSON API on the same port); without it they get 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void
}

const defaultMaxBodyBytes = 1_048_576
const defaultRequestTimeoutMs = 30_000
const defaultKeepAliveTimeoutMs = 30_000
const xmlHeaders = { 'Content-Type': oadrContentType }
const acceptedContentTypes = new Set(['application/xml', 'text/xml'])

export class OadrHttpServer {
  private readonly host: string
  private readonly port: number
  private readonly maxBodyBytes: number
  private readonly routes: Map<string, OadrServiceName>
  private readonly server: http.Server
  private readonly secure: boolean
  private readonly handler: PayloadHandler
  private readonly logger?: HttpLogger
  private readonly fallback?: (req: IncomingMessage, res: ServerResponse) => void
  /** One identity per connection: the fingerprint is hashed once, not per request. */
  private readonly peers = new WeakMap<object, PeerIdentity>()
  private boundUrl?: string

  constructor (init: OadrHttpServerInit, components: OadrHttpServerComponents) {
    this.host = init.host ?? '127.0.0.1'
    this.port = init.port ?? 0
    this.maxBodyBytes = init.maxBodyBytes ?? defaultMaxBodyBytes
    this.routes = servicePathTable(init.basePath ?? '')
    this.handler = components.handler
    this.logger = components.logger
    this.fallback = components.fallback
    this.secure = init.tls !== undefined
    const requestTimeout = init.requestTimeoutMs ?? defaultRequestTimeoutMs
    const serverOptions: http.ServerOptions = {
      requestTimeout,
      headersTimeout: requestTimeout,
      keepAliveTimeout: init.keepAliveTimeoutMs ?? defaultKeepAliveTimeoutMs,
      // Node checks the two timeouts above only this often.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeout / 4)))
    }
    const listener = (req: IncomingMessage, res: ServerResponse): void => { this.serve(req, res) }
    this.server = init.tls === undefined
      ? http.createServer(serverOptions, listener)
      : https.createServer({ ...serverOptions, ...secureContextOptions(init.tls), requestCert: true }, listener)
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.logger?.debug({ err: err.message, code: err.code }, 'client error')
      const status = clientErrorStatus(err.code)
      if (status === undefined || !socket.writable) { socket.destroy(); return }
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    })
    if (this.secure) {
      this.server.on('tlsClientError', (err: Error) => { this.logger?.info({ err: err.message }, 'TLS handshake refused') })
    }
  }

  /** Base URL this server answers at, e.g. `http://127.0.0.1:34567`; set once started. */
  get url (): string {
    if (this.boundUrl === undefined) throw new Error('OadrHttpServer is not started')
    return this.boundUrl
  }

  async start (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    const address = this.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.boundUrl = `${this.secure ? 'https' : 'http'}://${host}:${address.port}`
    this.logger?.info({ url: this.boundUrl }, 'OpenADR HTTP server listening')
  }

  async stop (): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
    this.server.closeAllConnections()
    await closed
  }

  private serve (req: IncomingMessage, res: ServerResponse): void {
    const rawUrl = req.url ?? ''
    const query = rawUrl.indexOf('?')
    const service = this.routes.get(query === -1 ? rawUrl : rawUrl.slice(0, query))
    if (service === undefined) {
      if (this.fallback !== undefined) this.fallback(req, res)
      else refuse(res, 404, 'no OpenADR service at this path')
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      refuse(res, 405, 'OpenADR services accept POST only')
      return
    }
    if (!acceptsContentType(req.headers['content-type'])) {
      refuse(res, 415, `Content-Type must be ${oadrContentType}`)
      return
    }
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > this.maxBodyBytes) {
      this.tooLarge(req, res)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let refused = false
    req.on('data', (chunk: Buffer) => {
      if (refused) return
      size += chunk.length
      if (size > this.maxBodyBytes) {
        refused = true
        this.tooLarge(req, res)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (refused) return
      const xml = (chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)).toString('utf8')
      this.answer(service, xml, this.peerOf(req), res)
    })
    req.on('error', err => { this.logger?.debug({ err: err.message }, 'request aborted') })
  }

  private answer (service: OadrServiceName, xml: string, peer: PeerIdentity, res: ServerResponse): void {
    this.handler(service, xml, peer).then(answer => {
      if (res.writableEnded || res.destroyed) return
      res.writeHead(200, xmlHeaders)
      res.end(answer)
    }, (err: Error) => {
      // A handler must turn every error into an oadrResponse; reaching this is a bug, logged with its stack,
      // answered without it.
      this.logger?.error({ err: err.stack ?? String(err), service }, 'payload handler threw')
      if (!res.headersSent) refuse(res, 500, 'internal error')
    })
  }

  private tooLarge (req: IncomingMessage, res: ServerResponse): void {
    this.logger?.info({ remoteAddress: req.socket.remoteAddress, limit: this.maxBodyBytes }, 'request body too large')
    res.shouldKeepAlive = false
    refuse(res, 413, `body larger than ${this.maxBodyBytes} bytes`)
    // Stop reading: the rest of the body is never buffered, the connection ends after the answer.
    req.unpipe()
    req.pause()
    res.once('finish', () => { req.socket.destroySoon() })
  }

  private peerOf (req: IncomingMessage): PeerIdentity {
    const socket = req.socket
    let peer = this.peers.get(socket)
    if (peer === undefined) {
      peer = { transport: this.secure ? 'https' : 'http', remoteAddress: socket.remoteAddress }
      if (this.secure) {
        const cert = (socket as TLSSocket).getPeerCertificate()
        if (cert?.raw !== undefined) peer.fingerprint = oadrFingerprint(cert.raw)
      }
      this.peers.set(socket, peer)
    }
    return peer
  }
}

/** Status for a request Node's parser refused before it reached the listener; undefined: just drop it. */
function clientErrorStatus (code: string | undefined): number | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408
  if (code === 'HPE_HEADER_OVERFLOW') return 431
  if (code?.startsWith('HPE_') === true) return 400
  return undefined
}

function acceptsContentType (header: string | undefined): boolean {
  // Some VENs send no Content-Type at all; the body is still checked as XML by the handler.
  if (header === undefined) return true
  const semicolon = header.indexOf(';')
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase()
  return acceptedContentTypes.has(type)
}

function refuse (res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) })
  res.end(message)
}
