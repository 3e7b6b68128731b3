/**
 * TLS settings of the OpenADR 2.0b security profile: TLS 1.2 or later, mutual authentication with X.509
 * certificates, and the two TLS 1.2 suites the profile mandates (TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
 * for ECC certificates, TLS_RSA_WITH_AES_128_CBC_SHA256 for RSA ones). TLS 1.3 suites are offered too:
 * a peer that speaks 1.3 negotiates it, a certified 2.0b peer that only speaks 1.2 still finds its suite.
 */
import type { SecureContextOptions } from 'node:tls'

/** OpenSSL names of the offered suites: TLS 1.3 first, then the two the 2.0b profile mandates. */
export const oadrCipherSuites = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'AES128-SHA256'
].join(':')

export const oadrMinTlsVersion = 'TLSv1.2'

/** PEM material of one end of a mutually authenticated TLS connection. */
export interface OadrTlsInit {
  /** This end's certificate (PEM; may hold the chain up to, not including, the root). */
  cert: string
  /** This end's private key (PEM). */
  key: string
  /** The CA certificates (PEM) the other end's certificate must chain to. */
  ca: string | string[]
  /**
   * Whether a peer without a valid certificate is refused. A server that turns this off still asks for
   * a certificate and reports its fingerprint, for deployments that authorise by fingerprint alone.
   * @default true
   */
  rejectUnauthorized?: boolean
  /**
   * Cipher suites in OpenSSL syntax.
   * @default oadrCipherSuites
   */
  ciphers?: string
  /**
   * Highest TLS version offered: 'TLSv1.2' behaves as a certified 2.0b peer that speaks only 1.2 (then only
   * the TLS 1.2 suites in `ciphers` count).
   * @default 'TLSv1.3'
   */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
}

/** Options shared by `https.createServer` and an https `Agent`. */
export function secureContextOptions (init: OadrTlsInit): SecureContextOptions & { rejectUnauthorized: boolean } {
  return {
    cert: init.cert,
    key: init.key,
    ca: init.ca,
    ciphers: init.ciphers ?? oadrCipherSuites,
    minVersion: oadrMinTlsVersion,
    maxVersion: init.maxVersion ?? 'TLSv1.3',
    rejectUnauthorized: init.rejectUnauthorized ?? true
  }
}
