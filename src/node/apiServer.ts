/**
 * The node's HTTP server: the JSON API under `/api/`, and the customer-facing OpenADR services when a
 * payload handler is given (the VTN of src/openadr), on one port. Long-lived: start()/stop().
 */
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveApi, type ApiComponents } from './api.js'

export interface ApiServerInit {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
}

export class ApiServer {
  private readonly server: Server
  private readonly host: string
  private readonly port: number

  constructor (init: ApiServerInit, private readonly components: ApiComponents) {
    this.host = init.host ?? '127.0.0.1'
    this.port = init.port ?? 0
    this.server = http.createServer((req, res) => {
      serveApi(req, res, this.components).then(served => {
        if (served) return
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'not-found', message: 'no such path' }))
      }, () => { if (!res.headersSent) { res.writeHead(500); res.end() } })
    })
  }

  get url (): string {
    const address = this.server.address() as AddressInfo | null
    if (address === null) throw new Error('ApiServer is not started')
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  async start (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, this.host, () => { this.server.off('error', reject); resolve() })
    })
  }

  async stop (): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
    this.server.closeAllConnections()
    await closed
  }
}
