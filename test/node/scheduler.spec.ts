import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Store } from '../../src/store/index.js'
import { Scheduler, TimerSpecError, type TimerFire } from '../../src/node/scheduler.js'
import { ManualClock, ScaledClock } from '../../src/util/clock.js'

const child = fileURLToPath(new URL('./fixtures/schedulerChild.ts', import.meta.url))

/** Runs the child until it prints `line`, then kills it with SIGKILL. */
async function runUntilThenKill (dataDir: string, mode: string, line: string): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<NodeJS.Signals | null>(resolve => proc.on('exit', (_code, signal) => { resolve(signal) }))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.split('\n').includes(line)) {
        proc.kill('SIGKILL')
        resolve()
      }
    })
    proc.on('exit', () => { reject(new Error(`child exited before '${line}': ${stderr}`)) })
  })
  assert.equal(await exited, 'SIGKILL')
}

describe('node/scheduler', () => {
  let dataDir: string
  let store: Store

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-sched-'))
    store = new Store({ dataDir })
    await store.start()
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('stores a timer with its absolute due time before arming it, and fires it once when due', async () => {
    const clock = new ManualClock(1_000_000)
    const scheduler = new Scheduler({}, { store, clock })
    const fired: TimerFire[] = []
    scheduler.on('report-deadline', fire => { fired.push(fire) })
    await scheduler.start()
    await scheduler.schedule({ id: 'r1', kind: 'report-deadline', dueMs: 1_060_000, payload: { ven: 'v1' } })
    assert.deepEqual(await store.table('timers').get('r1'),
      { id: 'r1', kind: 'report-deadline', dueMs: 1_060_000, payload: { ven: 'v1' }, attempts: 0 })

    clock.advance(59_999)
    await scheduler.runDue()
    assert.equal(fired.length, 0)
    clock.advance(1)
    await scheduler.runDue()
    await scheduler.runDue()
    assert.equal(fired.length, 1)
    assert.deepEqual({ ...fired[0], firedAtMs: undefined }, {
      id: 'r1', kind: 'report-deadline', dueMs: 1_060_000, payload: { ven: 'v1' }, firedAtMs: undefined,
      attempt: 1, refire: false, fireKey: 'r1@1060000'
    })
    assert.equal(await store.table('timers').get('r1'), undefined)
    await scheduler.stop()
  })

  it('fires overdue timers at once in due order after a restart, and commits the handler effects with them', async () => {
    const clock = new ManualClock(0)
    const first = new Scheduler({}, { store, clock })
    await first.start()
    for (const [id, dueMs] of [['c', 300], ['a', 100], ['b', 200], ['later', 10_000]] as const) {
      await first.schedule({ id, kind: 'interval-boundary', dueMs })
    }
    await first.stop()
    await store.stop()

    const reopened = new Store({ dataDir })
    await reopened.start()
    clock.set(5_000)
    const second = new Scheduler({}, { store: reopened, clock })
    const order: string[] = []
    second.on('interval-boundary', fire => {
      order.push(fire.id)
      return [reopened.table<string>('reports').putOp(fire.fireKey, 'closed')]
    })
    await second.start()
    await second.runDue()
    assert.deepEqual(order, ['a', 'b', 'c'])
    assert.deepEqual(second.pending().map(t => t.id), ['later'])
    assert.deepEqual((await reopened.table('reports').entries()).map(([k]) => k), ['a@100', 'b@200', 'c@300'])
    await second.stop()
    await reopened.stop()
  })

  it('waits real time divided by the time scale on a scaled clock', async () => {
    const clock = new ScaledClock(0, 100)
    const scheduler = new Scheduler({}, { store, clock })
    let firedAt: (ms: number) => void = () => {}
    const fired = new Promise<number>(resolve => { firedAt = resolve })
    scheduler.on('retrain', fire => { firedAt(fire.firedAtMs) })
    await scheduler.start()
    const realStart = performance.now()
    await scheduler.schedule({ id: 'm', kind: 'retrain', dueMs: clock.now() + 5_000 })
    const firedAtMs = await fired
    const realMs = performance.now() - realStart
    assert.ok(firedAtMs >= 5_000, `fired at simulated ${firedAtMs}`)
    assert.ok(realMs >= 45 && realMs < 1_000, `5 s simulated at 100x took ${realMs} ms real`)
    await scheduler.stop()
  })

  it('repeats a recurring timer on its grid, coalescing occurrences missed while down, until untilMs', async () => {
    const clock = new ManualClock(0)
    const scheduler = new Scheduler({}, { store, clock })
    const dues: number[] = []
    scheduler.on('cluster', fire => { dues.push(fire.dueMs) })
    await scheduler.start()
    await scheduler.schedule({ id: 'k', kind: 'cluster', dueMs: 100, everyMs: 100, untilMs: 1_000 })
    clock.set(100)
    await scheduler.runDue()
    clock.set(450)
    await scheduler.runDue()
    assert.deepEqual(dues, [100, 200])
    assert.equal(scheduler.get('k')?.dueMs, 500)
    clock.set(2_000)
    await scheduler.runDue()
    assert.deepEqual(dues, [100, 200, 500])
    assert.equal(scheduler.get('k'), undefined)
    await scheduler.stop()
  })

  it('cancels a timer durably, and replaces a timer scheduled again under the same id', async () => {
    const clock = new ManualClock(0)
    const scheduler = new Scheduler({}, { store, clock })
    const fired: string[] = []
    scheduler.on('retry', fire => { fired.push(`${fire.id}@${fire.dueMs}`) })
    await scheduler.start()
    await scheduler.schedule({ id: 'x', kind: 'retry', dueMs: 10 })
    await scheduler.schedule({ id: 'y', kind: 'retry', dueMs: 10 })
    await scheduler.schedule({ id: 'y', kind: 'retry', dueMs: 20 })
    assert.equal(await scheduler.cancel('x'), true)
    assert.equal(await scheduler.cancel('x'), false)
    assert.equal(await store.table('timers').get('x'), undefined)
    clock.set(100)
    await scheduler.runDue()
    assert.deepEqual(fired, ['y@20'])
    await scheduler.stop()
  })

  it('retries a throwing handler with backoff, telling it that it re-fires, then drops the timer', async () => {
    const clock = new ManualClock(0)
    const scheduler = new Scheduler({ maxAttempts: 3, retryDelayMs: 100 }, { store, clock })
    const calls: Array<[number, boolean, number]> = []
    scheduler.on('send', fire => {
      calls.push([fire.attempt, fire.refire, clock.now()])
      throw new Error('upstream unreachable')
    })
    await scheduler.start()
    await scheduler.schedule({ id: 's', kind: 'send', dueMs: 0 })
    await scheduler.runDue()
    clock.set(100)
    await scheduler.runDue()
    clock.set(299)
    await scheduler.runDue()
    clock.set(300)
    await scheduler.runDue()
    assert.deepEqual(calls, [[1, false, 0], [2, true, 100], [3, true, 300]])
    assert.equal(scheduler.get('s'), undefined)
    assert.equal(await store.table('timers').get('s'), undefined)
    await scheduler.stop()
  })

  it('refuses a malformed timer with a named error and stores nothing', async () => {
    const scheduler = new Scheduler({}, { store, clock: new ManualClock(0) })
    await assert.rejects(scheduler.schedule({ id: 'n', kind: 'k', dueMs: Number.NaN }), TimerSpecError)
    await assert.rejects(scheduler.schedule({ id: 'n', kind: 'k', dueMs: 0, everyMs: 0 }), TimerSpecError)
    assert.deepEqual(await store.table('timers').entries(), [])
  })

  describe('crash (SIGKILL of a child process)', function () {
    this.timeout(30_000)

    async function fireAfterRestart (): Promise<TimerFire[]> {
      const scheduler = new Scheduler({}, { store, clock: new ScaledClock(Date.now(), 1) })
      const fired: TimerFire[] = []
      let resolveDone: () => void = () => {}
      const done = new Promise<void>(resolve => { resolveDone = resolve })
      scheduler.on('close-interval', fire => {
        fired.push(fire)
        setImmediate(resolveDone)
        return [store.table<string>('reports').putOp(`${fire.fireKey}#parent`, 'effect')]
      })
      await scheduler.start()
      await Promise.race([done, new Promise(resolve => setTimeout(resolve, 1_000))])
      await scheduler.stop()
      return fired
    }

    it('a timer stored just before the kill fires once after the restart', async () => {
      await store.stop()
      await runUntilThenKill(dataDir, 'store', 'stored')
      await store.start()
      const fired = await fireAfterRestart()
      assert.equal(fired.length, 1)
      assert.equal(fired[0]?.refire, false)
      assert.deepEqual(fired[0]?.payload, { interval: 3 })
      assert.deepEqual(await fireAfterRestart(), [], 'fires no second time')
      assert.equal((await store.table('reports').entries()).length, 1)
    })

    it('a timer killed inside its handler fires again after the restart, flagged as a re-fire', async () => {
      await store.table('timers').put('t1', { id: 't1', kind: 'close-interval', dueMs: Date.now(), payload: null, attempts: 0 })
      await store.stop()
      await runUntilThenKill(dataDir, 'inHandler', 'in-handler')
      await store.start()
      const fired = await fireAfterRestart()
      assert.equal(fired.length, 1)
      assert.equal(fired[0]?.refire, true)
      assert.equal(fired[0]?.attempt, 2)
    })

    it('a timer whose effect was committed before the kill does not fire again', async () => {
      await store.table('timers').put('t1', { id: 't1', kind: 'close-interval', dueMs: Date.now(), payload: null, attempts: 0 })
      await store.stop()
      await runUntilThenKill(dataDir, 'committed', 'committed')
      await store.start()
      assert.deepEqual(await fireAfterRestart(), [])
      const effects = await store.table('reports').entries()
      assert.equal(effects.length, 1)
      assert.ok(effects[0]?.[0].startsWith('t1@'))
    })
  })
})
