/**
 * Polyfills the runtime lacks. Node 20 has no `Promise.withResolvers` (Node 22 added it), and libp2p
 * (it-queue, @libp2p/utils, yamux, ping) calls it at run time. Every entry point (the CLI in `bin/node`,
 * mocha through `.mocharc.json`, the benchmarks, worker threads) imports this module before anything else.
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const PromiseCtor = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
