/**
 * Errors of payload signatures. All answer `463` (not registered or authorised): the sender could not prove
 * it is who it claims to be, or that the message is fresh.
 */
import { OadrError, ResponseCode } from '../errors.js'

export type SignatureFailure =
  /** A signature is required and the payload has none. */
  | 'missing'
  /** The signature, a digest, or the signed structure does not check out (tampered, wrapped). */
  | 'invalid'
  /** The signing certificate is not from a trusted CA, or is out of its validity period. */
  | 'untrusted'
  /** The signing certificate is not the one the connection authenticated. */
  | 'key-mismatch'
  /** The ReplayProtect nonce was seen before. */
  | 'replayed'
  /** The ReplayProtect timestamp is too old or too far in the future. */
  | 'stale'
  /** An algorithm the 2.0b profile does not allow. */
  | 'algorithm'

export class SignatureError extends OadrError {
  constructor (readonly failure: SignatureFailure, message: string) {
    super(message, ResponseCode.NOT_REGISTERED_OR_AUTHORIZED)
    this.name = 'SignatureError'
  }
}
