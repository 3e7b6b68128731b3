/**
 * The host's gossipsub message id for the duplicate check that runs before signature verification, and the
 * libp2p logger (silent and shared unless DEBUG asks for libp2p's own logs).
 */
import assert from 'node:assert/strict'
import { fastMessageId, libp2pLogger } from '../../src/p2p/host.js'

describe('p2p host: fast message id', () => {
  const from = Uint8Array.from([0, 36, 8, 1, 18, 32, 7, 7])
  const seqno = Uint8Array.from([0, 0, 1, 150, 3, 4, 5, 6])

  it('gives every copy of one message (same sender, same sequence number) the same id', () => {
    const a = fastMessageId({ from, seqno, topic: 't', data: Uint8Array.from([1]) })
    const b = fastMessageId({ from: Uint8Array.from(from), seqno: Uint8Array.from(seqno), topic: 't', data: Uint8Array.from([1]) })
    assert.equal(a, b)
  })

  it('tells apart messages of another sender or another sequence number', () => {
    const id = fastMessageId({ from, seqno, topic: 't' })
    assert.notEqual(fastMessageId({ from, seqno: Uint8Array.from([...seqno.subarray(0, 7), 7]), topic: 't' }), id)
    assert.notEqual(fastMessageId({ from: Uint8Array.from([...from.subarray(0, 7), 8]), seqno, topic: 't' }), id)
    // No separator ambiguity: moving a byte from the sender to the sequence number changes the id.
    assert.notEqual(fastMessageId({ from: from.subarray(0, 7), seqno: Uint8Array.from([7, ...seqno]), topic: 't' }), id)
  })
})

describe('p2p host: libp2p logger', () => {
  it('without DEBUG, hands every component and scope one disabled logger that does nothing', () => {
    const logger = libp2pLogger({})
    assert.ok(logger !== undefined)
    const a = logger.forComponent('libp2p:yamux')
    const b = logger.forComponent('libp2p:tcp').newScope('connection')
    assert.equal(a, b, 'no logger object per connection or stream')
    assert.equal(a.enabled, false)
    assert.doesNotThrow(() => { a('%s', 'x'); a.error(new Error('e')); a.trace('t') })
  })

  it('with DEBUG set, leaves libp2p its own debug loggers', () => {
    assert.equal(libp2pLogger({ DEBUG: 'libp2p:*' }), undefined)
    assert.notEqual(libp2pLogger({ DEBUG: '' }), undefined)
  })
})
