import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GroupCommit } from '../../src/store/groupCommit.js'
import { Store } from '../../src/store/index.js'

describe('group commit', () => {
  it('writes what is asked in one turn as one batch, in order, and acknowledges each caller once it is written', async () => {
    const batches: string[][] = []
    const group = new GroupCommit<string>(async ops => { batches.push(ops) })
    let acknowledged = 0
    const writes = [['a1', 'a2'], ['b1'], ['c1', 'c2']].map(async ops => { await group.write(ops); acknowledged++ })
    assert.equal(acknowledged, 0)
    await Promise.all(writes)
    assert.deepEqual(batches, [['a1', 'a2', 'b1', 'c1', 'c2']])
    await group.write(['d1'])
    assert.deepEqual(batches[1], ['d1'])
  })

  it('writes one group at a time: what is asked while a batch is written goes in the next, after it', async () => {
    const batches: string[][] = []
    let inFlight = 0
    let most = 0
    let started: () => void = () => {}
    const firstStarted = new Promise<void>(resolve => { started = resolve })
    const group = new GroupCommit<string>(async ops => {
      most = Math.max(most, ++inFlight)
      started()
      await new Promise(resolve => setTimeout(resolve, 5))
      batches.push(ops)
      inFlight--
    })
    const first = group.write(['k=1'])
    await firstStarted
    const later = [group.write(['k=2']), group.write(['k=3'])]
    await Promise.all([first, ...later])
    assert.equal(most, 1)
    assert.deepEqual(batches, [['k=1'], ['k=2', 'k=3']])
  })

  it('fails only the caller whose operations fail when the group batch is refused', async () => {
    const written: string[] = []
    const group = new GroupCommit<string>(async ops => {
      if (ops.includes('bad')) throw new Error('refused')
      written.push(...ops)
    })
    const results = await Promise.allSettled([group.write(['a']), group.write(['x', 'bad']), group.write(['b'])])
    assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled'])
    assert.deepEqual(written, ['a', 'b'])
  })

  it('drain waits for writes in flight, so a store stopped at once keeps them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-group-'))
    try {
      const store = new Store({ dataDir })
      await store.start()
      const table = store.table<number>('meta')
      const pending = Promise.all(Array.from({ length: 50 }, async (_, i) => { await table.put(`k${i}`, i) }))
      await store.stop()
      await pending
      const reopened = new Store({ dataDir })
      await reopened.start()
      assert.equal((await reopened.table<number>('meta').values()).length, 50)
      await reopened.stop()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
