import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { ManualClock } from '../../../src/util/clock.js'
import { PayloadSigner, PayloadVerifier, ecdsaSha256, rsaSha256 } from '../../../src/openadr/security/xmlSignature.js'
import { SignatureError, type SignatureFailure } from '../../../src/openadr/security/errors.js'
import { oadrFingerprintOfPem } from '../../../src/openadr/security/fingerprint.js'
import { XmlDoctypeError } from '../../../src/openadr/errors.js'
import { testPki, type KeyKind } from '../../helpers/certs.js'

const schema = new URL('../../../../shared/openadr/schema-2.0b/oadr_20b.xsd', import.meta.url).pathname

/** Validates with Debian's xmllint against the official 2.0b schema; returns its complaints. */
function schemaErrors (xml: string): string {
  try {
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', schema, '-'], { input: xml, stdio: ['pipe', 'pipe', 'pipe'] })
    return ''
  } catch (err) {
    return String((err as { stderr: Buffer }).stderr)
  }
}

const poll = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' +
  '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-1</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>'

const response = '<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07"><oadrSignedObject xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" oadr:Id="obj1">' +
  '<oadrResponse xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads" ei:schemaVersion="2.0b">' +
  '<ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><pyld:requestID/></ei:eiResponse>' +
  '<ei:venID>ven-1</ei:venID></oadrResponse></oadrSignedObject></oadrPayload>'

function failure (failure: SignatureFailure) {
  return (err: Error): boolean => err instanceof SignatureError && err.failure === failure && err.responseCode === '463'
}

for (const kind of ['rsa', 'ecdsa'] as KeyKind[]) {
  describe(`XML signatures with ${kind.toUpperCase()} keys`, function () {
    this.timeout(30_000)
    const pki = testPki(kind)
    const ven = pki.client('ven-1')
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'))
    let counter = 0
    const signer = new PayloadSigner({ cert: ven.cert, key: ven.key }, { clock, nonce: () => `nonce-${kind}-${++counter}` })
    const algorithm = kind === 'rsa' ? rsaSha256 : ecdsaSha256

    it(`signs with ${kind === 'rsa' ? 'rsa-sha256' : 'ecdsa-sha256'}, exclusive c14n, before oadrSignedObject, and stays schema-valid`, () => {
      for (const doc of [poll, response]) {
        const signed = signer.sign(doc)
        assert.equal(schemaErrors(doc), '', 'fixture is valid')
        assert.equal(schemaErrors(signed), '')
        assert.match(signed, new RegExp(`<ds:SignatureMethod Algorithm="${algorithm.replace(/[.#]/g, '\\$&')}"`))
        assert.match(signed, /<ds:CanonicalizationMethod Algorithm="http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#"/)
        assert.match(signed, /<\/ds:Signature><(oadr:)?oadrSignedObject [^>]*oadr:Id="/)
        assert.match(signed, /<dsp:ReplayProtect [^>]*><dsp:timestamp>2030-01-01T00:00:00\.000Z<\/dsp:timestamp><dsp:nonce>nonce-/)
      }
    })

    it('verifies a signed payload once and names the signing certificate', () => {
      const verifier = new PayloadVerifier({ trustedCa: [pki.ca.cert], requireSignature: true }, { clock })
      const proved = verifier.verify(signer.sign(poll))
      assert.equal(proved.signed, true)
      assert.equal(proved.fingerprint, oadrFingerprintOfPem(ven.cert))
    })

    it('refuses a tampered body', () => {
      const verifier = new PayloadVerifier({}, { clock })
      const tampered = signer.sign(poll).replace('<ei:venID>ven-1</ei:venID>', '<ei:venID>ven-2</ei:venID>')
      assert.throws(() => verifier.verify(tampered), failure('invalid'))
    })

    it('refuses a tampered ReplayProtect timestamp', () => {
      const verifier = new PayloadVerifier({}, { clock })
      const tampered = signer.sign(poll).replace('2030-01-01T00:00:00.000Z', '2030-01-01T00:00:01.000Z')
      assert.throws(() => verifier.verify(tampered), failure('invalid'))
    })

    it('refuses a signature made with another key than the certificate in KeyInfo', () => {
      const other = pki.client('ven-2')
      const forger = new PayloadSigner({ cert: ven.cert, key: other.key }, { clock })
      assert.throws(() => new PayloadVerifier({}, { clock }).verify(forger.sign(poll)), failure('invalid'))
    })

    it('refuses a certificate from an untrusted CA, and one that is not the connection\'s', () => {
      const rogue = pki.rogue('ven-1')
      const rogueSigner = new PayloadSigner({ cert: rogue.cert, key: rogue.key }, { clock })
      assert.throws(() => new PayloadVerifier({ trustedCa: [pki.ca.cert] }, { clock }).verify(rogueSigner.sign(poll)), failure('untrusted'))
      const other = pki.client('ven-2')
      assert.throws(() => new PayloadVerifier({}, { clock }).verify(signer.sign(poll), oadrFingerprintOfPem(other.cert)), failure('key-mismatch'))
    })

    it('replay protection rule: refuses a payload whose nonce was already accepted', () => {
      const verifier = new PayloadVerifier({}, { clock })
      const signed = signer.sign(poll)
      verifier.verify(signed)
      assert.throws(() => verifier.verify(signed), failure('replayed'))
    })

    it('replay protection rule: refuses a stale or future timestamp', () => {
      const signed = signer.sign(poll)
      const later = new ManualClock(clock.now() + 300_001)
      assert.throws(() => new PayloadVerifier({ maxAgeMs: 300_000 }, { clock: later }).verify(signed), failure('stale'))
      const earlier = new ManualClock(clock.now() - 60_001)
      assert.throws(() => new PayloadVerifier({ maxFutureMs: 60_000 }, { clock: earlier }).verify(signed), failure('stale'))
    })

    it('refuses an unsigned payload only when signatures are required', () => {
      assert.deepEqual(new PayloadVerifier({}, { clock }).verify(poll), { signed: false })
      assert.throws(() => new PayloadVerifier({ requireSignature: true }, { clock }).verify(poll), failure('missing'))
    })

    it('refuses a signature wrapped around a different oadrSignedObject', () => {
      const signed = signer.sign(poll)
      // Move the signed object aside under another Id and put an unsigned one in its place.
      const wrapped = signed.replace(/<oadr:oadrSignedObject [^>]*>(.*)<\/oadr:oadrSignedObject>/,
        '<oadr:oadrSignedObject oadr:Id="evil"><oadr:oadrPoll ei:schemaVersion="2.0b"><ei:venID>ven-9</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject>')
      assert.notEqual(wrapped, signed)
      assert.throws(() => new PayloadVerifier({}, { clock }).verify(wrapped), failure('invalid'))
    })
  })
}

describe('XML signature verification of hostile input', () => {
  it('refuses a DOCTYPE before parsing (XXE, billion laughs)', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><oadrPayload>&lol2;</oadrPayload>'
    assert.throws(() => new PayloadVerifier().verify(bomb), XmlDoctypeError)
  })

  it('refuses an algorithm the profile does not allow', () => {
    const pki = testPki('rsa')
    const signed = new PayloadSigner({ cert: pki.client('ven-1').cert, key: pki.client('ven-1').key }).sign(poll)
    const sha1 = signed.replace(rsaSha256, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1')
    assert.throws(() => new PayloadVerifier().verify(sha1), failure('algorithm'))
  })
})
