import assert from 'node:assert/strict'
import { agentFigures, summarise, type IntervalInput } from '../../src/sim/figures.js'

const interval = (o: Partial<IntervalInput>): IntervalInput => ({
  startMs: 0, setpointKw: 80, baselineKw: 100, ownFlowKw: 80, peerDeltaKw: 0, intraActions: 0, interActions: 0, cost: 1, reachableKw: 60, ...o
})

describe('sim/figures', () => {
  it('counts an interval within ±5 % of the setpoint, peers’ delivery on the node’s behalf included', () => {
    const a = agentFigures({
      agentId: 'a',
      intervalMs: 3_600_000,
      intervals: [
        interval({}),
        interval({ ownFlowKw: 90 }),
        interval({ ownFlowKw: 90, peerDeltaKw: -8, interActions: 1 }),
        interval({ ownFlowKw: 84.5, intraActions: 2 })
      ]
    })
    assert.deepEqual(a.intervals.map(i => i.withinTolerance), [true, false, true, false])
    assert.equal(a.withinTolerance, 0.5)
    assert.deepEqual(a.matchmaking, { intra: 2, inter: 1 })
    assert.equal(a.cost, 4)
    assert.equal(a.energyRequestedKwh, 80)
    assert.equal(a.energyDeliveredKwh, 20 + 10 + 18 + 15.5)
    assert.ok(Math.abs(a.ownShare - (20 + 10 + 10 + 15.5) / 63.5) < 1e-12)
  })

  it('over-delivery and changes the wrong way earn no energy credit', () => {
    const a = agentFigures({
      agentId: 'a',
      intervalMs: 900_000,
      intervals: [interval({ ownFlowKw: 50 }), interval({ ownFlowKw: 110 })]
    })
    assert.equal(a.energyDeliveredKwh, 20 * 0.25)
    assert.equal(a.energyDelivered, 0.5)
  })

  it('the reachable energy is what the customers could have done toward the request, capped at it', () => {
    const a = agentFigures({
      agentId: 'a',
      intervalMs: 3_600_000,
      // Asked 20 kW down each time: could do 40 (credited 20), 12, and nothing (a reachable flow above baseline).
      intervals: [interval({}), interval({ reachableKw: 88 }), interval({ reachableKw: 101 })]
    })
    assert.equal(a.energyReachable, (20 + 12 + 0) / 60)
    const b = agentFigures({ agentId: 'b', intervalMs: 3_600_000, intervals: [interval({ reachableKw: 90 })] })
    assert.ok(Math.abs(summarise([a, b]).energyReachable - (32 + 10) / 80) < 1e-12)
  })

  it('a setpoint near zero is judged against the requested change, not against nothing', () => {
    const a = agentFigures({ agentId: 'a', intervalMs: 900_000, intervals: [interval({ setpointKw: 0, baselineKw: -40, ownFlowKw: 1.5 })] })
    assert.equal(a.withinTolerance, 1)
  })

  it('the summary pools every agent’s intervals and energy', () => {
    const a = agentFigures({ agentId: 'a', intervalMs: 3_600_000, intervals: [interval({}), interval({ ownFlowKw: 100 })] })
    const b = agentFigures({ agentId: 'b', intervalMs: 3_600_000, intervals: [interval({ intraActions: 3 })] })
    const s = summarise([a, b])
    assert.equal(s.intervals, 3)
    assert.ok(Math.abs(s.withinTolerance - 2 / 3) < 1e-12)
    assert.ok(Math.abs(s.energyDelivered - 40 / 60) < 1e-12)
    assert.deepEqual(s.matchmaking, { intra: 3, inter: 0 })
  })
})
