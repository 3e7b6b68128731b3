/**
 * How a long-lived node process is started so that its memory stays small: the V8 flags and the glibc malloc
 * settings that `adrmesh node` re-runs itself with (bin/node) and that the mesh benchmark gives its node
 * processes. Both are read only when a process starts, so they cannot be applied from inside a running node.
 *
 * Measured with `npm run bench -- mesh --only processes` (N = 20, largest node process after the traffic, host
 * loaded by other work): a 1 MB young generation alone 105-113 MB RSS; + --optimize-for-size ~94 MB (the old
 * generation had grown to twice its ~21 MB live size before a full collection); + the malloc settings ~86 MB.
 * Of that, ~45 MB are the node binary's own pages, shared with every other Node process on the host. Tried and
 * not kept: --single-threaded(-gc), --v8-pool-size=1 (no gain), --compact-on-every-full-gc (~1 MB),
 * --lite-mode and --jitless (no WebAssembly, which @libp2p/noise loads); --no-opt and --max-opt=1 (2-3 MB less
 * RSS, but 35-40 % more CPU and twice the round trip p50 over six nodes in one process: 1.5 → 2.7 ms);
 * --heap-growing-percent (V8 still grows the old generation by at least 8 MB before a full collection).
 * The code itself runs from one bundled file (scripts/bundle.mjs), which saves more than any flag.
 *
 * Between V8's own full collections the old generation holds up to ~10 MB of garbage over a ~15 MB live heap:
 * the memory reducer that should collect it when the process idles does not start in a mesh node, whose
 * gossipsub heartbeat keeps it from looking idle. `HeapCollector` runs a full collection every 15 s
 * instead (5-10 ms each). Measured on the bench's 20 node processes after the traffic: 66.5-74.5 MB RSS right
 * after a collection against 67.8-78.9 MB before it; the bench's largest process, 77.2-77.8 MB with it (two runs)
 * against 78.1-81.4 MB without (three runs). --bytecode-old-age=1 on top of it made no difference (77.9 MB).
 */

/**
 * - `--max-semi-space-size=1`: a 1 MB young generation instead of up to 16 MB.
 * - `--optimize-for-size`: V8 collects the old generation before it doubles, and compiles for size.
 * - `--expose-gc`: lets `HeapCollector` run full collections.
 */
export const NODE_PROCESS_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size', '--expose-gc']

/**
 * glibc malloc: one arena instead of one per V8 and libuv thread (each kept the peak of what its thread once
 * allocated), and freed memory above 64 kB handed back to the system instead of kept for reuse (the dynamic
 * thresholds grew to keep megabytes of parser and compiler scratch after start-up).
 */
export const NODE_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_TRIM_THRESHOLD_: '65536',
  MALLOC_MMAP_THRESHOLD_: '65536'
}

/** Whether this process was started with the flags and environment above. */
export function hasNodeProcessSettings (execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return NODE_PROCESS_V8_FLAGS.every(flag => execArgv.includes(flag)) &&
    Object.entries(NODE_PROCESS_ENV).every(([name, value]) => env[name] === value)
}

export interface HeapCollectorInit {
  /**
   * Real ms between full collections. Real time, not a `Clock`: it is about the process's memory, whatever
   * simulated time it runs on.
   * @default 15000
   */
  everyMs?: number
}

export interface HeapCollectorComponents {
  /** Runs a full collection; by default V8's `gc`, present only with `--expose-gc` (without it nothing runs). */
  collect?: () => void
}

/** Runs a full garbage collection at a steady pace, so that a long-lived node's heap stays near its live size. */
export class HeapCollector {
  private readonly everyMs: number
  private readonly collect: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (init: HeapCollectorInit = {}, components: HeapCollectorComponents = {}) {
    this.everyMs = init.everyMs ?? 15_000
    if (!(this.everyMs > 0)) throw new RangeError(`everyMs must be > 0, got ${this.everyMs}`)
    const exposed = (globalThis as { gc?: () => void }).gc
    this.collect = components.collect ?? (typeof exposed === 'function' ? () => { exposed() } : undefined)
  }

  /** Whether collections run (false in a process started without `--expose-gc` and no `collect` given). */
  get active (): boolean { return this.collect !== undefined }

  start (): void {
    if (this.collect === undefined || this.timer !== undefined) return
    const collect = this.collect
    this.timer = setInterval(collect, this.everyMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
