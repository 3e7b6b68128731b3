import assert from 'node:assert/strict'
import { emptyProfile, profileSdKw, updateProfile } from '../../src/actors/profiling.js'
import { normal, seededRandom } from '../../src/util/random.js'

describe('actors/profiling', () => {
  it('early samples give the plain running mean and variance', () => {
    // errors 1, 3, 5 (forecast − measured): mean 3, population variance ((−2)² + 0 + 2²)/3 = 8/3
    const p = updateProfile(emptyProfile(), [11, 13, 15], [10, 10, 10], { alpha: 0.05 })
    assert.equal(p.samples, 3)
    assert.ok(Math.abs(p.meanKw - 3) < 1e-12)
    assert.ok(Math.abs(p.varianceKw2 - 8 / 3) < 1e-12)
  })

  it('reports one by one equal one report of all intervals, and the state survives JSON', () => {
    const r = seededRandom(4)
    const f = Array.from({ length: 200 }, () => normal(r, 5, 1)); const m = Array.from({ length: 200 }, () => normal(r, 4, 1))
    let a = emptyProfile()
    for (let t = 0; t < 200; t += 20) a = JSON.parse(JSON.stringify(updateProfile(a, f.slice(t, t + 20), m.slice(t, t + 20))))
    const b = updateProfile(emptyProfile(), f, m)
    assert.ok(Math.abs(a.meanKw - b.meanKw) < 1e-12 && Math.abs(a.varianceKw2 - b.varianceKw2) < 1e-12)
  })

  it('learns a bias and spread, then follows a change of bias', () => {
    const r = seededRandom(9)
    const measured = Array.from({ length: 2000 }, () => 10)
    let p = updateProfile(emptyProfile(), measured.map(x => x + normal(r, 0.8, 0.5)), measured)
    assert.ok(Math.abs(p.meanKw - 0.8) < 0.15, `mean ${p.meanKw}`)
    assert.ok(Math.abs(profileSdKw(p) - 0.5) < 0.15, `sd ${profileSdKw(p)}`)
    p = updateProfile(p, measured.slice(0, 200).map(x => x - 1), measured.slice(0, 200))
    assert.ok(Math.abs(p.meanKw + 1) < 0.01, `mean after change ${p.meanKw}`)
  })

  it('skips intervals without a measurement and rejects mismatched lengths', () => {
    const p = updateProfile(emptyProfile(), [2, 2, 2], [1, NaN, 1])
    assert.equal(p.samples, 2)
    assert.throws(() => updateProfile(p, [1, 2], [1]), RangeError)
  })
})
