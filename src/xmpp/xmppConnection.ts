/**
 * One XMPP client session that stays up: direct TLS (XEP-0368) with SASL, and when the server goes away a
 * fresh session after a backoff, for as long as the connection is started. @xmpp/client's own reconnect
 * (fixed 1 s delay, gives up when the TCP connect fails) is switched off; each attempt is a new client, so
 * no half-torn state carries over. A credentials refusal is final: retrying would only lock the account.
 */
import tls from 'node:tls'
import { client as xmppClient, type Client, type SaslMechanismClass } from '@xmpp/client'
import type { Random } from '../util/random.js'
import { backoffDelayMs, type BackoffInit } from './backoff.js'
import { XmppAuthenticationError, XmppStoppedError } from './errors.js'

export interface XmppConnectionInit {
  /** The server, `xmpps://host:port` (direct TLS). */
  service: string
  /** The XMPP domain: the JID's host part and the TLS server name. */
  domain: string
  /** This end's account (JID localpart). */
  username: string
  /**
   * Password for SASL, always inside TLS. Without one, the client certificate (`cert`/`key`) authenticates
   * by SASL EXTERNAL.
   */
  password?: string
  /**
   * SASL mechanism for the password. PLAIN inside TLS is what the OpenADR profile asks for; SCRAM-SHA-1
   * costs about a second of pure-JS key stretching per connection here.
   * @default 'PLAIN'
   */
  saslMechanism?: 'PLAIN' | 'SCRAM-SHA-1'
  /**
   * Resource of this end's full JID (`username@domain/resource`), the address the other end sends to.
   * @default 'openadr'
   */
  resource?: string
  /** CA certificates (PEM) the server's certificate must chain to; the system CAs when absent. */
  ca?: string | string[]
  /**
   * This end's certificate and key (PEM), presented in the TLS handshake when the server asks; with no
   * password, SASL EXTERNAL authenticates with it (the certificate names the JID as id-on-xmppAddr).
   */
  cert?: string
  key?: string
  /** Delays between connection attempts. */
  reconnect?: BackoffInit
  /**
   * Time allowed for TCP, TLS, SASL and resource binding of one attempt.
   * @default 10_000
   */
  connectTimeoutMs?: number
}

export interface XmppConnectionComponents {
  random: Random
  /** Called on each new session, before it is used: register IQ handlers here. */
  onSession: (client: Client) => void
  /** Transport-level failures worth a log line (refused connection, TLS error, lost session). */
  onError?: (err: Error) => void
}

export class XmppConnection {
  /** Sessions opened so far (1 after the first start; +1 per reconnection). */
  sessions = 0
  private running = false
  private current: Client | undefined
  private online = deferred<Client>()
  private onlineResolved = false
  private stopped = new AbortController()
  private loop: Promise<void> | undefined
  private readonly endings = new WeakMap<Client, Promise<void>>()

  constructor (private readonly init: XmppConnectionInit, private readonly components: XmppConnectionComponents) {
    if (init.password === undefined && (init.cert === undefined || init.key === undefined)) {
      throw new TypeError(`${init.username}@${init.domain}: give a password or a client certificate and key`)
    }
  }

  get jid (): string { return `${this.init.username}@${this.init.domain}/${this.init.resource ?? 'openadr'}` }

  get isOnline (): boolean { return this.current?.status === 'online' }

  /** Resolves once the first session is online; rejects if the server refuses the credentials. */
  async start (): Promise<void> {
    if (this.running) { await this.online.promise; return }
    this.running = true
    this.stopped = new AbortController()
    this.resetOnline()
    this.loop = this.run()
    await this.online.promise
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopped.abort()
    this.online.reject(new XmppStoppedError())
    await this.loop
  }

  /** The online session, waiting for one while reconnecting. */
  async session (signal?: AbortSignal): Promise<Client> {
    const client = this.current
    if (client !== undefined && client.status === 'online') return client
    if (!this.running) throw new XmppStoppedError()
    return await raceAbort(this.online.promise, signal)
  }

  /** Resolves when `client`'s session ends (socket closed or stopped). */
  private async ended (client: Client): Promise<void> {
    await (this.endings.get(client) ?? Promise.resolve())
  }

  private async run (): Promise<void> {
    let attempt = 0
    while (this.running) {
      const client = this.newClient()
      this.current = client
      const ended = this.ended(client)
      try {
        await raceAbort(withTimeout(client.start(), this.init.connectTimeoutMs ?? 10_000), this.stopped.signal)
        attempt = 0
        this.sessions++
        this.online.resolve(client)
        this.onlineResolved = true
        await raceAbort(ended, this.stopped.signal)
      } catch (err) {
        if (err instanceof XmppAuthenticationError || (err as Error).name === 'SASLError') {
          const refusal = err instanceof XmppAuthenticationError ? err : new XmppAuthenticationError(`${this.jid}: ${(err as Error).message}`)
          this.running = false
          this.online.reject(refusal)
          await quietStop(client)
          return
        }
        if (this.running) this.components.onError?.(err as Error)
      }
      await quietStop(client)
      if (this.current === client) this.current = undefined
      if (!this.running) break
      // Senders that wait from now on need a fresh promise: the last one resolved to the dead client.
      if (this.onlineResolved) this.resetOnline()
      await sleep(backoffDelayMs(attempt++, this.components.random, this.init.reconnect), this.stopped.signal)
    }
  }

  private resetOnline (): void {
    this.online = deferred<Client>()
    this.online.promise.catch(() => {})
    this.onlineResolved = false
  }

  private newClient (): Client {
    const { init } = this
    const client = xmppClient({
      service: init.service,
      domain: init.domain,
      resource: init.resource ?? 'openadr',
      username: init.username,
      credentials: async (authenticate, offered) => {
        const wanted = init.password === undefined ? 'EXTERNAL' : init.saslMechanism ?? 'PLAIN'
        if (!offered.includes(wanted)) throw new XmppAuthenticationError(`${this.jid}: the server offers ${offered.join(', ')}, not ${wanted}`)
        await authenticate({ username: init.username, ...(init.password === undefined ? {} : { password: init.password }) }, wanted)
      },
      timeout: init.connectTimeoutMs ?? 10_000
    })
    client.reconnect.stop()
    if (init.password === undefined) client.saslFactory.use(externalMechanism(`${init.username}@${init.domain}`))
    // Every IQ in flight listens for the end of its session; there may be many at once.
    client.setMaxListeners(0)
    this.endings.set(client, new Promise<void>(resolve => {
      client.once('disconnect', () => { resolve() })
      client.once('offline', () => { resolve() })
    }))
    const base = client.socketParameters.bind(client)
    // STARTTLS in @xmpp/client takes no TLS options; with direct TLS the socket options are ours to set.
    client.socketParameters = service => ({
      ...base(service),
      servername: init.domain,
      minVersion: 'TLSv1.2',
      ...(init.ca !== undefined ? { ca: init.ca } : { ca: [...tls.rootCertificates] }),
      ...(init.cert !== undefined && init.key !== undefined ? { cert: init.cert, key: init.key } : {})
    })
    client.on('error', (err: Error) => {
      if (this.running && err.name !== 'SASLError' && !(err instanceof XmppAuthenticationError)) this.components.onError?.(err)
    })
    this.components.onSession(client)
    return client
  }
}

/**
 * SASL EXTERNAL (RFC 4422 appendix A) in the shape the `saslmechanisms` factory takes: the TLS client
 * certificate is the credential, the initial response names the identity to act as (the bare JID).
 */
function externalMechanism (authzid: string): SaslMechanismClass {
  function External (): void {}
  External.prototype.name = 'EXTERNAL'
  External.prototype.clientFirst = true
  External.prototype.response = (): string => authzid
  External.prototype.challenge = (): void => {}
  return External as unknown as SaslMechanismClass
}

interface Deferred<T> { promise: Promise<T>, resolve: (value: T) => void, reject: (reason: unknown) => void }

// Promise.withResolvers is polyfilled for Node 20 but absent from the ES2023 lib types.
function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((resolve_, reject_) => { resolve = resolve_; reject = reject_ })
  return { promise, resolve, reject }
}

async function quietStop (client: Client): Promise<void> {
  // A closed socket has nothing left to close; stop() would wait out its timeout on the dead stream.
  if (client.status === 'disconnect' || client.status === 'offline') return
  try { await withTimeout(client.stop(), 2_000) } catch { /* the session is being discarded either way */ }
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms`)) }, ms)
  })
  try { return await Promise.race([promise, timeout]) } finally { clearTimeout(timer) }
}

async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try { return await Promise.race([promise, aborted]) } finally { signal.removeEventListener('abort', onAbort as () => void) }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

export { sleep }
