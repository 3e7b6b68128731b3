import assert from 'node:assert/strict'
import fc from 'fast-check'
import { advanceCheckpoint, checkpointMs, nextCheckpoint, violatesInvariants } from '../../src/machines/drEventLogic.js'
import { request } from './harness.js'

describe('DR-event arithmetic', () => {
  it('nextCheckpoint gives the first checkpoint strictly after now, and the one before is not after now', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: -1_000_000, max: 10_000_000 }),
      (checks, intervals, offset) => {
        const r = request({ amountsKw: Array(intervals).fill(-1), intervalMs: 900_000 })
        const now = r.startMs + offset
        const next = nextCheckpoint({ request: r, checksPerInterval: checks }, now)
        if (next.intervalIndex >= intervals) {
          assert.ok(checkpointMs(r.startMs, r.intervalMs, checks, intervals - 1, checks - 1) <= now)
          return
        }
        assert.ok(next.nextCheckMs > now)
        assert.equal(next.nextCheckMs, checkpointMs(r.startMs, r.intervalMs, checks, next.intervalIndex, next.checkIndex))
        const flat = next.intervalIndex * checks + next.checkIndex
        if (flat > 0) {
          const prev = checkpointMs(r.startMs, r.intervalMs, checks, Math.floor((flat - 1) / checks), (flat - 1) % checks)
          assert.ok(prev <= now)
        }
      }))
  })

  it('the last checkpoint of an interval is its end; advancing from it opens the next interval', () => {
    const r = request()
    assert.equal(checkpointMs(r.startMs, r.intervalMs, 4, 0, 3), r.startMs + r.intervalMs)
    assert.deepEqual(advanceCheckpoint({ request: r, checksPerInterval: 4, intervalIndex: 0, checkIndex: 3 }),
      { intervalIndex: 1, checkIndex: 0, nextCheckMs: r.startMs + r.intervalMs + r.intervalMs / 4 })
  })

  it('invariants: aggregate, each dispatched customer and missing reports, within the tolerance', () => {
    const base = { intervalIndex: 0, final: false, aggregateKw: 10, requestedKw: 10, customerDeviationsKw: { a: 0.2, b: -0.3 }, missing: [] }
    assert.equal(violatesInvariants(base, 0.5), false)
    assert.equal(violatesInvariants({ ...base, aggregateKw: 10.6 }, 0.5), true)
    assert.equal(violatesInvariants({ ...base, aggregateKw: 9.4 }, 0.5), true, 'an excess is a deviation too')
    assert.equal(violatesInvariants({ ...base, customerDeviationsKw: { a: -0.7, b: 0.7 } }, 0.5), true, 'compensating customers still violate their own setpoints')
    assert.equal(violatesInvariants({ ...base, missing: ['c'] }, 0.5), true)
  })
})
