import assert from 'node:assert/strict'
import { ManualClock, ScaledClock, timerAt, type Clock, type TimerCallback } from '../../src/util/clock.js'
import { VirtualClock } from '../../src/sim/virtualClock.js'

async function realSleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('util/clock: timerAt', () => {
  it('on a clock without timers, fires on a real timer once the clock shows the due time', async () => {
    const clock = new ScaledClock(1_000_000, 100)
    const due = clock.now() + 2_000
    const firedAt = await new Promise<number>(resolve => { timerAt(clock, due, () => { resolve(clock.now()) }) })
    assert.ok(firedAt >= due - 100, `fired at ${firedAt - due} ms from due`)
  })

  it('a cancelled real timer does not fire', async () => {
    const clock = new ScaledClock(0, 1_000)
    let fired = false
    const timer = timerAt(clock, 5_000, () => { fired = true })
    timer.cancel()
    await realSleep(20)
    assert.equal(fired, false)
  })

  it('a due time beyond setTimeout’s 2^31 ms limit waits (Node would fire such a timeout at once)', async () => {
    let fired = false
    const timer = timerAt(new ManualClock(0), 2 ** 32, () => { fired = true })
    await realSleep(20)
    assert.equal(fired, false)
    timer.cancel()
  })

  it('delegates to a clock that runs its own timers, and sets no real timer', async () => {
    const armed: Array<{ dueMs: number, fn: TimerCallback }> = []
    const clock: Clock = { now: () => 0, timeScale: 1, setTimer: (dueMs, fn) => { armed.push({ dueMs, fn }); return { cancel: () => {} } } }
    let fired = false
    timerAt(clock, 50, () => { fired = true }, { unref: true })
    await realSleep(80)
    assert.equal(fired, false)
    assert.equal(armed.length, 1)
    assert.equal(armed[0]?.dueMs, 50)
  })

  it('on a virtual clock, fires when the clock reaches the due time and the clock waits for the promise it returns', async () => {
    const clock = new VirtualClock({ startMs: 0 })
    const log: string[] = []
    timerAt(clock, 1_000, async () => { await realSleep(10); log.push(`work at ${clock.now()}`) })
    timerAt(clock, 2_000, () => { log.push(`next at ${clock.now()}`) })
    await realSleep(20)
    assert.deepEqual(log, [])
    await clock.advanceTo(5_000)
    assert.deepEqual(log, ['work at 1000', 'next at 2000'])
  })
})
