import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { packedJson } from '../../src/store/packedJson.js'
import { reservationOf, storedReservation } from '../../src/node/storedReservation.js'
import type { Reservation } from '../../src/node/ledger.js'

/** What the store gives back of a value: its encoding, decoded. */
const throughStore = (value: unknown): unknown => packedJson.decode(packedJson.encode(value))
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

function reservation (upKw: number[], downKw: number[], expiresAtMs?: number): Reservation {
  const r: Reservation = {
    id: 'event:E1\u0000c1\u00001000', holder: 'event:E1', customerId: 'c1', window: { startMs: 1000, intervalMs: 900_000, intervals: upKw.length },
    upKw, downKw, createdAtMs: 5
  }
  if (expiresAtMs !== undefined) r.expiresAtMs = expiresAtMs
  return r
}

describe('stored reservation: kW up and down never held in one interval are stored as one net series', () => {
  it('a dispatch\'s reservation is stored as its net kW and reads back as JSON would have given it, fields in order', () => {
    const r = reservation([0, 1.5, 0, 0, 2.25, 0, 0, 0, -0], [3, 0, 0.125, 0, 0, 7, 1e-9, 0, 0], 9)
    const stored = storedReservation(r)
    assert.deepEqual(Object.keys(stored), ['id', 'holder', 'customerId', 'window', 'netKw', 'createdAtMs', 'expiresAtMs'])
    const back = reservationOf(throughStore(stored) as never)
    assert.deepEqual(back, asJson(r))
    assert.deepEqual(Object.keys(back), Object.keys(r))
    assert.ok(packedJson.encode(stored).length < packedJson.encode(r).length)
  })

  it('a reservation holding both directions in an interval, and one stored before, read as they were', () => {
    const both = reservation([1, 0], [2, 0])
    assert.equal(storedReservation(both), both)
    assert.deepEqual(reservationOf(throughStore(both) as never), both)
  })

  it('property: whatever kW are reserved, the stored record reads back as the record stored as JSON', () => {
    const kw = fc.oneof(fc.constant(0), fc.constant(-0), fc.double({ min: 0, max: 1e6, noNaN: true }))
    fc.assert(fc.property(fc.array(fc.tuple(kw, kw, fc.boolean()), { minLength: 1, maxLength: 30 }), rows => {
      const upKw = rows.map(([u, , one]) => one ? u : 0)
      const downKw = rows.map(([u, d, one]) => one && u !== 0 ? 0 : d)
      const r = reservation(upKw, downKw)
      assert.deepEqual(reservationOf(throughStore(storedReservation(r)) as never), asJson(r))
    }))
  })
})
