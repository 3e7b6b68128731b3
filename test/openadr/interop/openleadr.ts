/**
 * openleadr-python's wire form, reproduced without openleadr: its rendered templates (test/fixtures/openleadr)
 * filled in, flattened as its `utils.flatten_xml` does, wrapped in its `oadrPayload` envelope and, for the
 * signed variant, signed the way its signxml `XMLSigner(method=detached, c14n=inclusive C14N 1.0)` does with
 * `reference_uri="#oadrSignedObject"` and the ReplayProtect as a signature property: a `ds:Signature`
 * (declaring `ds` and `oadr`) before the oadrSignedObject, two references (`#oadrSignedObject` and `#prop`,
 * the `ds:Object Id="prop"` wrapping SignatureProperties / SignatureProperty `Id="myid" Target="#mytarget"` /
 * dsp:ReplayProtect). Canonical forms come from Debian's `xmllint --c14n`, so the digests do not depend on
 * the XML-DSig library under test.
 */
import { execFileSync } from 'node:child_process'
import { createHash, sign as cryptoSign, createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const fixtures = fileURLToPath(new URL('../../fixtures/openleadr/', import.meta.url))
const oadrNs = 'http://openadr.org/oadr-2.0b/2012/07'
const dsNs = 'http://www.w3.org/2000/09/xmldsig#'
const dspNs = 'http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties'
const c14n10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
const sha256Uri = 'http://www.w3.org/2001/04/xmlenc#sha256'
const algorithms = { rsa: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', ec: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256' }

export type Role = 'ven' | 'vtn'

/** The oadrSignedObject openleadr renders for `name`, variables filled in and flattened. */
export function signedObject (role: Role, name: string, vars: Record<string, string | number | boolean> = {}): string {
  const template = readFileSync(`${fixtures}${role}/${name}.xml`, 'utf8')
  const filled = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key]
    if (value === undefined) throw new Error(`fixture ${role}/${name}: no value for {{${key}}}`)
    return escapeText(String(value))
  })
  return flatten(filled)
}

export interface EnvelopeOptions {
  /**
   * openleadr's envelope: `prefixed` (`<oadr:oadrPayload xmlns:oadr=…>`, current releases) or `default`
   * (`<oadrPayload xmlns=…>`, its first releases). @default 'prefixed'
   */
  envelope?: 'prefixed' | 'default'
  /** Sign as openleadr does. */
  sign?: OpenleadrSignature
}

export interface OpenleadrSignature {
  cert: string
  key: string
  /** ReplayProtect timestamp. */
  timestampMs: number
  /** ReplayProtect nonce (openleadr: `uuid4().hex`). */
  nonce: string
}

/** A whole oadrPayload document as openleadr sends it. */
export function openleadrPayload (role: Role, name: string, vars: Record<string, string | number | boolean> = {}, options: EnvelopeOptions = {}): string {
  const object = signedObject(role, name, vars)
  const signature = options.sign === undefined ? undefined : openleadrSignature(object, options.sign)
  const open = options.envelope === 'default' ? `<oadrPayload xmlns="${oadrNs}">` : `<oadr:oadrPayload xmlns:oadr="${oadrNs}">`
  const close = options.envelope === 'default' ? '</oadrPayload>' : '</oadr:oadrPayload>'
  return `<?xml version="1.0" encoding="utf-8"?>\n${open}\n${signature ?? ''}\n${object}\n${close}`
}

/** openleadr's `datetimeformat`: UTC with six fraction digits. */
export function openleadrDateTime (ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** The ds:Signature element signxml makes for a standalone oadrSignedObject. */
export function openleadrSignature (signedObjectXml: string, s: OpenleadrSignature): string {
  const keyType = createPrivateKey(s.key).asymmetricKeyType
  if (keyType !== 'rsa' && keyType !== 'ec') throw new Error(`unsupported key type ${keyType ?? '?'}`)
  const nsDecls = `xmlns:ds="${dsNs}" xmlns:oadr="${oadrNs}"`
  const objectInner = `<ds:SignatureProperties><ds:SignatureProperty Id="myid" Target="#mytarget"><dsp:ReplayProtect xmlns:dsp="${dspNs}">` +
    `<dsp:timestamp>${openleadrDateTime(s.timestampMs)}</dsp:timestamp><dsp:nonce>${s.nonce}</dsp:nonce></dsp:ReplayProtect>` +
    '</ds:SignatureProperty></ds:SignatureProperties>'
  const reference = (uri: string, digest: string): string =>
    `<ds:Reference URI="${uri}"><ds:Transforms><ds:Transform Algorithm="${c14n10}"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${sha256Uri}"/><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`
  // signxml digests each referenced element as a standalone document (its own in-scope namespaces only).
  const objectDigest = digest(canonical(`<ds:Object ${nsDecls} Id="prop">${objectInner}</ds:Object>`))
  const signedInfoInner = `<ds:CanonicalizationMethod Algorithm="${c14n10}"/><ds:SignatureMethod Algorithm="${algorithms[keyType]}"/>` +
    reference('#oadrSignedObject', digest(canonical(signedObjectXml))) + reference('#prop', objectDigest)
  const signedInfo = canonical(`<ds:SignedInfo ${nsDecls}>${signedInfoInner}</ds:SignedInfo>`)
  const value = keyType === 'rsa'
    ? cryptoSign('sha256', signedInfo, s.key)
    : cryptoSign('sha256', signedInfo, { key: s.key, dsaEncoding: 'ieee-p1363' })
  // signxml's strip_pem_header keeps the PEM body's line breaks.
  const certBody = s.cert.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').trim()
  return `<ds:Signature ${nsDecls}><ds:SignedInfo>${signedInfoInner}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `<ds:Object Id="prop">${objectInner}</ds:Object></ds:Signature>`
}

/** openleadr's `utils.flatten_xml`: every line stripped, blank lines dropped, the rest joined. */
function flatten (xml: string): string {
  return xml.split('\n').map(line => line.trim()).filter(line => line !== '').join('')
}

/** Inclusive C14N 1.0 of a standalone document, by libxml2. */
function canonical (xml: string): Buffer {
  return execFileSync('xmllint', ['--c14n', '-'], { input: xml })
}

function digest (bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64')
}

function escapeText (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
