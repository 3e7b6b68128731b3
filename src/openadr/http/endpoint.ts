/**
 * The security settings of one end of an OpenADR HTTP link, applied on both sides of the transport seam:
 * `securedHandler` puts signature checking and signing in front of a service (VTN, or VEN in push mode),
 * `OadrHttpClients` hands out senders (one keep-alive agent per base URL) that present this end's client
 * certificate and sign what they send. A VEN uses one sender toward its VTN; a VTN one per push-mode VEN.
 * TLS itself is set on `OadrHttpServer` with the same `tls` options.
 */
import type { Clock } from '../../util/clock.js'
import type { PayloadHandler, PayloadSender } from '../transport.js'
import type { OadrTlsInit } from '../security/tls.js'
import { PayloadSigner, PayloadVerifier, type PayloadSignerInit, type PayloadVerifierInit } from '../security/xmlSignature.js'
import { signingHandler, signingSender } from '../security/signing.js'
import { oadrRefusal } from '../security/refusal.js'
import { HttpPayloadSender } from './sender.js'

export interface OadrSecurityInit {
  /** HTTPS with client certificates: this end's certificate and key, and the CAs the other end's must chain to. */
  tls?: OadrTlsInit
  /** Sign every payload this end sends (XML-DSig with ReplayProtect) with this certificate and key. */
  signWith?: PayloadSignerInit
  /**
   * Check the signatures of incoming payloads; `requireSignature` refuses unsigned ones. Without it (and
   * without `signWith`) payloads pass unchecked: signature checking costs a DOM parse per request.
   * @default undefined
   */
  verify?: PayloadVerifierInit
}

export interface OadrSecurityComponents {
  /** ReplayProtect timestamps and their freshness. @default systemClock */
  clock?: Clock
}

function verifierOf (security: OadrSecurityInit, components: OadrSecurityComponents): PayloadVerifier {
  return new PayloadVerifier(security.verify ?? {}, components.clock === undefined ? {} : { clock: components.clock })
}

function signerOf (security: OadrSecurityInit, components: OadrSecurityComponents): PayloadSigner | undefined {
  return security.signWith === undefined ? undefined : new PayloadSigner(security.signWith, components.clock === undefined ? {} : { clock: components.clock })
}

/** `handler` behind the signature check (refusals answered as oadrResponse 463) and signing of its answers. */
export function securedHandler (handler: PayloadHandler, security: OadrSecurityInit, components: OadrSecurityComponents = {}): PayloadHandler {
  if (security.verify === undefined && security.signWith === undefined) return handler
  const signer = signerOf(security, components)
  return signingHandler({ handler, verifier: verifierOf(security, components), ...(signer === undefined ? {} : { signer }), refusal: oadrRefusal })
}

/** Checks the signature of every answer (an end that verifies without signing what it sends). */
function verifyingSender (sender: PayloadSender, verifier: PayloadVerifier): PayloadSender {
  return {
    async send (service, xml, options) {
      const answer = await sender.send(service, xml, options)
      verifier.verify(answer)
      return answer
    }
  }
}

export interface OadrHttpClientsInit extends OadrSecurityInit {
  /**
   * Time allowed for one exchange.
   * @default 30_000
   */
  timeoutMs?: number
}

/** Senders to other ends by base URL, sharing this end's security settings; `stop()` closes their connections. */
export class OadrHttpClients {
  private readonly senders = new Map<string, { http: HttpPayloadSender, sender: PayloadSender }>()
  private readonly signer: PayloadSigner | undefined
  private readonly verifier: PayloadVerifier | undefined

  constructor (private readonly init: OadrHttpClientsInit, components: OadrSecurityComponents = {}) {
    this.signer = signerOf(init, components)
    this.verifier = init.verify === undefined ? undefined : verifierOf(init, components)
  }

  /** A sender to the OpenADR services under `baseUrl` (made once per URL). */
  senderFor (baseUrl: string): PayloadSender {
    let entry = this.senders.get(baseUrl)
    if (entry === undefined) {
      const http = new HttpPayloadSender({
        baseUrl,
        ...(new URL(baseUrl).protocol === 'https:' && this.init.tls !== undefined ? { tls: this.init.tls } : {}),
        ...(this.init.timeoutMs === undefined ? {} : { timeoutMs: this.init.timeoutMs })
      })
      const sender = this.signer !== undefined
        ? signingSender({ sender: http, signer: this.signer, ...(this.verifier === undefined ? {} : { verifier: this.verifier }) })
        : this.verifier === undefined ? http : verifyingSender(http, this.verifier)
      entry = { http, sender }
      this.senders.set(baseUrl, entry)
    }
    return entry.sender
  }

  stop (): void {
    for (const { http } of this.senders.values()) http.stop()
    this.senders.clear()
  }
}
