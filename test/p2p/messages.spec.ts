import { strict as assert } from 'node:assert'
import { clampToAsked, parseCommitment, parseCoverRequest, withinAsked } from '../../src/p2p/messages.js'

const request = {
  requestId: 'r1', eventRef: { nodeId: 'n', eventId: 'e' }, marketContext: 'mc', startMs: 0, intervalMs: 900_000,
  amountsKw: [-5, 3], signalType: 'delta', deadlineMs: 10, hopLimit: 2, path: ['n']
}

describe('p2p wire messages', () => {
  it('a well-formed v1 cover request parses to the port type', () => {
    assert.deepEqual(parseCoverRequest({ v: 1, request }), request)
  })

  it('wrong version, missing fields, bad signal type, non-finite amounts and excessive hop limits are refused', () => {
    assert.throws(() => parseCoverRequest({ v: 2, request }), /unsupported version/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, requestId: undefined } }), /requestId/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, signalType: 'price' } }), /signalType/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, amountsKw: [1, null] } }), /amountsKw/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, amountsKw: [] } }), /empty/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, hopLimit: 100 } }), /hopLimit/)
    assert.throws(() => parseCoverRequest({ v: 1, request: { ...request, amountsKw: Array(289).fill(1) } }), /amountsKw/)
    assert.throws(() => parseCommitment({ v: 1, commitment: { requestId: 'r1', peerId: 'p', accepted: 'yes', committedKw: [] } }), /accepted/)
  })

  it('a commitment is clamped to the ask: same sign, never larger', () => {
    assert.deepEqual(clampToAsked([-5, 3, -2, 4], [-7, -1, 1, Number.NaN]), [-5, 0, 0, 0])
    assert.deepEqual(clampToAsked([-5, 3], [-2]), [-2, 0])
    assert.equal(withinAsked([-5, 3], [-5, 2]), true)
    assert.equal(withinAsked([-5, 3], [-6, 2]), false)
    assert.equal(withinAsked([-5, 3], [-5]), false)
  })
})
