/**
 * How `adrmesh simulate` is started (bin/node re-runs itself with these V8 flags, as it does for `adrmesh
 * node`; heap sizes are read only when a process starts). A simulation holds every node and customer of the
 * run in one process: at issue 6's 20 × 5,000 × 96 its live heap is ~10 GiB (`npm run bench -- simulate`
 * projects it), past V8's default limit of ~4 GiB on this machine, so the run would end out of memory.
 *
 * - `--max-old-space-size`: three quarters of the machine's memory. A limit far above what a run holds costs
 *   nothing (1 × 1,000 × 96: 32.6 s of CPU and 741 MiB peak RSS with 18,000 MB, 34.8 s and 751 MiB with the
 *   default); one close to it trades CPU for memory (2-4.4× the 130 MiB live heap: 407-457 MiB peak RSS for
 *   ~45 % more CPU, docs/simulation.md "Scale").
 * - `--max-semi-space-size=32`: a run allocates short-lived objects per message; a 32 MiB young generation
 *   halves the scavenges (12 % less CPU at 1 × 2,000 × 8). The bench runs its cases with it too.
 */

const oldSpaceFlag = '--max-old-space-size'
const semiSpaceFlag = '--max-semi-space-size'
/** The young generation of a simulation, here and in the bench's children. */
export const simulateYoungGenerationFlag = `${semiSpaceFlag}=32`

/** The flags for a machine with `totalMemBytes` of memory. */
export function simulateV8Flags (totalMemBytes: number): string[] {
  return [`${oldSpaceFlag}=${Math.floor(totalMemBytes * 0.75 / 2 ** 20)}`, simulateYoungGenerationFlag]
}

/** Whether the process was started with heap sizes of its own (flags or NODE_OPTIONS): then they are the user's. */
export function hasHeapSettings (execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]
  return given.some(flag => flag.startsWith(oldSpaceFlag) || flag.startsWith(semiSpaceFlag))
}
