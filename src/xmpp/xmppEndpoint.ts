/**
 * The OpenADR 2.0b XMPP transport: one XMPP session that both sends and serves oadrPayloads.
 *
 * Per the 2.0b XMPP binding a payload travels as the single child of an `<iq type="set">` addressed to the
 * service's JID; the answer payload comes back in the `<iq type="result">` (every OpenADR operation has an
 * answer, which is why the profile uses IQs rather than messages). Push is the XMPP norm: a VTN sends
 * oadrDistributeEvent to a VEN's full JID exactly as a VEN sends oadrCreatedEvent to the VTN's.
 *
 * Delivery is at-least-once on the wire and exactly-once at the handler: servers bounce IQs to offline
 * JIDs (service-unavailable) rather than store them, and a dropped session loses results in flight, so a
 * payload is resent with the same IQ id until a result arrives; the receiver keeps the answer per
 * (sender, id) and returns it to a resend without applying the payload again.
 */
import { randomUUID } from 'node:crypto'
import { xml, type Client, type IqContext, type XmlElement } from '@xmpp/client'
import type { OadrServiceName, PayloadHandler, PayloadSender, SendOptions } from '../openadr/transport.js'
import type { Random } from '../util/random.js'
import { backoffDelayMs, type BackoffInit } from './backoff.js'
import { discoInfoNs, discoItemsNs, oadrPayloadNs, openadrFeature, openadrServiceNodePrefix, openadrServicesNode, stanzaErrorNs, transientConditions } from './constants.js'
import { XmppDeliveryError, XmppPayloadError, XmppStanzaError, XmppStoppedError } from './errors.js'
import { documentOf, payloadElementOf, serviceOfPayload } from './payloadElement.js'
import { ReplayCache } from './replayCache.js'
import { XmppConnection, sleep, type XmppConnectionInit } from './xmppConnection.js'

export interface XmppEndpointInit extends XmppConnectionInit {
  /** Delays between resends of an unacknowledged payload. */
  resend?: BackoffInit
  /**
   * Time to wait for the IQ result before resending.
   * @default 10_000
   */
  ackTimeoutMs?: number
  /**
   * Time after which `send` gives up on a payload that was never acknowledged.
   * @default 120_000
   */
  deliveryTimeoutMs?: number
  /**
   * Answers kept to deduplicate resends.
   * @default 10_000
   */
  replayCacheSize?: number
}

/** The subset of a pino logger this transport writes to. */
export interface XmppLogger {
  debug: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

export interface XmppEndpointComponents {
  /** Jitter of reconnect and resend delays. */
  random: Random
  /** Answers incoming payloads (a VTN's services, or a VEN's push handler). Without one, they are refused. */
  handler?: PayloadHandler
  /** IQ ids; unique across restarts, since receivers deduplicate on them. @default crypto.randomUUID */
  newMessageId?: () => string
  logger?: XmppLogger
}

export interface XmppEndpointStats {
  /** IQs sent again after a timeout, bounce or lost session. */
  resends: number
  /** Incoming resends answered from the replay cache, not applied again. */
  replays: number
  /** Incoming stanzas answered with an XMPP error. */
  refused: number
}

export class XmppEndpoint {
  readonly stats: XmppEndpointStats = { resends: 0, replays: 0, refused: 0 }
  private readonly connection: XmppConnection
  private readonly replays: ReplayCache<string>
  private readonly newMessageId: () => string

  constructor (private readonly init: XmppEndpointInit, private readonly components: XmppEndpointComponents) {
    this.replays = new ReplayCache(init.replayCacheSize ?? 10_000)
    this.newMessageId = components.newMessageId ?? randomUUID
    this.connection = new XmppConnection(init, {
      random: components.random,
      onSession: client => { this.serve(client) },
      onError: err => { components.logger?.warn({ err: err.message, jid: this.jid }, 'xmpp session trouble') }
    })
  }

  /** This end's full JID: the address the other end sends to. */
  get jid (): string { return this.connection.jid }

  get isOnline (): boolean { return this.connection.isOnline }

  /** Sessions opened so far: more than 1 means it reconnected. */
  get sessions (): number { return this.connection.sessions }

  async start (): Promise<void> { await this.connection.start() }

  async stop (): Promise<void> { await this.connection.stop() }

  /** A `PayloadSender` toward one JID (a VEN toward its VTN, or a VTN pushing to one VEN). */
  senderTo (jid: string): PayloadSender {
    return new XmppPayloadSender(this, jid)
  }

  /**
   * Delivers one oadrPayload to `to` and resolves to the answer payload; resends until acknowledged, the
   * delivery timeout passes, or `options.signal` aborts.
   */
  async deliver (to: string, service: OadrServiceName, document: string, options: SendOptions = {}): Promise<string> {
    const payload = payloadElementOf(document)
    const id = this.newMessageId()
    const deadline = AbortSignal.timeout(this.init.deliveryTimeoutMs ?? 120_000)
    const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
    let attempt = 0
    let lastError: unknown
    for (;;) {
      try {
        const client = await this.connection.session(signal)
        const answer = await this.exchange(client, xml('iq', { type: 'set', to, id }, payload), signal)
        return answer
      } catch (err) {
        if (err instanceof XmppStanzaError || err instanceof XmppPayloadError) throw err
        if (signal.aborted || err instanceof XmppStoppedError) {
          throw new XmppDeliveryError(`${service} payload ${id} to ${to} not acknowledged after ${attempt + 1} attempt(s): ${describe(lastError ?? err)}`, attempt + 1, { cause: lastError ?? err })
        }
        lastError = err
      }
      this.stats.resends++
      this.components.logger?.debug({ to, id, attempt, err: describe(lastError) }, 'resending oadrPayload')
      await sleep(backoffDelayMs(attempt++, this.components.random, this.init.resend), signal)
    }
  }

  /** One IQ round trip, cut short when the session ends (its result can then never arrive) or on abort. */
  private async exchange (client: Client, iq: XmlElement, signal: AbortSignal): Promise<string> {
    let result: XmlElement
    try {
      result = await new Promise<XmlElement>((resolve, reject) => {
        const cleanup = (): void => {
          signal.removeEventListener('abort', onAbort)
          client.off('disconnect', onLost)
          client.off('offline', onLost)
        }
        const onAbort = (): void => { cleanup(); reject(signal.reason) }
        const onLost = (): void => { cleanup(); reject(new Error('session ended before the IQ result')) }
        signal.addEventListener('abort', onAbort, { once: true })
        client.once('disconnect', onLost)
        client.once('offline', onLost)
        client.iqCaller.request(iq, this.init.ackTimeoutMs ?? 10_000).then(
          reply => { cleanup(); resolve(reply) },
          (err: unknown) => { cleanup(); reject(err) })
      })
    } catch (err) {
      const e = err as Error & { condition?: string, text?: string }
      if (e.name === 'StanzaError' && e.condition !== undefined && !transientConditions.has(e.condition)) {
        throw new XmppStanzaError(e.condition, e.text ?? '')
      }
      throw err
    }
    const answer = result.getChild('oadrPayload', oadrPayloadNs)
    if (answer === undefined) throw new XmppPayloadError(`the IQ result from ${iq.attrs.to ?? '?'} carries no oadrPayload`)
    return documentOf(answer)
  }

  private serve (client: Client): void {
    client.iqCallee.set(oadrPayloadNs, 'oadrPayload', async ctx => await this.answer(ctx))
    client.iqCallee.get(discoInfoNs, 'query', () => xml('query', { xmlns: discoInfoNs },
      xml('feature', { var: discoInfoNs }),
      xml('feature', { var: discoItemsNs }),
      ...(this.components.handler !== undefined ? [xml('feature', { var: openadrFeature })] : [])))
    client.iqCallee.get(discoItemsNs, 'query', ctx => {
      const node = ctx.element.attrs.node
      const items = node === openadrServicesNode && this.components.handler !== undefined
        ? (['EiEvent', 'EiOpt', 'EiReport', 'EiRegisterParty', 'OadrPoll'] as const)
            .map(service => xml('item', { jid: this.jid, node: openadrServiceNodePrefix + service }))
        : []
      return xml('query', node === undefined ? { xmlns: discoItemsNs } : { xmlns: discoItemsNs, node }, ...items)
    })
  }

  private async answer (ctx: IqContext): Promise<XmlElement> {
    const { handler } = this.components
    const from = ctx.stanza.attrs.from ?? ''
    const id = ctx.stanza.attrs.id ?? ''
    const service = serviceOfPayload(ctx.element)
    if (service === undefined) return this.refuse('modify', 'bad-request', 'oadrPayload/oadrSignedObject holds no OpenADR 2.0b message', from)
    if (handler === undefined) return this.refuse('cancel', 'service-unavailable', 'this end serves no OpenADR service', from)
    const document = documentOf(ctx.element)
    const apply = async (): Promise<string> => await handler(service, document, { transport: 'xmpp', jid: from })
    // A resend comes from the same account (perhaps a new resource after reconnecting), with the same id.
    const { value, replayed } = id === '' ? { value: await apply(), replayed: false } : await this.replays.once(`${bare(from)} ${id}`, apply)
    if (replayed) this.stats.replays++
    try {
      return payloadElementOf(value)
    } catch (err) {
      this.components.logger?.warn({ from, id, err: describe(err) }, 'handler answered with something that is not an oadrPayload')
      return this.refuse('cancel', 'internal-server-error', 'the service produced no valid answer', from)
    }
  }

  private refuse (type: string, condition: string, text: string, from: string): XmlElement {
    this.stats.refused++
    this.components.logger?.debug({ from, condition, text }, 'refused stanza')
    return xml('error', { type }, xml(condition, { xmlns: stanzaErrorNs }), xml('text', { xmlns: stanzaErrorNs }, text))
  }
}

/** `PayloadSender` over XMPP: every `send` is an IQ set to one JID, resent until acknowledged. */
export class XmppPayloadSender implements PayloadSender {
  constructor (private readonly endpoint: XmppEndpoint, readonly to: string) {}

  async send (service: OadrServiceName, document: string, options?: SendOptions): Promise<string> {
    return await this.endpoint.deliver(this.to, service, document, options)
  }
}

function bare (jid: string): string {
  const slash = jid.indexOf('/')
  return slash === -1 ? jid : jid.slice(0, slash)
}

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
