/**
 * The part of `@xmpp/client` 0.14 (which ships no types) that the OpenADR XMPP transport uses.
 */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events'
  import type { ConnectionOptions } from 'node:tls'

  export interface XmlElement {
    name: string
    attrs: Record<string, string | undefined>
    children: Array<XmlElement | string>
    parent: XmlElement | null
    is: (name: string, xmlns?: string) => boolean
    getChild: (name: string, xmlns?: string) => XmlElement | undefined
    getChildElements: () => XmlElement[]
    append: (...children: Array<XmlElement | string>) => XmlElement
    toString: () => string
  }

  interface XmlFactory {
    (name: string, attrs?: Record<string, string | undefined> | null, ...children: Array<XmlElement | string>): XmlElement
    Element: new (name: string, attrs?: Record<string, string>) => XmlElement
  }
  export const xml: XmlFactory

  export interface IqContext {
    stanza: XmlElement
    element: XmlElement
    from: string
    id: string
  }

  /** A SASL mechanism constructor for the `saslmechanisms` factory. */
  export interface SaslMechanismClass {
    new (): { name: string, clientFirst: boolean, response: (credentials: object) => string, challenge: (data: string) => void }
    prototype: { name: string }
  }

  export interface Client extends EventEmitter {
    saslFactory: { use: (mechanism: SaslMechanismClass) => void }
    status: string
    jid: { toString: () => string, bare: () => { toString: () => string } } | null
    options: { domain: string, service: string }
    socketParameters: (service: string) => ConnectionOptions & { host: string, port: number }
    start: () => Promise<unknown>
    stop: () => Promise<unknown>
    send: (element: XmlElement) => Promise<void>
    reconnect: { stop: () => void }
    iqCaller: { request: (stanza: XmlElement, timeoutMs?: number) => Promise<XmlElement> }
    iqCallee: {
      set: (xmlns: string, name: string, handler: (ctx: IqContext) => Promise<XmlElement> | XmlElement) => void
      get: (xmlns: string, name: string, handler: (ctx: IqContext) => Promise<XmlElement> | XmlElement) => void
    }
  }

  export interface ClientOptions {
    service: string
    domain: string
    resource?: string
    username?: string
    password?: string
    /** Chooses the SASL mechanism among those both ends support, and authenticates with it. */
    credentials?: (authenticate: (credentials: { username: string, password?: string }, mechanism: string) => Promise<void>, mechanisms: string[]) => Promise<void>
    timeout?: number
  }

  export function client (options: ClientOptions): Client
}
