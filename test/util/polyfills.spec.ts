import assert from 'node:assert/strict'

describe('polyfills', () => {
  it('Promise.withResolvers resolves and rejects the promise it returns', async () => {
    const withResolvers = (Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>, resolve: (v: T) => void, reject: (e: unknown) => void } }).withResolvers
    const a = withResolvers<number>()
    a.resolve(42)
    assert.equal(await a.promise, 42)
    const b = withResolvers<number>()
    b.reject(new Error('boom'))
    await assert.rejects(b.promise, /boom/)
  })
})
