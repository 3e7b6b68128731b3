/**
 * A VTN and VENs of this layer on real loopback sockets: the VTN behind an OadrHttpServer, each VEN over
 * an HttpPayloadSender and, in push mode, behind its own OadrHttpServer. Plain HTTP, or HTTPS with client
 * certificates and XML signatures on every payload both ways. Every document on the wire is kept for a
 * schema check.
 */
import { ScaledClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { Ven } from '../../../src/openadr/ven/ven.js'
import type { VenComponents, VenInit } from '../../../src/openadr/ven/types.js'
import { OadrHttpClients, OadrHttpServer, securedHandler, type OadrSecurityInit } from '../../../src/openadr/http/index.js'
import type { PayloadHandler } from '../../../src/openadr/transport.js'
import { testPki, type CertAndKey } from '../../helpers/certs.js'

export const minute = 60_000
export const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)

export type Mode = 'http' | 'https+signed' | 'https+signed-ecdsa'

/** The test PKI a mode's certificates come from. */
export function pkiOf (mode: Mode): ReturnType<typeof testPki> {
  return testPki(mode === 'https+signed-ecdsa' ? 'ecdsa' : 'rsa')
}

/** Wraps a handler so every document in and out is kept. */
export function recording (handler: PayloadHandler, log: string[]): PayloadHandler {
  return async (service, xml, peer) => {
    log.push(xml)
    const answer = await handler(service, xml, peer)
    log.push(answer)
    return answer
  }
}

/** This end's security settings in `mode`, with `own` as its certificate. */
export function securityOf (mode: Mode, own: CertAndKey, tls12Only = false): OadrSecurityInit {
  if (mode === 'http') return {}
  const ca = pkiOf(mode).ca.cert
  // A VEN that speaks only TLS 1.2 with the one suite the 2.0b profile mandates for its key type: the
  // handshake succeeds only if the other end offers that suite.
  const suite = mode === 'https+signed-ecdsa' ? 'ECDHE-ECDSA-AES128-SHA256' : 'AES128-SHA256'
  return {
    tls: { cert: own.cert, key: own.key, ca, ...(tls12Only ? { maxVersion: 'TLSv1.2', ciphers: suite } : {}) },
    signWith: { cert: own.cert, key: own.key },
    verify: { requireSignature: true, trustedCa: [ca] }
  }
}

export interface VtnSide {
  vtn: Vtn
  server: OadrHttpServer
  clients: OadrHttpClients
  stop: () => Promise<void>
}

export async function startVtn (mode: Mode, clock: ScaledClock, wire: string[]): Promise<VtnSide> {
  const security = securityOf(mode, pkiOf(mode).server)
  const clients = new OadrHttpClients(security)
  const vtn = new Vtn({ vtnID: 'vtn-e2e', pollFreqMs: 30_000 }, { clock, senderFor: address => clients.senderFor(address) })
  await vtn.start()
  const server = new OadrHttpServer({ ...(security.tls === undefined ? {} : { tls: security.tls }) }, { handler: recording(securedHandler(vtn.handler, security), wire) })
  await server.start()
  return {
    vtn,
    server,
    clients,
    stop: async () => {
      await server.stop()
      await vtn.stop()
      clients.stop()
    }
  }
}

export interface VenSide {
  ven: Ven
  clients: OadrHttpClients
  /** The VEN's own endpoint (push mode). */
  server?: OadrHttpServer
  stop: () => Promise<void>
}

/** A VEN named `name` with its own client certificate, polling (pull) or served at its own endpoint (push). */
export async function startVen (mode: Mode, vtnUrl: string, name: string, init: Omit<VenInit, 'venName'>, components: Omit<VenComponents, 'sender'>, wire: string[], tls12Only = false): Promise<VenSide> {
  const security = securityOf(mode, pkiOf(mode).client(name), tls12Only)
  const clients = new OadrHttpClients(security)
  let server: OadrHttpServer | undefined
  let ven: Ven | undefined
  if (init.httpPullModel === false) {
    // The VEN's endpoint must be listening before it registers its address; the handler is bound late.
    const handler: PayloadHandler = async (service, xml, peer) => await (ven as Ven).handler(service, xml, peer)
    server = new OadrHttpServer({ ...(security.tls === undefined ? {} : { tls: security.tls }) }, { handler: recording(securedHandler(handler, security), wire) })
    await server.start()
  }
  ven = new Ven({ venName: name, ...init, ...(server === undefined ? {} : { transportAddress: server.url }) }, { ...components, sender: clients.senderFor(vtnUrl) })
  const started = ven
  return {
    ven: started,
    clients,
    ...(server === undefined ? {} : { server }),
    stop: async () => {
      await started.stop()
      await server?.stop()
      clients.stop()
    }
  }
}
