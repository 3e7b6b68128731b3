import assert from 'node:assert/strict'
import { drawBehaviour, drawEventMode, respond, type HiddenBehaviour } from '../../src/sim/behaviour.js'
import { seededRandom } from '../../src/util/random.js'

const behaviour: HiddenBehaviour = { kind: 'partial', modeProbabilities: { comply: 0, partial: 1, ignore: 0, offline: 0 }, partialShare: 0.5 }
const base = { behaviour, baselineKw: 2, flexUpKw: 1, flexDownKw: 1.5, atMs: 1_000 }

describe('sim/behaviour', () => {
  it('a complying customer reaches its setpoint within what it can do', () => {
    assert.equal(respond({ ...base, mode: 'comply', setpointKw: 1 }).flowKw, 1)
    assert.equal(respond({ ...base, mode: 'comply', setpointKw: 0 }).flowKw, 0.5, 'clamped at baseline − flexDown')
    assert.equal(respond({ ...base, mode: 'comply', setpointKw: 5 }).flowKw, 3, 'clamped at baseline + flexUp')
  })

  it('partial delivers its share of the change; ignore and undispatched stay at baseline; offline sends nothing', () => {
    assert.equal(respond({ ...base, mode: 'partial', setpointKw: 1 }).flowKw, 1.5)
    assert.deepEqual(respond({ ...base, mode: 'ignore', setpointKw: 1 }), { flowKw: 2, reports: true })
    assert.deepEqual(respond({ ...base, mode: 'comply', setpointKw: undefined }), { flowKw: 2, reports: true })
    assert.deepEqual(respond({ ...base, mode: 'offline', setpointKw: 1 }), { flowKw: 2, reports: false })
  })

  it('an injected failure reverts to baseline from its instant on, and a dark one stops reporting', () => {
    const failure = { atMs: 2_000, dark: true }
    assert.equal(respond({ ...base, mode: 'comply', setpointKw: 1, failure, atMs: 1_999 }).flowKw, 1)
    assert.deepEqual(respond({ ...base, mode: 'comply', setpointKw: 1, failure, atMs: 2_000 }), { flowKw: 2, reports: false })
    assert.deepEqual(respond({ ...base, mode: 'comply', setpointKw: 1, failure: { atMs: 0, dark: false } }), { flowKw: 2, reports: true })
  })

  it('per-event modes follow the kind: compliers almost always comply, ignorers mostly ignore', () => {
    const r = seededRandom(11)
    const complier = drawBehaviour(seededRandom(1), { complies: 1, partial: 0, ignores: 0, offline: 0 })
    const ignorer = drawBehaviour(seededRandom(1), { complies: 0, partial: 0, ignores: 1, offline: 0 })
    const modes = (b: HiddenBehaviour): string[] => Array.from({ length: 1000 }, () => drawEventMode(r, b))
    assert.ok(modes(complier).filter(m => m === 'comply').length > 940)
    assert.ok(modes(ignorer).filter(m => m === 'ignore').length > 740)
  })
})
