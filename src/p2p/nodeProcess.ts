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
 * --lite-mode (no WebAssembly, which @libp2p/noise loads).
 */

/**
 * - `--max-semi-space-size=1`: a 1 MB young generation instead of up to 16 MB.
 * - `--optimize-for-size`: V8 collects the old generation before it doubles, and compiles for size.
 */
export const NODE_PROCESS_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size']

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
