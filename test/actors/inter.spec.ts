import assert from 'node:assert/strict'
import { allocateToPeers } from '../../src/actors/inter.js'
import type { PeerOffer } from '../../src/node/interMatchmaking.js'
import { recordOutcome, reliabilityOf, coverIntervals, type ReliabilityBook } from '../../src/actors/reliability.js'
import { seededRandom, uniform } from '../../src/util/random.js'

const offer = (peerId: string, flexUpKw: number[], flexDownKw: number[], expiresAtMs = 10_000): PeerOffer =>
  ({ peerId, flexUpKw, flexDownKw, expiresAtMs })

describe('actors/inter', () => {
  it('allocates most reliable first, within each offer, both directions, by hand', () => {
    // shortfall [+5, −4, +1]: A (r 0.9) up [3, 0, 3] down [0, 1, 0]; B (r 0.5) up [4, 0, 0] down [0, 5, 0]
    // t0: A 3, B 2; t1: A −1, B −3; t2: A 1. Expected: t0 0.9·3 + 0.5·2 = 3.7, t1 −(0.9 + 1.5) = −2.4, t2 0.9
    const rel: Record<string, number> = { A: 0.9, B: 0.5 }
    const out = allocateToPeers([5, -4, 1], [offer('B', [4, 0, 0], [0, 5, 0]), offer('A', [3, 0, 3], [0, 1, 0])], id => rel[id]!, 0)
    assert.deepEqual(out.allocations.map(a => a.peerId), ['A', 'B'])
    assert.deepEqual(out.allocations[0]!.amountsKw, [3, -1, 1])
    assert.deepEqual(out.allocations[1]!.amountsKw, [2, -3, 0])
    assert.deepEqual(out.unallocatedKw, [0, 0, 0])
    assert.ok(Math.abs(out.expectedKw[0]! - 3.7) < 1e-12 && Math.abs(out.expectedKw[1]! + 2.4) < 1e-12)
  })

  it('ignores expired offers and reports what no offer covers', () => {
    // A expired at 100 (now 100); B can give 2 of 5 at t0, nothing at t1.
    const out = allocateToPeers([5, 3], [offer('A', [9, 9], [9, 9], 100), offer('B', [2, 0], [0, 0], 101)], () => 0.8, 100)
    assert.deepEqual(out.allocations.map(a => a.peerId), ['B'])
    assert.deepEqual(out.unallocatedKw, [3, 3])
  })

  it('uses the reliability book: a peer that failed its covers is asked last', () => {
    let book: ReliabilityBook = {}
    for (let e = 0; e < 10; e++) {
      book = recordOutcome(book, 'good', 'mc', coverIntervals([2], [2]))
      book = recordOutcome(book, 'bad', 'mc', coverIntervals([2], [0]))
    }
    const out = allocateToPeers([3], [offer('bad', [3], [0]), offer('good', [2], [0])], id => reliabilityOf(book, id, 'mc').r, 0)
    assert.deepEqual(out.allocations.map(a => [a.peerId, a.amountsKw[0]]), [['good', 2], ['bad', 1]])
  })

  it('never asks a peer beyond its offer and conserves the shortfall (random)', () => {
    const random = seededRandom(3)
    for (let trial = 0; trial < 100; trial++) {
      const T = 6
      const shortfall = Array.from({ length: T }, () => uniform(random, -10, 10))
      const offers = Array.from({ length: 5 }, (_, i) => offer(`p${i}`, Array.from({ length: T }, () => uniform(random, 0, 4)),
        Array.from({ length: T }, () => uniform(random, 0, 4)), random.next() < 0.2 ? 0 : 50))
      const rel = offers.map(() => random.next())
      const out = allocateToPeers(shortfall, offers, id => rel[Number(id.slice(1))]!, 10)
      for (let t = 0; t < T; t++) {
        let sum = 0
        for (const a of out.allocations) {
          const o = offers.find(x => x.peerId === a.peerId)!
          assert.ok(o.expiresAtMs > 10)
          const x = a.amountsKw[t]!
          assert.ok(x === 0 || Math.sign(x) === Math.sign(shortfall[t]!))
          assert.ok(Math.abs(x) <= (x > 0 ? o.flexUpKw[t]! : o.flexDownKw[t]!) + 1e-12)
          sum += x
        }
        assert.ok(Math.abs(sum + out.unallocatedKw[t]! - shortfall[t]!) < 1e-9)
      }
    }
  })
})
