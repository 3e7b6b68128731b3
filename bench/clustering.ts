/**
 * `npm run bench -- clustering [--json]`: k-means++ / Lloyd on seeded synthetic customers (features as in
 * src/actors/clustering.ts), median of several runs after a warm-up; target 10,000 customers in ≤ 200 ms,
 * at k = 8 and k = 16, with the default convergence tolerance (Lloyd stops once no centroid moves by more
 * than 0.5 % of the data's RMS spread).
 * The silhouette above 1,000 customers is computed on a seeded sample of 1,000 (printed as "sampled").
 */
import { clusterCustomers, type ClusterFeatures } from '../src/actors/clustering.js'
import { normal, randomInt, seededRandom, uniform, type Random } from '../src/util/random.js'

const SHAPE_INTERVALS = 24

function customers (n: number, random: Random): ClusterFeatures[] {
  // Six archetypes (household, office, shop, PV home, PV + battery, farm) with spread, so clusters overlap.
  const archetypes = Array.from({ length: 6 }, (_, a) => ({
    prosumer: a >= 3, pv: a >= 3 ? uniform(random, 3, 10) : 0, battery: a === 4 ? uniform(random, 5, 15) : 0,
    flex: uniform(random, 1, 30), lat: uniform(random, 40, 46), lon: uniform(random, 7, 13),
    peak: uniform(random, 6, 21)
  }))
  return Array.from({ length: n }, (_, i) => {
    const a = archetypes[randomInt(random, archetypes.length)]!
    return {
      customerId: `c${i}`,
      type: a.prosumer ? 'prosumer' : 'consumer',
      pvKw: Math.max(0, a.pv * uniform(random, 0.6, 1.4)),
      batteryKwh: Math.max(0, a.battery * uniform(random, 0.6, 1.4)),
      flexibleLoadKw: a.flex * uniform(random, 0.5, 1.5),
      latitude: a.lat + normal(random, 0, 0.3),
      longitude: a.lon + normal(random, 0, 0.3),
      loadShapeKw: Array.from({ length: SHAPE_INTERVALS }, (_, h) => 0.5 + Math.exp(-((h - a.peak) ** 2) / 8) + normal(random, 0, 0.1))
    }
  })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const cases = [{ n: 1_000, k: 8 }, { n: 10_000, k: 8 }, { n: 10_000, k: 16 }]
  for (const { n, k } of cases) {
    const data = customers(n, seededRandom(n + k))
    clusterCustomers(data, seededRandom(0), { k })
    const times: number[] = []; let silhouette = 0; let sampled = false; let iterations = 0
    for (let r = 1; r <= 7; r++) {
      const t0 = performance.now()
      const result = clusterCustomers(data, seededRandom(r), { k })
      times.push(performance.now() - t0)
      silhouette = result.silhouette; sampled = result.silhouetteSampled; iterations = result.iterations
    }
    const ms = median(times)
    const name = `kmeans-k${k}`
    if (json) console.log(JSON.stringify({ case: name, customers: n, intervals: SHAPE_INTERVALS, ms: Number(ms.toFixed(3)) }))
    else {
      console.log(`${name.padEnd(12)} ${String(n).padStart(6)} customers  ${ms.toFixed(1).padStart(7)} ms (median of 7)` +
        `  ${iterations} iterations  silhouette ${silhouette.toFixed(3)}${sampled ? ' (sampled, 1,000)' : ''}` +
        (n === 10_000 ? `  target 200 ms: ${(ms / 200).toFixed(2)}× of budget` : ''))
    }
  }
}
