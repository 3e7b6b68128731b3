/** Task registry for `bench/foundations.ts`: a no-op (pool overhead) and a CPU-bound spin (a stand-in solve). */
export const tasks = {
  echo: (x: unknown) => x,
  spin: (ms: number) => {
    const end = performance.now() + ms
    let n = 0
    while (performance.now() < end) n++
    return n
  }
}
