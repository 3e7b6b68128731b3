import assert from 'node:assert/strict'
import { allocateToPeers, type PeerAllocation } from '../../src/actors/inter.js'
import { matchIntra, type IntraCustomer, type IntraMatch } from '../../src/actors/intra.js'
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

/**
 * The hand-off as the node makes it (src/node/agentDecisions.ts): intra's uncoveredKw is signed like a
 * deviation (+ the node's flow is above target), inter's shortfall is what peers must add to their flow, so
 * shortfall = −uncovered. With every reliability 1 and no margin, the customer's deviation, the other
 * customers' setpoint moves and the peers' amounts must cancel exactly in every interval.
 */
describe('actors/intra → inter hand-off', () => {
  const pool = (forecast: number[]): IntraCustomer[] => [
    { customerId: 'dev', reliability: 1, errorMeanKw: 0, errorSdKw: 0, forecastKw: forecast, baselineKw: [5, 5], setpointKw: [5, 5], flexUpKw: [0, 0], flexDownKw: [0, 0] },
    { customerId: 'other', reliability: 1, errorMeanKw: 0, errorSdKw: 0, forecastKw: [4, 4], baselineKw: [4, 4], setpointKw: [4, 4], flexUpKw: [1, 1], flexDownKw: [1, 1] }
  ]
  const netChange = (customers: IntraCustomer[], match: IntraMatch, allocations: PeerAllocation[], t: number): number => {
    // Flow beyond target: the deviating customer's own deviation, plus how far every other customer was moved, plus the peers.
    let net = match.deviationKw[t]!
    for (const ch of match.changes) if (ch.customerId !== match.deviatingId) net += ch.setpointKw[t]! - customers[ch.index]!.setpointKw[t]!
    for (const a of allocations) net += a.amountsKw[t]!
    return net
  }

  it('a shortage (flow above setpoint) asks peers to lower their flow, an excess to raise it, by hand', () => {
    // t0: dev flows 8 against 5: +3; other lowers 1; uncovered +2 → shortfall −2 → the peer lowers by 2 (its flexDown).
    // t1: dev flows 2 against 5: −3; other raises 1; uncovered −2 → shortfall +2 → the peer raises by 2 (its flexUp).
    const customers = pool([8, 2])
    const match = matchIntra(customers, 0, { strategy: 'corrected', marginSigmas: 0 })
    assert.deepEqual(match.uncoveredKw, [2, -2])
    const shortfall = match.uncoveredKw.map(x => -x)
    const out = allocateToPeers(shortfall, [offer('peer', [5, 5], [5, 5])], () => 1, 0)
    assert.deepEqual(out.allocations[0]!.amountsKw, [-2, 2])
    for (let t = 0; t < 2; t++) assert.ok(Math.abs(netChange(customers, match, out.allocations, t)) < 1e-12, `t${t}`)
  })

  it('a peer that can only move one way covers only the matching direction', () => {
    // Peer advertises flexUp only: it can help the excess (t1) and not the shortage (t0), which stays unallocated.
    const match = matchIntra(pool([8, 2]), 0, { strategy: 'corrected', marginSigmas: 0 })
    const out = allocateToPeers(match.uncoveredKw.map(x => -x), [offer('peer', [5, 5], [0, 0])], () => 1, 0)
    assert.deepEqual(out.allocations[0]!.amountsKw, [0, 2])
    assert.deepEqual(out.unallocatedKw, [-2, 0])
  })

  it('deviation, intra moves and peer amounts cancel on random pools (both signs)', () => {
    const random = seededRandom(41)
    for (let trial = 0; trial < 60; trial++) {
      const T = 5
      const customers: IntraCustomer[] = Array.from({ length: 12 }, (_, i) => {
        const base = Array.from({ length: T }, () => uniform(random, 1, 6))
        return {
          customerId: `c${i}`, reliability: 1, errorMeanKw: 0, errorSdKw: 0, forecastKw: base.map(b => b + uniform(random, -5, 5)),
          baselineKw: base, setpointKw: [...base], flexUpKw: base.map(() => uniform(random, 0, 0.5)), flexDownKw: base.map(() => uniform(random, 0, 0.5))
        }
      })
      const i = trial % 12
      const match = matchIntra(customers, i, { strategy: 'corrected', marginSigmas: 0, deadbandKw: 0 })
      const offers = [offer('p0', Array.from({ length: T }, () => 50), Array.from({ length: T }, () => 50))]
      const out = allocateToPeers(match.uncoveredKw.map(x => -x), offers, () => 1, 0, { minAmountKw: 0 })
      for (let t = 0; t < T; t++) {
        assert.ok(Math.abs(netChange(customers, match, out.allocations, t)) < 1e-9, `trial ${trial} t${t}`)
        const asked = out.allocations[0]?.amountsKw[t] ?? 0
        assert.ok(asked === 0 || Math.sign(asked) === -Math.sign(match.deviationKw[t]!), `peer moves against the deviation (t${t})`)
      }
    }
  })
})
