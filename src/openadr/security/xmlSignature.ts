/**
 * XML signatures of OpenADR 2.0b payloads (profile §10, oadr_xmldsig): an enveloping-style `ds:Signature`
 * placed in the oadrPayload just before `oadrSignedObject`, with two references under exclusive c14n and
 * SHA-256: the oadrSignedObject (by its `Id`) and a `ds:SignatureProperties` object holding the
 * `dsp:ReplayProtect` timestamp and nonce. RSA-SHA256 or ECDSA-SHA256 after the signing key; the signing
 * certificate travels in `KeyInfo/X509Data`. Verification checks the structure against wrapping, the
 * digests and signature value, the algorithm, optionally the CA, and freshness and uniqueness of the nonce.
 */
import { randomUUID, sign as cryptoSign, verify as cryptoVerify, createPrivateKey, X509Certificate, type BinaryLike, type KeyLike } from 'node:crypto'
import { DOMParser, XMLSerializer, type Element as DomElement } from '@xmldom/xmldom'
import { SignedXml, createOptionalCallbackFunction, type SignatureAlgorithm } from 'xml-crypto'
import { systemClock, type Clock } from '../../util/clock.js'
import { XmlDoctypeError, XmlSyntaxError } from '../errors.js'
import { oadrFingerprint, sameFingerprint } from './fingerprint.js'
import { SignatureError } from './errors.js'
import { NonceCache } from './replayProtect.js'

const oadrNs = 'http://openadr.org/oadr-2.0b/2012/07'
const dsNs = 'http://www.w3.org/2000/09/xmldsig#'
const dspNs = 'http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties'
const excC14n = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const sha256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
const signaturePropertiesType = 'http://www.w3.org/2000/09/xmldsig#SignatureProperties'
export const rsaSha256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
export const ecdsaSha256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'
const allowedAlgorithms = new Set([rsaSha256, ecdsaSha256])
const signedObjectPath = "/*[local-name()='oadrPayload']/*[local-name()='oadrSignedObject']"

/** XML-DSig ECDSA values are r‖s (RFC 4050 / RFC 6931), not DER. xml-crypto has no ECDSA of its own. */
class EcdsaSha256 implements SignatureAlgorithm {
  getSignature = createOptionalCallbackFunction((signedInfo: BinaryLike, key: KeyLike): string =>
    cryptoSign('sha256', Buffer.from(signedInfo as string), { key: key as string, dsaEncoding: 'ieee-p1363' }).toString('base64'))

  verifySignature = createOptionalCallbackFunction((material: string, key: KeyLike, value: string): boolean =>
    cryptoVerify('sha256', Buffer.from(material), { key: key as string, dsaEncoding: 'ieee-p1363' }, Buffer.from(value, 'base64')))

  getAlgorithmName = (): string => ecdsaSha256
}

export interface PayloadSignerInit {
  /** Signing certificate (PEM), sent in KeyInfo. */
  cert: string
  /** Its private key (PEM); RSA keys sign with rsa-sha256, EC keys with ecdsa-sha256. */
  key: string
}

export interface PayloadSignerComponents {
  /** @default systemClock */
  clock?: Clock
  /** ReplayProtect nonces. @default crypto.randomUUID */
  nonce?: () => string
}

/** Signs oadrPayload documents. */
export class PayloadSigner {
  private readonly cert: string
  private readonly key: string
  private readonly algorithm: string
  private readonly clock: Clock
  private readonly nonce: () => string

  constructor (init: PayloadSignerInit, components: PayloadSignerComponents = {}) {
    this.cert = init.cert
    this.key = init.key
    const type = createPrivateKey(init.key).asymmetricKeyType
    if (type !== 'rsa' && type !== 'ec') throw new TypeError(`signing key type ${type ?? '?'} is not allowed by the 2.0b profile (RSA or EC)`)
    this.algorithm = type === 'rsa' ? rsaSha256 : ecdsaSha256
    this.clock = components.clock ?? systemClock
    this.nonce = components.nonce ?? randomUUID
  }

  /** The same document with a ds:Signature before its oadrSignedObject. */
  sign (xml: string): string {
    const doc = parse(xml)
    const signedObject = signedObjectOf(doc.documentElement)
    if (signedObject === undefined) throw new SignatureError('invalid', 'not an oadrPayload with an oadrSignedObject')
    if (childElements(doc.documentElement).some(e => e.namespaceURI === dsNs)) throw new SignatureError('invalid', 'payload is already signed')
    if (idOf(signedObject) === undefined) {
      // The 2.0b schema qualifies attributes (attributeFormDefault="qualified"): the Id is oadr:Id.
      signedObject.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:oadr', oadrNs)
      signedObject.setAttributeNS(oadrNs, 'oadr:Id', 'oadrSignedObject')
    }
    const nonce = this.nonce()
    const signatureId = `signature-${nonce}`
    const propertiesId = `replayProtect-${nonce}`
    const timestamp = new Date(this.clock.now()).toISOString()
    const signer = new SignedXml({
      privateKey: this.key,
      publicCert: this.cert,
      signatureAlgorithm: this.algorithm,
      canonicalizationAlgorithm: excC14n,
      objects: [{
        content: `<ds:SignatureProperties Id="${propertiesId}"><ds:SignatureProperty Target="#${signatureId}">` +
          `<dsp:ReplayProtect xmlns:dsp="${dspNs}"><dsp:timestamp>${timestamp}</dsp:timestamp>` +
          `<dsp:nonce>${escapeText(nonce)}</dsp:nonce></dsp:ReplayProtect></ds:SignatureProperty></ds:SignatureProperties>`
      }]
    })
    signer.SignatureAlgorithms[ecdsaSha256] = EcdsaSha256
    signer.addReference({ xpath: signedObjectPath, transforms: [excC14n], digestAlgorithm: sha256 })
    signer.addReference({ xpath: `//*[@Id='${propertiesId}']`, transforms: [excC14n], digestAlgorithm: sha256, type: signaturePropertiesType })
    signer.computeSignature(new XMLSerializer().serializeToString(doc), {
      prefix: 'ds',
      attrs: { Id: signatureId },
      location: { reference: signedObjectPath, action: 'before' }
    })
    return signer.getSignedXml()
  }
}

export interface PayloadVerifierInit {
  /** Refuse unsigned payloads. @default false */
  requireSignature?: boolean
  /** CA certificates (PEM) a signing certificate must be issued by; none: any certificate. */
  trustedCa?: string[]
  /** Oldest ReplayProtect timestamp accepted. @default 300_000 */
  maxAgeMs?: number
  /** How far in the future a ReplayProtect timestamp may be (clock skew). @default 60_000 */
  maxFutureMs?: number
  /** Nonces remembered at most. @default 100_000 */
  maxNonces?: number
}

export interface PayloadVerifierComponents {
  /** @default systemClock */
  clock?: Clock
}

export interface VerifiedPayload {
  signed: boolean
  /** OpenADR fingerprint of the signing certificate. */
  fingerprint?: string
  nonce?: string
  timestampMs?: number
}

/** Verifies signed oadrPayload documents and remembers their nonces. */
export class PayloadVerifier {
  private readonly requireSignature: boolean
  private readonly trustedCa: X509Certificate[]
  private readonly maxAgeMs: number
  private readonly maxFutureMs: number
  private readonly clock: Clock
  private readonly nonces: NonceCache

  constructor (init: PayloadVerifierInit = {}, components: PayloadVerifierComponents = {}) {
    this.requireSignature = init.requireSignature ?? false
    this.trustedCa = (init.trustedCa ?? []).map(pem => new X509Certificate(pem))
    this.maxAgeMs = init.maxAgeMs ?? 300_000
    this.maxFutureMs = init.maxFutureMs ?? 60_000
    this.nonces = new NonceCache(init.maxNonces)
    this.clock = components.clock ?? systemClock
  }

  /**
   * Checks the payload's signature; resolves what it proved. `expectedFingerprint` (the TLS peer's) must
   * then be the signing certificate's. Throws SignatureError, XmlSyntaxError or XmlDoctypeError.
   */
  verify (xml: string, expectedFingerprint?: string): VerifiedPayload {
    const doc = parse(xml)
    const root = doc.documentElement
    const signatures = root === null ? [] : childElements(root).filter(e => e.namespaceURI === dsNs && e.localName === 'Signature')
    if (signatures.length === 0) {
      if (this.requireSignature) throw new SignatureError('missing', 'this endpoint requires signed payloads')
      return { signed: false }
    }
    const signature = signatures[0] as DomElement
    const signedObject = root === null ? undefined : signedObjectOf(root)
    if (signatures.length > 1 || signedObject === undefined) throw new SignatureError('invalid', 'one ds:Signature and one oadrSignedObject expected in oadrPayload')
    const method = descendant(signature, dsNs, 'SignatureMethod')?.getAttribute('Algorithm') ?? ''
    if (!allowedAlgorithms.has(method)) throw new SignatureError('algorithm', `signature algorithm ${method} is not allowed (rsa-sha256, ecdsa-sha256)`)
    const certText = descendant(signature, dsNs, 'X509Certificate')?.textContent?.replace(/\s+/g, '') ?? ''
    let cert: X509Certificate
    try {
      cert = new X509Certificate(Buffer.from(certText, 'base64'))
    } catch {
      throw new SignatureError('invalid', 'KeyInfo carries no readable X509Certificate')
    }
    if (this.trustedCa.length > 0 && !this.trustedCa.some(ca => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
      throw new SignatureError('untrusted', 'signing certificate is not issued by a trusted CA')
    }
    const checker = new SignedXml({ publicCert: cert.toString(), getCertFromKeyInfo: () => null })
    checker.SignatureAlgorithms[ecdsaSha256] = EcdsaSha256
    let valid = false
    try {
      checker.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0])
      valid = checker.checkSignature(xml)
    } catch {
      valid = false
    }
    if (!valid) throw new SignatureError('invalid', 'signature does not match the payload')
    const referenced = new Set(checker.getReferences().map(r => r.uri))
    if (!referenced.has(`#${idOf(signedObject) ?? ''}`)) throw new SignatureError('invalid', 'the signature does not cover the oadrSignedObject')
    const replay = descendant(signature, dspNs, 'ReplayProtect')
    if (replay === undefined || !signedContainer(replay, signature, referenced)) {
      throw new SignatureError('invalid', 'no signed ReplayProtect property')
    }
    const timestampMs = Date.parse(descendant(replay, dspNs, 'timestamp')?.textContent ?? '')
    const nonce = descendant(replay, dspNs, 'nonce')?.textContent ?? ''
    const now = this.clock.now()
    if (!Number.isFinite(timestampMs) || timestampMs < now - this.maxAgeMs || timestampMs > now + this.maxFutureMs) {
      throw new SignatureError('stale', 'ReplayProtect timestamp is outside the accepted window')
    }
    const fingerprint = oadrFingerprint(cert.raw)
    if (expectedFingerprint !== undefined && !sameFingerprint(expectedFingerprint, fingerprint)) {
      throw new SignatureError('key-mismatch', 'payload signed with another certificate than the connection\'s')
    }
    if (nonce === '' || !this.nonces.remember(nonce, timestampMs + this.maxAgeMs, now)) {
      throw new SignatureError('replayed', 'ReplayProtect nonce already used')
    }
    return { signed: true, fingerprint, nonce, timestampMs }
  }
}

function parse (xml: string): ReturnType<DOMParser['parseFromString']> & { documentElement: DomElement } {
  if (/<!DOCTYPE/i.test(xml)) throw new XmlDoctypeError()
  let doc
  let first: string | undefined
  try {
    doc = new DOMParser({ onError: (level, message) => { if (level !== 'warning') { first ??= message; throw new XmlSyntaxError(message) } } })
      .parseFromString(xml, 'text/xml')
  } catch (err) {
    // xmldom wraps what onError throws in its own error text; the sender gets the parser's first complaint,
    // without class names.
    throw new XmlSyntaxError(plainMessage(first ?? (err as Error).message))
  }
  if (doc.documentElement === null) throw new XmlSyntaxError('no root element')
  return doc as typeof doc & { documentElement: DomElement }
}

function plainMessage (message: string): string {
  return message.replace(/\[xmldom [a-z]+\]\s*/gi, '').replace(/\b[A-Za-z]*Error: /g, '').slice(0, 200)
}

function childElements (parent: DomElement): DomElement[] {
  const out: DomElement[] = []
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) out.push(n as DomElement)
  return out
}

function signedObjectOf (root: DomElement): DomElement | undefined {
  if (root.namespaceURI !== oadrNs || root.localName !== 'oadrPayload') return undefined
  const objects = childElements(root).filter(e => e.namespaceURI === oadrNs && e.localName === 'oadrSignedObject')
  return objects.length === 1 ? objects[0] : undefined
}

/** The Id attribute, qualified (as the 2.0b schema wants) or not (as some implementations write it). */
function idOf (element: DomElement): string | undefined {
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i)
    if (attribute?.localName === 'Id') return attribute.value
  }
  return undefined
}

/**
 * Whether a reference covers the ReplayProtect: one naming its SignatureProperties (as this signer does) or
 * the ds:Object around it (as openleadr-python's signxml does, `URI="#prop"`), or its SignatureProperty.
 */
function signedContainer (replay: DomElement, signature: DomElement, referenced: Set<string>): boolean {
  for (let n = replay.parentNode as DomElement | null; n !== null && n !== signature; n = n.parentNode as DomElement | null) {
    if (n.namespaceURI !== dsNs || !['SignatureProperty', 'SignatureProperties', 'Object'].includes(n.localName ?? '')) return false
    const id = n.getAttribute('Id')
    if (id !== null && id !== '' && referenced.has(`#${id}`)) return true
  }
  return false
}

function descendant (parent: DomElement, ns: string, name: string): DomElement | undefined {
  return parent.getElementsByTagNameNS(ns, name)[0] ?? undefined
}

function escapeText (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
