import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodePayload, encodePayload } from '../../../src/openadr/codec/index.js'
import { OadrError } from '../../../src/openadr/errors.js'
import { fullSamples } from './samples.js'

const documents = fullSamples.map(encodePayload)

/** One edit of a document: delete, duplicate or replace a slice, or splice in XML-ish noise. */
const mutation = fc.record({
  doc: fc.integer({ min: 0, max: documents.length - 1 }),
  at: fc.nat(),
  length: fc.integer({ min: 0, max: 40 }),
  kind: fc.constantFrom('delete', 'duplicate', 'insert'),
  noise: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('<', '>', '&', '&amp;', '</x>', '<!DOCTYPE x>', ']]>', '"', 'xmlns:ei="urn:x"', '<ei:venID>', '\u0000', 'INF', '-1', 'P1Y', '2026-13-45T99:99:99Z'))
})

function mutate (m: { doc: number, at: number, length: number, kind: string, noise: string }): string {
  const doc = documents[m.doc] as string
  const at = m.at % (doc.length + 1)
  if (m.kind === 'delete') return doc.slice(0, at) + doc.slice(at + m.length)
  if (m.kind === 'duplicate') return doc.slice(0, at + m.length) + doc.slice(at, at + m.length) + doc.slice(at + m.length)
  return doc.slice(0, at) + m.noise + doc.slice(at)
}

describe('codec: mutated payloads', () => {
  it('a mutated payload decodes, or fails with an OadrError carrying a response code, never anything else', () => {
    fc.assert(fc.property(mutation, m => {
      const xml = mutate(m)
      try {
        decodePayload(xml)
      } catch (err) {
        assert.ok(err instanceof OadrError, `${String(err)} for ${xml.slice(0, 200)}`)
        assert.match(err.responseCode, /^4[0-9][0-9]$/)
      }
    }), { numRuns: 3000, seed: 20260601 })
  })
})
