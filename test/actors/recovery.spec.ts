import assert from 'node:assert/strict'
import { recover, type RecoveryCustomer } from '../../src/actors/recovery.js'

/** A customer at baseline 2 kW that may go down to 0 or up to 3, following a setpoint of `setpoint`. */
function customer (id: string, o: Partial<RecoveryCustomer> & { setpoint?: number } = {}): RecoveryCustomer {
  const T = 2
  const setpoint = o.setpoint ?? 2
  return {
    customerId: id,
    reliability: 1,
    candidate: true,
    setpointKw: new Array<number>(T).fill(setpoint),
    minKw: new Array<number>(T).fill(0),
    maxKw: new Array<number>(T).fill(3),
    expectedKw: new Array<number>(T).fill(setpoint),
    ...o
  }
}

describe('actors/recovery: closing the aggregate gap at a checkpoint', () => {
  it('closes a shortage with the most reliable customers first, within their ranges', () => {
    const failed = customer('failed', { candidate: false, setpointKw: [0, 0], expectedKw: [2, 2] })
    const r = recover({
      customers: [customer('low', { reliability: 0.6 }), failed, customer('high', { reliability: 0.95 })],
      targetKw: [4, 4],
      fromInterval: 0
    })
    // Expected 2 + 2 + 2 = 6 against 4: 2 kW short. `high` can give 2 kW at r = 0.95, so it is asked all of it.
    assert.deepEqual([...r.setpointsKw.keys()].sort(), ['high', 'low'])
    assert.equal(r.setpointsKw.get('high')?.[0], 0)
    assert.ok(Math.abs((r.setpointsKw.get('low')?.[0] ?? 0) - (2 - 0.1 / 0.6)) < 1e-9, 'low covers what high is expected to miss')
    assert.ok(!r.setpointsKw.has('failed'), 'a customer off its setpoint is not asked again')
    assert.ok(Math.abs(r.coveredKw[0]! - 2) < 1e-9 && Math.abs(r.residualKw[0]!) < 1e-9)
  })

  it('judges the interval in progress by its energy: the rest of it makes up for the part already past', () => {
    const r = recover({
      customers: [customer('a'), customer('b')],
      targetKw: [3, 3],
      fromInterval: 0,
      // Half the interval ran at 4 kW; 4 kW expected for the rest: the mean would be 4, 1 kW over the target.
      current: { index: 0, elapsedShare: 0.5, soFarKw: 4, pickupShare: 0 }
    })
    const moved = [...r.setpointsKw.values()].reduce((s, row) => s + (2 - (row[0] ?? 0)), 0)
    assert.ok(Math.abs(moved - 2) < 1e-9, `the rest of the interval moves twice the gap: ${moved}`)
    assert.ok(Math.abs(r.expectedKw[0]! - 4) < 1e-9)
    // The next interval is judged whole: 4 expected against 3, 1 kW moved.
    const next = [...r.setpointsKw.values()].reduce((s, row) => s + (2 - (row[1] ?? 0)), 0)
    assert.ok(Math.abs(next - 1) < 1e-9)
  })

  it('caps the amplification near the end of an interval and leaves the rest as residual', () => {
    const r = recover({
      customers: [customer('a', { minKw: [1.5, 1.5] })],
      targetKw: [1, 2],
      fromInterval: 0,
      current: { index: 0, elapsedShare: 0.95, soFarKw: 2, pickupShare: 0.1 }
    }, { maxGain: 4 })
    // Gap 1 kW, acting share floored at 1/4: the customer would need to move 4 kW but has 0.5 kW of room.
    assert.equal(r.setpointsKw.get('a')?.[0], 1.5)
    assert.ok(Math.abs(r.residualKw[0]! - (1 - 0.5 / 4)) < 1e-9, `residual ${r.residualKw[0]}`)
  })

  it('answers an excess by moving customers up, and leaves gaps inside the deadband alone', () => {
    const r = recover({
      customers: [customer('a', { setpoint: 0, expectedKw: [0, 0] }), customer('b', { setpoint: 0, expectedKw: [0, 0] })],
      targetKw: [1, 0.02],
      fromInterval: 0
    }, { deadbandKw: 0.05 })
    const up = [...r.setpointsKw.values()].reduce((s, row) => s + (row[0] ?? 0), 0)
    assert.ok(Math.abs(up - 1) < 1e-9)
    assert.ok([...r.setpointsKw.values()].every(row => row[1] === 0), 'a 0.02 kW gap is not worth a new setpoint')
    assert.ok(Math.abs(r.residualKw[1]! + 0.02) < 1e-9)
  })

  it('leaves intervals before fromInterval as they are', () => {
    const r = recover({ customers: [customer('a')], targetKw: [0, 1], fromInterval: 1 })
    assert.equal(r.setpointsKw.get('a')?.[0], 2)
    assert.equal(r.setpointsKw.get('a')?.[1], 1)
    assert.equal(r.coveredKw[0], 0)
  })

  it('asks past a declared range only once every candidate\'s declared range is used', () => {
    // `held` is at the bottom of its declared range and may stretch 0.5 kW below it; `spare` has 2 kW declared.
    const held = customer('held', { reliability: 0.99, setpointKw: [0, 0], expectedKw: [0, 0], stretchMinKw: [-0.5, -0.5] })
    const spare = customer('spare', { reliability: 0.6 })
    const within = recover({ customers: [held, spare], targetKw: [1, 1], fromInterval: 0 })
    assert.ok(!within.setpointsKw.has('held'), 'a declared range, even a less reliable one, comes first')
    assert.ok(Math.abs((within.setpointsKw.get('spare')?.[0] ?? 0) - (2 - 1 / 0.6)) < 1e-9)
    const past = recover({ customers: [held, spare], targetKw: [-0.3, -0.3], fromInterval: 0 })
    assert.equal(past.setpointsKw.get('spare')?.[0], 0, 'spare gives all it declared')
    // 2.3 kW short, spare is expected to give 0.6 · 2 = 1.2: held is asked the rest, at most its 0.5 kW of stretch.
    assert.equal(past.setpointsKw.get('held')?.[0], -0.5)
    assert.ok(Math.abs(past.residualKw[0]! - (2.3 - 1.2 - 0.5 * 0.99)) < 1e-9, 'what even the stretch cannot close is residual')
  })
})
