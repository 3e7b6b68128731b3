import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { HeapCollector, NODE_PROCESS_ENV, NODE_PROCESS_V8_FLAGS, hasNodeProcessSettings } from '../../src/p2p/nodeProcess.js'

async function realSleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('p2p/nodeProcess: how a node process is started', () => {
  it('this Node accepts the node process flags, and a process started with them has V8\'s gc for the heap collector', () => {
    const out = execFileSync(process.execPath, [...NODE_PROCESS_V8_FLAGS, '-e', 'process.stdout.write(typeof gc)'], {
      env: { ...process.env, ...NODE_PROCESS_ENV }, encoding: 'utf8'
    })
    assert.equal(out, 'function')
  })

  it('a process is taken as started with the settings only when it has every flag and every malloc variable', () => {
    assert.equal(hasNodeProcessSettings(NODE_PROCESS_V8_FLAGS, { ...NODE_PROCESS_ENV }), true)
    assert.equal(hasNodeProcessSettings(NODE_PROCESS_V8_FLAGS.filter(f => f !== '--expose-gc'), { ...NODE_PROCESS_ENV }), false)
    assert.equal(hasNodeProcessSettings(NODE_PROCESS_V8_FLAGS, { ...NODE_PROCESS_ENV, MALLOC_ARENA_MAX: '2' }), false)
  })
})

describe('p2p/nodeProcess: HeapCollector', () => {
  it('collects at its pace once started, and no more once stopped', async () => {
    let collections = 0
    const heap = new HeapCollector({ everyMs: 10 }, { collect: () => { collections++ } })
    assert.equal(heap.active, true)
    await realSleep(30)
    assert.equal(collections, 0, 'nothing before start()')
    heap.start()
    await realSleep(80)
    heap.stop()
    assert.ok(collections >= 2, `${collections} collections in 80 ms at one per 10 ms`)
    const stoppedAt = collections
    await realSleep(40)
    assert.equal(collections, stoppedAt)
  })

  it('in a process without --expose-gc it is inactive and starting it does nothing', () => {
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the test process runs without --expose-gc')
    const heap = new HeapCollector()
    assert.equal(heap.active, false)
    heap.start()
    heap.stop()
  })

  it('a pace that is not a positive number is a RangeError', () => {
    assert.throws(() => new HeapCollector({ everyMs: 0 }), RangeError)
    assert.throws(() => new HeapCollector({ everyMs: Number.NaN }), RangeError)
  })
})
