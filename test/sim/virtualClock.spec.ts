import assert from 'node:assert/strict'
import { VirtualClock } from '../../src/sim/virtualClock.js'
import { SimulationError } from '../../src/sim/failures.js'
import { timerAt } from '../../src/util/clock.js'

const t0 = Date.UTC(2026, 2, 17, 12)

async function realSleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('sim/virtualClock', () => {
  it('fires timers in due order, same-instant ones in arming order, with now() at their due time', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const fired: Array<[string, number]> = []
    const at = (name: string, dueMs: number): void => { clock.setTimer(dueMs, () => { fired.push([name, clock.now()]) }) }
    at('c', t0 + 3_000)
    at('a1', t0 + 1_000)
    at('b', t0 + 2_000)
    at('a2', t0 + 1_000)
    await clock.advanceTo(t0 + 10_000)
    assert.deepEqual(fired, [['a1', t0 + 1_000], ['a2', t0 + 1_000], ['b', t0 + 2_000], ['c', t0 + 3_000]])
    assert.equal(clock.now(), t0 + 10_000)
    assert.equal(clock.pending, 0)
  })

  it('moves on only after every callback fired at an instant has settled its promise', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const log: string[] = []
    clock.setTimer(t0 + 1_000, async () => {
      await realSleep(30)
      log.push('slow work done')
    })
    clock.setTimer(t0 + 1_000, () => { log.push('same instant') })
    clock.setTimer(t0 + 1_001, () => { log.push(`next instant at +${clock.now() - t0}`) })
    await clock.advanceTo(t0 + 2_000)
    assert.deepEqual(log, ['same instant', 'slow work done', 'next instant at +1001'])
  })

  it('a cancelled timer does not fire, nor does one armed for now that is cancelled before the clock settles', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const fired: string[] = []
    const later = clock.setTimer(t0 + 500, () => { fired.push('later') })
    const now = clock.setTimer(t0, () => { fired.push('now') })
    clock.setTimer(t0 + 700, () => { fired.push('kept') })
    later.cancel()
    now.cancel()
    later.cancel()
    await clock.advanceTo(t0 + 1_000)
    assert.deepEqual(fired, ['kept'])
  })

  it('a timer armed for the current instant or earlier fires on its own, as a 0 ms timer would, without moving the clock', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const seen: number[] = []
    await new Promise<void>(resolve => { clock.setTimer(t0 - 5_000, () => { seen.push(clock.now()); resolve() }) })
    assert.deepEqual(seen, [t0])
    await clock.settle()
    assert.equal(clock.now(), t0)
  })

  it('at one instant, a higher phase fires only once the lower phases have settled, whatever the arming order', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const log: string[] = []
    const node = clock.phase(1)
    const late = clock.phase(2)
    late.setTimer?.(t0 + 1_000, () => { log.push('phase 2') })
    node.setTimer?.(t0 + 1_000, () => { log.push('phase 1') })
    clock.setTimer(t0 + 1_000, async () => { await realSleep(20); log.push('phase 0 work done') })
    clock.setTimer(t0 + 999, () => { log.push('earlier instant, phase 0') })
    await clock.advanceTo(t0 + 2_000)
    assert.deepEqual(log, ['earlier instant, phase 0', 'phase 0 work done', 'phase 1', 'phase 2'])
    assert.equal(node.now(), t0 + 2_000)
    assert.throws(() => clock.phase(-1), RangeError)
  })

  it('a timer armed for now in a phase not reached yet waits for its phase; one in a phase already passed fires at once', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const log: string[] = []
    clock.phase(1).setTimer?.(t0 + 1_000, () => {
      log.push('phase 1')
      clock.phase(3).setTimer?.(clock.now(), () => { log.push('phase 3, armed by phase 1') })
      clock.setTimer(clock.now(), () => { log.push('phase 0, armed by phase 1') })
    })
    clock.phase(2).setTimer?.(t0 + 1_000, () => { log.push('phase 2') })
    await clock.advanceTo(t0 + 1_001)
    assert.deepEqual(log, ['phase 1', 'phase 0, armed by phase 1', 'phase 2', 'phase 3, armed by phase 1'])
  })

  it('advanceTo leaves timers due exactly at the target for the next step, after what the caller does there', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    const log: string[] = []
    clock.setTimer(t0 + 1_000, () => { log.push('timer') })
    await clock.advanceTo(t0 + 1_000)
    log.push('caller')
    await clock.advanceTo(t0 + 1_001)
    assert.deepEqual(log, ['caller', 'timer'])
  })

  it('waits while a probe reports work in progress, then carries on', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    let working = true
    const remove = clock.addProbe(() => working ? ['agent-0 event e1 (deciding)'] : [])
    setTimeout(() => { working = false }, 40)
    let sawIdle: boolean | undefined
    clock.setTimer(t0 + 1, () => { sawIdle = !working })
    await clock.advanceTo(t0 + 2)
    assert.equal(sawIdle, true)
    remove()
  })

  it('fails a step that stays busy, naming what is still busy', async () => {
    const clock = new VirtualClock({ startMs: t0, stepTimeoutMs: 50 })
    clock.addProbe(() => ['agent-1 event e7 (active.inter)'])
    clock.setTimer(t0 + 1_000, () => {})
    await assert.rejects(clock.advanceTo(t0 + 2_000), (err: Error) =>
      err instanceof SimulationError && /still busy/.test(err.message) && err.message.includes('agent-1 event e7 (active.inter)'))
  })

  it('fails a step whose fired callback never settles, and one whose callback failed', async () => {
    const hung = new VirtualClock({ startMs: t0, stepTimeoutMs: 50 })
    hung.setTimer(t0 + 1, async () => { await new Promise(() => {}) })
    await assert.rejects(hung.advanceTo(t0 + 2), /1 timer callback\(s\) unsettled/)
    const failing = new VirtualClock({ startMs: t0 })
    failing.setTimer(t0 + 1, async () => { throw new Error('store closed') })
    await assert.rejects(failing.advanceTo(t0 + 2), (err: Error) => err instanceof SimulationError && /timer callback failed.*store closed/.test(err.message))
  })

  it('runUntil steps until the condition holds, and fails past its limit or with nothing left to run', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    let polls = 0
    const poll = (): void => { polls++; clock.setTimer(clock.now() + 60_000, poll) }
    clock.setTimer(t0 + 60_000, poll)
    await clock.runUntil(() => polls >= 3, t0 + 3_600_000, 'three polls')
    assert.equal(clock.now(), t0 + 180_000)
    await assert.rejects(clock.runUntil(() => polls >= 100, t0 + 600_000, 'a hundred polls'), /a hundred polls: not done by/)
    const empty = new VirtualClock({ startMs: t0 })
    await assert.rejects(empty.runUntil(() => false, t0 + 1_000, 'forecasts'), /forecasts: nothing left to run/)
  })

  it('with maxTimeScale it never runs faster than that many virtual ms per real ms', async () => {
    const clock = new VirtualClock({ startMs: t0, maxTimeScale: 10 })
    const fired: number[] = []
    for (let i = 1; i <= 5; i++) clock.setTimer(t0 + i * 100, () => { fired.push(performance.now()) })
    const start = performance.now()
    await clock.advanceTo(t0 + 600)
    const elapsed = performance.now() - start
    assert.equal(fired.length, 5)
    // 600 virtual ms at 10×: at least 60 real ms (the first step only sets the pace, so 50 after it).
    assert.ok(elapsed >= 48, `elapsed ${elapsed} ms`)
    assert.equal(clock.timeScale, 10)
    assert.equal(new VirtualClock({ startMs: t0 }).timeScale, Infinity)
  })

  it('a thousand pollers through a day of virtual time: every poll due before the end fires, on its grid', async () => {
    const clock = new VirtualClock({ startMs: t0 })
    let polls = 0
    let offGrid = 0
    for (let i = 0; i < 1_000; i++) {
      const poll = (): void => {
        polls++
        if ((clock.now() - t0) % 225_000 !== 0) offGrid++
        timerAt(clock, clock.now() + 225_000, poll)
      }
      timerAt(clock, t0 + 225_000, poll)
    }
    await clock.advanceTo(t0 + 86_400_000)
    // 384 periods in a day; the 384th is due exactly at the end and waits for the next step.
    assert.equal(polls, 1_000 * 383)
    assert.equal(offGrid, 0)
    assert.equal(clock.pending, 1_000)
  })
})
