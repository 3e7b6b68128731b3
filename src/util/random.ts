/**
 * Seeded randomness: every random choice (k-means++ seeding, simulated customers, fuzzing corpora) draws
 * from a `Random` built from a seed, so a seeded run is reproducible. mulberry32: small, fast, and good
 * enough for simulation (not for cryptography).
 */
export interface Random {
  /** Uniform in [0, 1). */
  next: () => number
}

export function seededRandom (seed: number): Random {
  let a = seed >>> 0
  return {
    next () {
      a = (a + 0x6D2B79F5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
}

/** Uniform in [min, max). */
export function uniform (random: Random, min: number, max: number): number {
  return min + (max - min) * random.next()
}

/** Standard normal by Box–Muller, scaled. */
export function normal (random: Random, mean = 0, sd = 1): number {
  const u = 1 - random.next()
  const v = random.next()
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** Integer in [0, n). */
export function randomInt (random: Random, n: number): number {
  return Math.floor(random.next() * n)
}
