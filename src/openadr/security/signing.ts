/**
 * Signatures around the transport seam: a `PayloadSender` that signs what it sends and checks what comes
 * back, and a `PayloadHandler` that checks what comes in before the service sees it and signs what goes
 * out. The services stay unaware of signatures.
 */
import { OadrError, ResponseCode } from '../errors.js'
import type { OadrServiceName, PayloadHandler, PayloadSender, PeerIdentity, SendOptions } from '../transport.js'
import type { PayloadSigner, PayloadVerifier } from './xmlSignature.js'

export interface SigningSenderComponents {
  sender: PayloadSender
  /** Signs every outgoing payload. */
  signer: PayloadSigner
  /** Checks every answer; a SignatureError rejects `send`. None: answers are taken as they come. */
  verifier?: PayloadVerifier
}

export function signingSender ({ sender, signer, verifier }: SigningSenderComponents): PayloadSender {
  return {
    async send (service: OadrServiceName, xml: string, options?: SendOptions): Promise<string> {
      const answer = await sender.send(service, signer.sign(xml), options)
      verifier?.verify(answer)
      return answer
    }
  }
}

export interface SigningHandlerComponents {
  handler: PayloadHandler
  verifier: PayloadVerifier
  /** Signs every answer, refusals included. */
  signer?: PayloadSigner
  /**
   * The oadrResponse document for a refused payload (the service's own encoder, so the answer carries the
   * requestID and venID it could read).
   */
  refusal: (service: OadrServiceName, xml: string, error: OadrError) => string
}

/**
 * Verifies, then hands on. Over TLS the signing certificate must be the connection's; without TLS the
 * signing certificate's fingerprint becomes the peer's, so the service binds venIDs to it the same way.
 */
export function signingHandler ({ handler, verifier, signer, refusal }: SigningHandlerComponents): PayloadHandler {
  const sign = (xml: string): string => signer === undefined ? xml : signer.sign(xml)
  return async (service: OadrServiceName, xml: string, peer: PeerIdentity): Promise<string> => {
    let proved
    try {
      proved = verifier.verify(xml, peer.fingerprint)
    } catch (err) {
      const error = err instanceof OadrError ? err : new OadrError((err as Error).message, ResponseCode.BAD_REQUEST)
      return sign(refusal(service, xml, error))
    }
    const signedPeer = proved.fingerprint !== undefined && peer.fingerprint === undefined ? { ...peer, fingerprint: proved.fingerprint } : peer
    return sign(await handler(service, xml, signedPeer))
  }
}
