/**
 * The node toward an upstream VTN over XMPP, OpenADR 2.0b's other transport. It is the same `UpstreamVen`
 * (events, opt answers, reports, re-registration when the customers' market contexts change), registered in
 * the push model with the node's full JID as its transport address, whose payloads an `XmppEndpoint` carries:
 * resent until acknowledged, deduplicated on receipt, reconnecting with backoff when the server goes away.
 * Owns the endpoint's lifetime (up before the VEN registers, down after it stops), which pushes it accepts
 * (the upstream VTN's account only), and the mapping from the node's configuration to the endpoint's options.
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { decodePayload, encodePayload } from '../openadr/codec/index.js'
import { ResponseCode } from '../openadr/errors.js'
import type { PayloadHandler } from '../openadr/transport.js'
import type { Clock } from '../util/clock.js'
import type { Random } from '../util/random.js'
import { XmppEndpoint, type XmppEndpointInit } from '../xmpp/xmppEndpoint.js'
import type { NodeConfig } from './config.js'
import { UpstreamVen, type UpstreamVenInit } from './upstreamVen.js'

export interface UpstreamXmppInit extends Omit<UpstreamVenInit, 'upstreamUrl' | 'tls' | 'push'> {
  /** The node's XMPP session: service, domain, account, password or client certificate, CA. */
  xmpp: XmppEndpointInit
  /** The upstream VTN's full JID (`vtn@domain/resource`): IQs go to a resource, not to an account. */
  vtnJid: string
}

export interface UpstreamXmppComponents {
  clock: Clock
  logger: Logger
  /** Jitter of the endpoint's reconnect and resend delays. */
  random: Random
}

export class UpstreamXmppConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UpstreamXmppConfigError'
  }
}

function bareJid (jid: string): string {
  const slash = jid.indexOf('/')
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase()
}

/** An oadrResponse refusing a push, echoing its requestID when the payload has one. */
function refusal (document: string, code: string, description: string): string {
  let requestID = ''
  try {
    const message = decodePayload(document)
    if ('requestID' in message) requestID = message.requestID
  } catch {}
  return encodePayload({ type: 'oadrResponse', eiResponse: { responseCode: code, responseDescription: description, requestID } })
}

export class UpstreamXmpp extends UpstreamVen {
  /** The node's XMPP session toward the upstream VTN. */
  readonly endpoint: XmppEndpoint

  constructor (init: UpstreamXmppInit, components: UpstreamXmppComponents) {
    const { xmpp, vtnJid, ...venInit } = init
    // The endpoint serves pushes before `super` returns a `this` to hand them to: bound late.
    let upstream: UpstreamXmpp | undefined
    const handler: PayloadHandler = async (service, document, peer) => {
      // Any account on the server can address the node; only the upstream VTN's is its VTN.
      if (peer.jid === undefined || bareJid(peer.jid) !== bareJid(vtnJid)) {
        components.logger.warn({ from: peer.jid, service }, 'push from a JID that is not the upstream VTN refused')
        return refusal(document, ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, `${peer.jid ?? 'unknown sender'} is not this node's VTN`)
      }
      let ven
      try { ven = upstream?.ven } catch {}
      if (ven === undefined) return refusal(document, ResponseCode.NOT_ALLOWED, 'not registered yet')
      return await ven.handler(service, document, peer)
    }
    const endpoint = new XmppEndpoint(xmpp, { random: components.random, logger: components.logger, handler })
    super({ ...venInit, upstreamUrl: `xmpp:${vtnJid}`, push: { transportName: 'xmpp', transportAddress: endpoint.jid } },
      { clock: components.clock, logger: components.logger, sender: endpoint.senderTo(vtnJid) })
    this.endpoint = endpoint
    upstream = this
  }

  /** Opens the XMPP session (failing on refused credentials), then registers with the VTN over it. */
  override async start (): Promise<void> {
    await this.endpoint.start()
    try {
      await super.start()
    } catch (err) {
      await this.endpoint.stop()
      throw err
    }
  }

  override async stop (): Promise<void> {
    await super.stop()
    await this.endpoint.stop()
  }
}

/** What the node's configuration does not set: periods, delays, and how PEM files are read. */
export interface UpstreamXmppTuning extends Pick<UpstreamVenInit, 'telemetryPeriodMs' | 'answerTimeoutMs' | 'retryMs'> {
  /** The endpoint's delays. @default the endpoint's defaults */
  delays?: Pick<XmppEndpointInit, 'reconnect' | 'resend' | 'ackTimeoutMs' | 'deliveryTimeoutMs'>
  /** @default fs.readFile as UTF-8 */
  readFile?: (path: string) => Promise<string>
}

/**
 * The upstream over XMPP that `config` asks for (`upstreamTransport: 'xmpp'`), reading its PEM files;
 * a clear error names what is missing.
 */
export async function upstreamXmppOf (config: NodeConfig, components: UpstreamXmppComponents, tuning: UpstreamXmppTuning = {}): Promise<UpstreamXmpp> {
  const { delays, readFile: read = async (path: string) => await readFile(path, 'utf8'), ...venTuning } = tuning
  const missing = (['xmppService', 'xmppDomain', 'xmppUsername', 'upstreamJid'] as const).filter(k => config[k] === undefined || config[k] === '')
  if (missing.length > 0) throw new UpstreamXmppConfigError(`upstreamTransport xmpp needs ${missing.join(', ')}`)
  const hasCert = config.xmppCert !== undefined && config.xmppKey !== undefined
  if (config.xmppPassword === undefined && !hasCert) throw new UpstreamXmppConfigError('upstreamTransport xmpp needs xmppPassword, or xmppCert and xmppKey (SASL EXTERNAL)')
  const pem = async (path: string, what: string): Promise<string> => {
    try {
      return await read(path)
    } catch (err) {
      throw new UpstreamXmppConfigError(`${what} ${path}: ${(err as Error).message}`)
    }
  }
  const xmpp: XmppEndpointInit = {
    ...delays,
    service: config.xmppService as string,
    domain: config.xmppDomain as string,
    username: config.xmppUsername as string,
    ...(config.xmppPassword === undefined ? {} : { password: config.xmppPassword }),
    ...(config.xmppResource === undefined ? {} : { resource: config.xmppResource }),
    ...(config.xmppCa === undefined ? {} : { ca: await pem(config.xmppCa, 'xmppCa') }),
    ...(hasCert ? { cert: await pem(config.xmppCert as string, 'xmppCert'), key: await pem(config.xmppKey as string, 'xmppKey') } : {})
  }
  return new UpstreamXmpp({ xmpp, vtnJid: config.upstreamJid as string, venName: config.venName, ...venTuning }, components)
}
