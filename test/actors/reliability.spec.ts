import assert from 'node:assert/strict'
import {
  coverIntervals, eventCredit, recordOutcome, reliabilityOf, type IntervalOutcome, type ReliabilityBook
} from '../../src/actors/reliability.js'
import { spearman } from '../../src/actors/stats.js'
import { normal, seededRandom, uniform, type Random } from '../../src/util/random.js'

/** An event of 4 intervals; in each the customer complies with probability p, else it stays at baseline. */
function simulatedEvent (p: number, random: Random): IntervalOutcome[] {
  return Array.from({ length: 4 }, () => {
    const baselineKw = uniform(random, 2, 6); const setpointKw = baselineKw - uniform(random, 1, 2)
    const complied = random.next() < p
    return { baselineKw, setpointKw, deliveredKw: (complied ? setpointKw : baselineKw) + normal(random, 0, 0.05) }
  })
}

describe('actors/reliability', () => {
  it('partial credit: exact delivery 1, nothing 0, half the change 0.5, twice the change 0', () => {
    // asked 10 → 6 (4 kW): delivered 6 → 1; 10 → 0; 8 → 1 − 2/4 = 0.5; 2 (8 kW change) → 1 − 4/4 = 0
    assert.equal(eventCredit([{ baselineKw: 10, setpointKw: 6, deliveredKw: 6 }]), 1)
    assert.equal(eventCredit([{ baselineKw: 10, setpointKw: 6, deliveredKw: 10 }]), 0)
    assert.equal(eventCredit([{ baselineKw: 10, setpointKw: 6, deliveredKw: 8 }]), 0.5)
    assert.equal(eventCredit([{ baselineKw: 10, setpointKw: 6, deliveredKw: 2 }]), 0)
    assert.equal(eventCredit([{ baselineKw: 10, setpointKw: 6, deliveredKw: 6 }, { baselineKw: 10, setpointKw: 6, deliveredKw: 8 }]), 0.75)
  })

  it('one full-credit event from the uniform prior gives Beta(2, 1): r = 2/3, sd = √(2/36)', () => {
    const book = recordOutcome({}, 'c1', 'mc', [{ baselineKw: 5, setpointKw: 3, deliveredKw: 3 }])
    const r = reliabilityOf(book, 'c1', 'mc')
    assert.ok(Math.abs(r.r - 2 / 3) < 1e-12)
    assert.ok(Math.abs(r.sd - Math.sqrt(2 / 36)) < 1e-12)
    // Beta(2, 1) has CDF x², so its 5 % and 95 % quantiles are √0.05 and √0.95.
    assert.ok(Math.abs(r.lower - Math.sqrt(0.05)) < 1e-9 && Math.abs(r.upper - Math.sqrt(0.95)) < 1e-9)
    assert.equal(r.source, 'context')
  })

  it('Spearman ρ ≥ 0.8 between the index and true compliance after 20 events, not at 0', () => {
    const random = seededRandom(2024)
    const truth = Array.from({ length: 12 }, (_, i) => 0.1 + 0.075 * i)
    let book: ReliabilityBook = {}
    const index = (): number[] => truth.map((_, i) => reliabilityOf(book, `c${i}`, 'mc').r)
    const rho0 = spearman(index(), truth)
    assert.ok(rho0 < 0.8, `ρ at 0 events ${rho0}`)
    for (let e = 0; e < 20; e++) truth.forEach((p, i) => { book = recordOutcome(book, `c${i}`, 'mc', simulatedEvent(p, random)) })
    const rho20 = spearman(index(), truth)
    assert.ok(rho20 >= 0.8, `ρ after 20 events ${rho20}`)
  })

  it('uncertainty shrinks with evidence', () => {
    const random = seededRandom(1)
    let book: ReliabilityBook = {}
    const before = reliabilityOf(book, 'c', 'mc')
    for (let e = 0; e < 30; e++) book = recordOutcome(book, 'c', 'mc', simulatedEvent(0.9, random))
    const after = reliabilityOf(book, 'c', 'mc')
    assert.equal(before.source, 'prior')
    assert.ok(after.sd < before.sd / 2, `${after.sd} vs ${before.sd}`)
    assert.ok(after.upper - after.lower < (before.upper - before.lower) / 2)
    assert.ok(after.r > 0.75)
  })

  it('keeps market contexts apart and falls back to the pooled record', () => {
    let book: ReliabilityBook = {}
    for (let e = 0; e < 10; e++) book = recordOutcome(book, 'c', 'A', [{ baselineKw: 5, setpointKw: 3, deliveredKw: 3 }])
    for (let e = 0; e < 10; e++) book = recordOutcome(book, 'c', 'B', [{ baselineKw: 5, setpointKw: 3, deliveredKw: 5 }])
    const a = reliabilityOf(book, 'c', 'A'); const b = reliabilityOf(book, 'c', 'B'); const other = reliabilityOf(book, 'c', 'C')
    assert.ok(a.r > 0.8 && b.r < 0.2, `${a.r} ${b.r}`)
    assert.equal(other.source, 'pooled')
    assert.ok(other.r > b.r && other.r < a.r)
  })

  it('forgetting lets a node whose behaviour changed be re-learned', () => {
    let book: ReliabilityBook = {}
    for (let e = 0; e < 50; e++) book = recordOutcome(book, 'peer', 'mc', coverIntervals([4, 4], [4, 4]))
    for (let e = 0; e < 50; e++) book = recordOutcome(book, 'peer', 'mc', coverIntervals([4, 4], [0, 0]))
    assert.ok(reliabilityOf(book, 'peer', 'mc').r < 0.3)
    const noForgetting = Array.from({ length: 100 }, (_, e) => coverIntervals([4], [e < 50 ? 4 : 0]))
      .reduce<ReliabilityBook>((b, o) => recordOutcome(b, 'peer', 'mc', o, { forgetting: 1 }), {})
    assert.ok(Math.abs(reliabilityOf(noForgetting, 'peer', 'mc', { forgetting: 1 }).r - 0.5) < 1e-9)
  })

  it('an event with no usable interval leaves the book unchanged', () => {
    const book = recordOutcome({}, 'c', 'mc', [{ baselineKw: 5, setpointKw: 3, deliveredKw: NaN }])
    assert.deepEqual(book, {})
  })
})
