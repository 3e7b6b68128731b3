import assert from 'node:assert/strict'
import { ReplayCache } from '../../src/xmpp/replayCache.js'

describe('xmpp: ReplayCache (exactly-once application of resent payloads)', () => {
  it('applies a key once and answers repeats, even concurrent ones, with the first answer', async () => {
    const cache = new ReplayCache<string>(10)
    let applied = 0
    const produce = async (): Promise<string> => { applied++; await new Promise(resolve => setTimeout(resolve, 5)); return `answer-${applied}` }
    const [a, b] = await Promise.all([cache.once('ven@x m1', produce), cache.once('ven@x m1', produce)])
    const c = await cache.once('ven@x m1', produce)
    assert.equal(applied, 1)
    assert.deepEqual([a, b, c], [{ value: 'answer-1', replayed: false }, { value: 'answer-1', replayed: true }, { value: 'answer-1', replayed: true }])
  })

  it('forgets a failed application so a resend can try again', async () => {
    const cache = new ReplayCache<string>(10)
    await assert.rejects(cache.once('k', async () => { throw new Error('disk full') }), /disk full/)
    assert.deepEqual(await cache.once('k', async () => 'ok'), { value: 'ok', replayed: false })
  })

  it('keeps at most `capacity` answers, dropping the oldest', async () => {
    const cache = new ReplayCache<number>(2)
    for (const key of ['a', 'b', 'c']) await cache.once(key, async () => 1)
    assert.equal(cache.size, 2)
    assert.equal((await cache.once('a', async () => 2)).replayed, false, 'a was evicted')
    assert.equal((await cache.once('c', async () => 3)).replayed, true)
    assert.throws(() => new ReplayCache(0), RangeError)
  })
})
