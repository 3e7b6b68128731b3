import { strict as assert } from 'node:assert'
import { WorkerPool, UnknownTaskError, WorkerCrashedError, WorkerPoolStoppedError, WorkerTaskError, WorkerTaskTimeoutError } from '../../src/node/workerPool.js'

const registry = new URL('./fixtures/workerTasks.ts', import.meta.url)

describe('node/workerPool', function () {
  this.timeout(20_000)
  let pool: WorkerPool

  afterEach(async () => { await pool?.stop() })

  it('keeps the event loop ticking while a heavy task runs', async () => {
    pool = new WorkerPool({ size: 1, registry })
    await pool.start()
    let ticks = 0
    const ticker = setInterval(() => { ticks++ }, 10)
    const started = performance.now()
    const loops = await pool.run<number>('spin', 400)
    const elapsed = performance.now() - started
    clearInterval(ticker)
    assert.ok(loops > 0)
    // a 10 ms timer over >= 400 ms fires ~40 times unless the main thread is blocked
    assert.ok(ticks >= elapsed / 10 / 3, `${ticks} ticks in ${Math.round(elapsed)} ms`)
  })

  it('runs tasks on N workers at once and queues the rest', async () => {
    pool = new WorkerPool({ size: 2, registry })
    await pool.start()
    assert.equal(pool.stats.workers, 2)
    const runs = [pool.run('spin', 150), pool.run('spin', 150), pool.run('spin', 150)]
    assert.deepEqual(pool.stats, { workers: 2, busy: 2, queued: 1 })
    await Promise.all(runs)
    assert.deepEqual(pool.stats, { workers: 2, busy: 0, queued: 0 })
  })

  it('returns typed arrays and takes transferred input', async () => {
    pool = new WorkerPool({ size: 1, registry })
    await pool.start()
    const squares = await pool.run<Float64Array>('squares', 5)
    assert.ok(squares instanceof Float64Array)
    assert.deepEqual([...squares], [0, 1, 4, 9, 16])
    const input = Float64Array.from([1.5, 2, 3])
    assert.equal(await pool.run('sum', input, { transfer: [input.buffer] }), 6.5)
    assert.equal(input.byteLength, 0, 'the input buffer moved to the worker')
    assert.equal(await pool.run('hasWithResolvers', null), true)
  })

  it('a task that throws rejects alone; a worker that dies rejects its task and is replaced', async () => {
    pool = new WorkerPool({ size: 1, registry })
    await pool.start()
    await assert.rejects(pool.run('fail', 'bad input'),
      (err: unknown) => err instanceof WorkerTaskError && err.remoteName === 'RangeError' && /bad input/.test(err.message))
    await assert.rejects(pool.run('nope', null), UnknownTaskError)
    await assert.rejects(pool.run('exit', null), WorkerCrashedError)
    await assert.rejects(pool.run('crashLater', null), (err: unknown) => err instanceof WorkerCrashedError && /uncaught in worker/.test(err.message))
    assert.equal(await pool.run('sum', Float64Array.from([2, 3])), 5)
    assert.equal(pool.stats.workers, 1)
  })

  it('terminates a task past its timeout and keeps serving', async () => {
    pool = new WorkerPool({ size: 1, registry, taskTimeoutMs: 200 })
    await pool.start()
    await assert.rejects(pool.run('hang', null), WorkerTaskTimeoutError)
    assert.equal(await pool.run('sum', Float64Array.from([1])), 1)
  })

  it('rejects queued and running tasks on stop, and fails to start on a broken registry', async () => {
    pool = new WorkerPool({ size: 1, registry })
    await pool.start()
    const running = assert.rejects(pool.run('hang', null), WorkerPoolStoppedError)
    const queued = assert.rejects(pool.run('sum', Float64Array.from([1])), WorkerPoolStoppedError)
    await pool.stop()
    await running
    await queued
    await assert.rejects(pool.run('sum', null), WorkerPoolStoppedError)
    pool = new WorkerPool({ size: 1, registry: new URL('./fixtures/missing.ts', import.meta.url) })
    await assert.rejects(pool.start())
  })

  it('defaults to cores − 1 workers, at least one', () => {
    pool = new WorkerPool()
    assert.ok(pool.size >= 1)
  })
})
