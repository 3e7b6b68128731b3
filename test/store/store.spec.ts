import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store, StoreClosedError, Table, tableNames } from '../../src/store/index.js'

describe('store', () => {
  let dataDir: string
  let store: Store

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-store-'))
    store = new Store({ dataDir })
    await store.start()
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps JSON values across a close and reopen of the LevelDB files', async () => {
    await store.table<{ state: string, n: number[] }>('snapshots').put('event:E1', { state: 'active', n: [1, 2.5] })
    await store.table<{ name: string }>('customers').put('ven-1', { name: 'ven one' })
    // A forecast's worth of numbers is stored packed (packedJson.ts) and read back as JSON would.
    const forecastKw = Array.from({ length: 96 }, (_, i) => Math.cos(i / 7) * 1.3)
    await store.table<{ forecastKw: number[] }>('customers').put('ven-2', { forecastKw })
    await store.stop()

    const reopened = new Store({ dataDir })
    await reopened.start()
    try {
      assert.deepEqual(await reopened.table('snapshots').get('event:E1'), { state: 'active', n: [1, 2.5] })
      assert.deepEqual(await reopened.table('customers').get('ven-1'), { name: 'ven one' })
      assert.deepEqual(await reopened.table('customers').get('ven-2'), { forecastKw })
      assert.deepEqual((await reopened.table('customers').values()).length, 2)
      assert.equal(await reopened.table('customers').get('ven-3'), undefined)
    } finally {
      await reopened.stop()
    }
  })

  it('keeps tables apart: the same key in two tables holds two values', async () => {
    for (const name of tableNames) await store.table(name).put('k', name)
    for (const name of tableNames) assert.equal(await store.table(name).get('k'), name)
  })

  it('commits a batch across tables atomically, or not at all when one operation is invalid', async () => {
    const timers = store.table<{ done: boolean }>('timers')
    const reports = store.table<{ kw: number }>('reports')
    await store.batch([timers.putOp('t1', { done: true }), reports.putOp('r1', { kw: 3 })])
    assert.deepEqual(await timers.get('t1'), { done: true })
    assert.deepEqual(await reports.get('r1'), { kw: 3 })

    // a BigInt is not JSON: the whole batch must be refused, the first put included
    const notJson = { done: 1n } as unknown as { done: boolean }
    await assert.rejects(store.batch([reports.putOp('r2', { kw: 4 }), timers.putOp('t1', notJson)]))
    assert.equal(await reports.get('r2'), undefined)
    assert.deepEqual(await timers.get('t1'), { done: true })

    await store.batch([timers.delOp('t1'), reports.putOp('r1', { kw: 5 })])
    assert.equal(await timers.get('t1'), undefined)
    assert.deepEqual(await reports.get('r1'), { kw: 5 })
  })

  it('reads entries in key order within a prefix range', async () => {
    const audit = store.table<number>('audit')
    for (const key of ['E2/0002', 'E1/0002', 'E1/0001', 'E10/0001', 'E1/0010']) await audit.put(key, Number(key.slice(-4)))
    assert.deepEqual(await audit.entries(Table.prefixRange('E1/')), [['E1/0001', 1], ['E1/0002', 2], ['E1/0010', 10]])
    assert.deepEqual(await audit.values({ ...Table.prefixRange('E1/'), reverse: true, limit: 1 }), [10])
  })

  it('refuses writes once stopped with a named error', async () => {
    await store.stop()
    await assert.rejects(store.table('events').put('e', 1), StoreClosedError)
  })
})
