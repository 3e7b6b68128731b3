import assert from 'node:assert/strict'
import { applyPlanChange, auditDecision, planChange, planOfTrail } from '../../src/node/auditDecision.js'
import type { DispatchPlan } from '../../src/machines/drEventTypes.js'

const planned: DispatchPlan = {
  setpointsKw: { a: [1, 2, 3], b: [4, 5, 6], c: [7, 8, 9] },
  uncoveredKw: [0, 0, 0],
  revisedAtMs: { a: 10, b: 10, c: 10 },
  makeUpKw: [0, 0, 0]
}
// Intra matchmaking moved b, dropped c and added d.
const covered: DispatchPlan = {
  setpointsKw: { a: [1, 2, 3], b: [4, 4.5, 6], d: [0, -1, 0] },
  uncoveredKw: [0, 0.2, 0],
  revisedAtMs: { a: 10, b: 20, d: 20 },
  makeUpKw: [0, 0.1, 0]
}

describe('audit decisions: a plan recorded as the change from the one it replaced', () => {
  it('records the rows and revision times that changed, and the customers dropped; applied, gives the plan back', () => {
    const change = planChange(planned, covered)
    assert.deepEqual(change, {
      setpointsKw: { b: [4, 4.5, 6], d: [0, -1, 0] }, removed: ['c'], uncoveredKw: [0, 0.2, 0], revisedAtMs: { b: 20, d: 20 }, revisionsDropped: ['c'], makeUpKw: [0, 0.1, 0]
    })
    assert.deepEqual(applyPlanChange(planned, change), covered)
    // A dropped customer's revision time may stay (readings before it are still stale).
    const kept = { ...covered, revisedAtMs: { ...covered.revisedAtMs, c: 10 } }
    assert.deepEqual(applyPlanChange(planned, planChange(planned, kept)), kept)
    // A plan without the optional fields stays without them.
    const bare = { setpointsKw: { a: [1] }, uncoveredKw: [0] }
    assert.deepEqual(applyPlanChange(bare, planChange(bare, { setpointsKw: {}, uncoveredKw: [1] })), { setpointsKw: {}, uncoveredKw: [1] })
  })

  it('replaces an intra result\'s plan with its change once a plan exists; leaves other decisions as they are', () => {
    const intra = { plan: covered, coveredKw: [0, 1, 0], residualKw: [0, 0, 0], chosen: ['b', 'd'] }
    assert.deepEqual(auditDecision(intra, planned), { coveredKw: [0, 1, 0], residualKw: [0, 0, 0], chosen: ['b', 'd'], planChange: planChange(planned, covered) })
    assert.equal(auditDecision(intra, null), intra)
    assert.equal(auditDecision(planned, planned), planned)
    const measurement = { intervalIndex: 1, aggregateKw: 3 }
    assert.equal(auditDecision(measurement, planned), measurement)
    assert.equal(auditDecision(null, planned), null)
  })

  it('replays a trail\'s decisions to the plan after its last entry', () => {
    const intra = { plan: covered, chosen: ['b', 'd'] }
    const again: DispatchPlan = { ...covered, setpointsKw: { ...covered.setpointsKw, a: [0, 0, 0] } }
    const trail = [null, { accept: true }, planned, { intervalIndex: 0 }, auditDecision(intra, planned), auditDecision({ plan: again }, covered)].map(decision => ({ decision }))
    assert.equal(planOfTrail(trail.slice(0, 2)), null)
    assert.deepEqual(planOfTrail(trail.slice(0, 4)), planned)
    assert.deepEqual(planOfTrail(trail.slice(0, 5)), covered)
    assert.deepEqual(planOfTrail(trail), again)
  })
})
