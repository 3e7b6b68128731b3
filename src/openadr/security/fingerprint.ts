/**
 * OpenADR certificate fingerprints: the last 10 bytes of the SHA-256 of the DER certificate, as
 * colon-separated upper-case hex (`AB:CD:…`, 29 characters). A VTN binds each venID to one.
 */
import { createHash, X509Certificate } from 'node:crypto'

/** Fingerprint of a certificate given as DER bytes. */
export function oadrFingerprint (der: Uint8Array): string {
  const digest = createHash('sha256').update(der).digest()
  const tail = digest.subarray(digest.length - 10)
  return Array.from(tail, b => b.toString(16).padStart(2, '0').toUpperCase()).join(':')
}

/** Fingerprint of a PEM certificate (the first one when the text holds a chain). */
export function oadrFingerprintOfPem (pem: string): string {
  return oadrFingerprint(new X509Certificate(pem).raw)
}

/** Fingerprints compare case-insensitively: implementations print them in either case. */
export function sameFingerprint (a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase()
}
