/**
 * The HTTP(S) `PayloadSender`: POSTs an oadrPayload to `{baseUrl}/OpenADR2/Simple/2.0b/{service}` over a
 * keep-alive agent (with this end's client certificate over HTTPS) and resolves to the answer document.
 * A VEN uses one toward its VTN; a VTN uses one per push-mode VEN toward the VEN's transport address.
 */
import http from 'node:http'
import https from 'node:https'
import type { OadrServiceName, PayloadSender, SendOptions } from '../transport.js'
import { secureContextOptions, type OadrTlsInit } from '../security/tls.js'
import { HttpBodyTooLargeError, HttpStatusError, HttpTimeoutError } from './errors.js'
import { oadrContentType, oadrServiceUrl } from './paths.js'

export interface HttpPayloadSenderInit {
  /** The other end's base URL, e.g. `https://vtn.example:8443` or `http://127.0.0.1:8080/prefix`. */
  baseUrl: string
  /** This end's certificate, key and trusted CAs; required for an `https:` base URL. */
  tls?: OadrTlsInit
  /**
   * Time allowed for the whole exchange.
   * @default 30_000
   */
  timeoutMs?: number
  /**
   * Largest answer accepted.
   * @default 16_777_216
   */
  maxResponseBytes?: number
  /**
   * Concurrent connections kept to the other end.
   * @default 4
   */
  maxSockets?: number
}

export class HttpPayloadSender implements PayloadSender {
  private readonly baseUrl: string
  private readonly agent: http.Agent
  private readonly request: typeof http.request
  private readonly timeoutMs: number
  private readonly maxResponseBytes: number

  constructor (init: HttpPayloadSenderInit) {
    const secure = new URL(init.baseUrl).protocol === 'https:'
    if (secure && init.tls === undefined) throw new TypeError(`${init.baseUrl}: an https URL needs tls options (client certificate)`)
    this.baseUrl = init.baseUrl
    this.timeoutMs = init.timeoutMs ?? 30_000
    this.maxResponseBytes = init.maxResponseBytes ?? 16_777_216
    const agentOptions = { keepAlive: true, maxSockets: init.maxSockets ?? 4 }
    this.agent = secure && init.tls !== undefined
      ? new https.Agent({ ...agentOptions, ...secureContextOptions(init.tls) })
      : new http.Agent(agentOptions)
    this.request = secure ? https.request : http.request
  }

  async send (service: OadrServiceName, xml: string, options: SendOptions = {}): Promise<string> {
    const url = oadrServiceUrl(this.baseUrl, service)
    const body = Buffer.from(xml, 'utf8')
    let resolve!: (answer: string) => void
    let reject!: (err: Error) => void
    const answer = new Promise<string>((resolve_, reject_) => { resolve = resolve_; reject = reject_ })
    const req = this.request(url, {
      method: 'POST',
      agent: this.agent,
      signal: options.signal,
      headers: { 'Content-Type': oadrContentType, 'Content-Length': body.length }
    }, res => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > this.maxResponseBytes) { req.destroy(new HttpBodyTooLargeError(url, this.maxResponseBytes)); return }
        chunks.push(chunk)
      })
      res.on('end', () => {
        const text = Buffer.concat(chunks, size).toString('utf8')
        if (res.statusCode === 200) resolve(text)
        else reject(new HttpStatusError(url, res.statusCode ?? 0, text))
      })
      res.on('error', reject)
    })
    const timer = setTimeout(() => { req.destroy(new HttpTimeoutError(url, this.timeoutMs)) }, this.timeoutMs)
    req.on('error', reject)
    req.end(body)
    try {
      return await answer
    } finally {
      clearTimeout(timer)
    }
  }

  /** Closes the kept-alive connections. */
  stop (): void {
    this.agent.destroy()
  }
}
