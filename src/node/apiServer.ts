/**
 * The node's HTTP server: the JSON API under `/api/`, and the customer-facing OpenADR services when a
 * payload handler is given (the node's VTN, behind src/openadr/http's OadrHttpServer with the API as its
 * fallback), on one port; a `front` handler (the dashboard) sees each request first. Long-lived: start()/stop().
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { OadrHttpServer } from '../openadr/http/server.js'
import type { OadrTlsInit } from '../openadr/security/tls.js'
import type { PayloadHandler } from '../openadr/transport.js'
import { serveApi, type ApiComponents } from './api.js'

export interface ApiServerInit {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
  /** HTTPS with client certificates (OpenADR services only). @default plain HTTP */
  tls?: OadrTlsInit
}

export interface ApiServerComponents extends ApiComponents {
  /** The OpenADR services served at `/OpenADR2/Simple/2.0b/…` on the same port. @default none */
  oadr?: PayloadHandler
  /** Tried before the JSON API (the dashboard's `handle`); resolves to false to pass the request on. @default none */
  front?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>
}

export class ApiServer {
  private readonly server: Server | undefined
  private readonly oadrServer: OadrHttpServer | undefined
  private readonly host: string
  private readonly port: number

  constructor (init: ApiServerInit, private readonly components: ApiServerComponents) {
    this.host = init.host ?? '127.0.0.1'
    this.port = init.port ?? 0
    const front = components.front ?? (async () => false)
    const api = (req: IncomingMessage, res: ServerResponse): void => {
      front(req, res).then(async served => served || await serveApi(req, res, this.components)).then(served => {
        if (served) return
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'not-found', message: 'no such path' }))
      }, () => { if (!res.headersSent) { res.writeHead(500); res.end() } })
    }
    if (components.oadr !== undefined) {
      this.oadrServer = new OadrHttpServer({ host: this.host, port: this.port, ...(init.tls === undefined ? {} : { tls: init.tls }) },
        { handler: components.oadr, fallback: api })
    } else {
      this.server = http.createServer(api)
    }
  }

  get url (): string {
    if (this.oadrServer !== undefined) return this.oadrServer.url
    const address = this.server?.address() as AddressInfo | null
    if (address === null) throw new Error('ApiServer is not started')
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  async start (): Promise<void> {
    if (this.oadrServer !== undefined) { await this.oadrServer.start(); return }
    const server = this.server as Server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, this.host, () => { server.off('error', reject); resolve() })
    })
  }

  async stop (): Promise<void> {
    if (this.oadrServer !== undefined) { await this.oadrServer.stop(); return }
    const server = this.server as Server
    if (!server.listening) return
    const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
    server.closeAllConnections()
    await closed
  }
}
