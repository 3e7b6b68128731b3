import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store, WriteBehind, type StoreOp } from '../../src/store/index.js'

describe('store: write-behind', () => {
  let dataDir: string
  let store: Store

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-wb-'))
    store = new Store({ dataDir })
    await store.start()
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  const put = (key: string, value: unknown): StoreOp => ({ type: 'put', table: 'reports', key, value })
  const stored = async (key: string): Promise<unknown> => await store.table('reports').get(key)

  it('keeps staged writes out of the store until they are due, then commits the last write of each key in one batch', async () => {
    const batches: StoreOp[][] = []
    const w = new WriteBehind({ batch: async ops => { batches.push(ops); await store.batch(ops) } }, { everyMs: 1_000, maxOps: 100 })
    w.stage([put('a', 1), put('b', 1)], 0)
    w.stage([put('a', 2)], 500)
    await w.flush()
    assert.equal(batches.length, 1, 'flush() commits what is staged')
    assert.deepEqual(await stored('a'), 2)
    w.stage([put('c', 1)], 1_000)
    w.stage([put('c', 2)], 1_999)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(await stored('c'), undefined, 'not due before everyMs of the callers\' time')
    w.stage([put('d', 1)], 2_000)
    while (w.size > 0 || batches.length < 2) await new Promise(resolve => setImmediate(resolve))
    await w.flush()
    assert.deepEqual(batches[1]?.map(op => op.key), ['c', 'd'])
    assert.equal(await stored('c'), 2)
  })

  it('commits once maxOps are staged', async () => {
    const w = store.writeBehind({ everyMs: Infinity, maxOps: 3 })
    w.stage([put('a', 1), put('b', 1)], 0)
    assert.equal(w.size, 2)
    w.stage([put('c', 1)], 0)
    assert.equal(w.size, 0, 'the third write starts the commit')
    await w.flush()
    assert.equal(await stored('c'), 1)
  })

  it('a failed commit keeps its writes staged, a newer write of the same key wins, and the next flush commits them', async () => {
    let fail = true
    const w = new WriteBehind({ batch: async ops => { if (fail) throw new Error('disk full'); await store.batch(ops) } })
    w.stage([put('a', 1), put('b', 1)])
    const failed = w.flush()
    w.stage([put('a', 2)])
    await assert.rejects(failed, /disk full/)
    assert.equal(w.size, 2)
    fail = false
    await w.flush()
    assert.equal(await stored('a'), 2)
    assert.equal(await stored('b'), 1)
  })

  it('the store commits its write-behinds when it stops, and a write() is on disk when it resolves', async () => {
    const w = store.writeBehind()
    w.stage([put('staged', 1)], 0)
    await w.write([put('now', 1)])
    assert.equal(await stored('now'), 1)
    assert.equal(await stored('staged'), 1, 'write() commits what was staged before it')
    w.stage([put('late', 1)], 0)
    assert.equal(await stored('late'), undefined)
    await store.stop()
    const reopened = new Store({ dataDir })
    await reopened.start()
    try {
      assert.equal(await reopened.table('reports').get('late'), 1)
    } finally {
      await reopened.stop()
    }
  })
})
