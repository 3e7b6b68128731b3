import assert from 'node:assert/strict'
import { decodePayload, encodePayload, messageTypes } from '../../../src/openadr/codec/index.js'
import { assertSchemaValid } from '../../helpers/xsd.js'
import { fullSamples, minimalSamples } from './samples.js'

describe('codec round trip', () => {
  it('has a full sample of every 2.0b message type', () => {
    assert.deepEqual(new Set(fullSamples.map(m => m.type)), new Set(messageTypes))
  })

  for (const sample of [...fullSamples, ...minimalSamples]) {
    it(`decode(encode(${sample.type})) is the same message${minimalSamples.includes(sample) ? ' (minimal)' : ''}`, () => {
      assert.deepEqual(decodePayload(encodePayload(sample)), sample)
    })
  }

  it('every encoded sample validates against the official 2.0b schema', async () => {
    await assertSchemaValid([...fullSamples, ...minimalSamples].map(encodePayload))
  })
})
