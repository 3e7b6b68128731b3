/**
 * Every message openleadr-python sends, in either role, as its templates render it: valid against the
 * official 2.0b schema, decoded by our codec in both of openleadr's envelopes, and, signed the way
 * openleadr's signxml signs (inclusive C14N 1.0, `#prop` object reference, ReplayProtect with six-digit
 * fractions), verified by our PayloadVerifier with RSA and ECDSA keys.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { decodePayload } from '../../../src/openadr/codec/index.js'
import { PayloadVerifier } from '../../../src/openadr/security/xmlSignature.js'
import { oadrFingerprintOfPem } from '../../../src/openadr/security/fingerprint.js'
import { SignatureError } from '../../../src/openadr/security/errors.js'
import { ManualClock } from '../../../src/util/clock.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { testPki } from '../../helpers/certs.js'
import { openleadrDateTime, openleadrPayload, type Role } from './openleadr.js'

const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)
const vars = {
  requestID: 'req-1', venID: 'ven-1', vtnID: 'vtn-1', registrationID: 'reg-1', venName: 'openleadr-ven', xmlSignature: 'false',
  reportID: 'rep-1', rID: 'device001_usage', reportSpecifierID: 'spec-1', reportRequestID: 'rr-1', eventID: 'event-1',
  eventRequestID: 'req-ev', modificationNumber: 0, optType: 'optIn', value: 12.5, pollFreq: 'PT10S',
  createdDateTime: openleadrDateTime(t0), dtstart: openleadrDateTime(t0 + 3_600_000)
}

function fixtureNames (role: Role): string[] {
  return readdirSync(fileURLToPath(new URL(`../../fixtures/openleadr/${role}/`, import.meta.url))).map(f => f.replace(/\.xml$/, ''))
}

const all = (['ven', 'vtn'] as const).flatMap(role => fixtureNames(role).map(name => ({ role, name })))

describe('openleadr-python messages', () => {
  it('renders one fixture per message of a session in both roles', () => {
    assert.ok(all.length >= 16, `${all.length} fixtures`)
  })

  it('every rendered message is valid against the official 2.0b schema, in both envelopes', async () => {
    await assertSchemaValid(all.flatMap(({ role, name }) => [
      openleadrPayload(role, name, vars),
      openleadrPayload(role, name, vars, { envelope: 'default' })
    ]))
  })

  for (const { role, name } of all) {
    it(`decodes ${role}/${name} in both envelopes`, () => {
      const type = name.replace(/-.*$/, '')
      for (const envelope of ['prefixed', 'default'] as const) {
        const message = decodePayload(openleadrPayload(role, name, vars, { envelope }))
        assert.equal(message.type, type)
      }
    })
  }

  it('reads the fields openleadr fills in the way it writes them', () => {
    const registration = decodePayload(openleadrPayload('vtn', 'oadrCreatedPartyRegistration', vars))
    assert.ok(registration.type === 'oadrCreatedPartyRegistration')
    assert.equal(registration.venID, 'ven-1')
    assert.equal(registration.registrationID, 'reg-1')
    assert.equal(registration.vtnID, 'vtn-1')
    assert.equal(registration.oadrRequestedOadrPollFreqMs, 10_000)
    const query = decodePayload(openleadrPayload('vtn', 'oadrCreatedPartyRegistration-query', vars))
    assert.ok(query.type === 'oadrCreatedPartyRegistration')
    assert.ok(query.venID === undefined || query.venID === '', 'an empty <ei:venID /> means no registration yet')
    const event = decodePayload(openleadrPayload('vtn', 'oadrDistributeEvent', vars))
    assert.ok(event.type === 'oadrDistributeEvent')
    const ei = event.oadrEvents[0]?.eiEvent
    assert.equal(ei?.eiActivePeriod.dtstartMs, t0 + 3_600_000, 'six fraction digits are read')
    assert.deepEqual(ei?.eiEventSignals[0]?.intervals.map(i => i.values[0]), [120, 90.5])
    const update = decodePayload(openleadrPayload('ven', 'oadrUpdateReport', vars))
    assert.ok(update.type === 'oadrUpdateReport')
    assert.equal(update.oadrReports[0]?.intervals?.[0]?.payloads[0]?.value, 12.5)
  })

  for (const kind of ['rsa', 'ecdsa'] as const) {
    describe(`signed as openleadr signs (${kind})`, () => {
      const pki = testPki(kind)
      const own = pki.client('openleadr-ven')
      const clock = new ManualClock(t0)
      const sign = (nonce: string, timestampMs = t0): string =>
        openleadrPayload('ven', 'oadrPoll', vars, { sign: { cert: own.cert, key: own.key, timestampMs, nonce } })

      it('is schema-valid and verified, bound to the signing certificate', async () => {
        const signed = sign('0f1e2d3c4b5a69788796a5b4c3d2e1f0')
        await assertSchemaValid([signed])
        const verifier = new PayloadVerifier({ requireSignature: true, trustedCa: [pki.ca.cert] }, { clock })
        const proved = verifier.verify(signed, oadrFingerprintOfPem(own.cert))
        assert.equal(proved.signed, true)
        assert.equal(proved.timestampMs, t0)
        assert.equal(decodePayload(signed).type, 'oadrPoll')
      })

      it('is refused once tampered, replayed or stale', () => {
        const verifier = new PayloadVerifier({ requireSignature: true }, { clock })
        const signed = sign('aa'.repeat(16))
        assert.throws(() => verifier.verify(signed.replace('<ei:venID>ven-1<', '<ei:venID>ven-2<')), SignatureError)
        verifier.verify(signed)
        assert.throws(() => verifier.verify(signed), (e: unknown) => e instanceof SignatureError && /nonce/.test(e.message))
        assert.throws(() => verifier.verify(sign('bb'.repeat(16), t0 - 3_600_000)), (e: unknown) => e instanceof SignatureError && /timestamp/.test(e.message))
      })
    })
  }
})
