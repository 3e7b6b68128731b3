/**
 * Seeded synthetic customers for the actor tests and benchmarks: archetypes with known cluster membership,
 * loads with daily and weekly shape and noise, and customers with known true compliance probabilities.
 */
import { normal, randomInt, uniform, type Random } from '../../src/util/random.js'
import type { ClusterFeatures } from '../../src/actors/clustering.js'

/** Three archetypes far apart in every feature group; `archetype[i]` is the truth for customer i. */
export function archetypeCustomers (n: number, random: Random): { customers: ClusterFeatures[], archetype: number[] } {
  const shapes = [
    (h: number) => 1 + Math.exp(-((h - 19) ** 2) / 6), // evening peak household
    (h: number) => (h >= 8 && h < 18 ? 2 : 0.5), // office hours
    (h: number) => 1 - 0.8 * Math.exp(-((h - 13) ** 2) / 8) // midday PV self-consumption dip
  ]
  const spec = [
    { type: 'consumer' as const, pv: 0, battery: 0, flex: 2, lat: 45.0, lon: 7.6 },
    { type: 'consumer' as const, pv: 0, battery: 0, flex: 40, lat: 45.5, lon: 9.2 },
    { type: 'prosumer' as const, pv: 6, battery: 10, flex: 3, lat: 41.9, lon: 12.5 }
  ]
  const customers: ClusterFeatures[] = []; const archetype: number[] = []
  for (let i = 0; i < n; i++) {
    const a = randomInt(random, 3); const s = spec[a]!; const shape = shapes[a]!
    archetype.push(a)
    customers.push({
      customerId: `c${i}`,
      type: s.type,
      pvKw: Math.max(0, s.pv * uniform(random, 0.8, 1.2)),
      batteryKwh: Math.max(0, s.battery * uniform(random, 0.8, 1.2)),
      flexibleLoadKw: s.flex * uniform(random, 0.8, 1.2),
      latitude: s.lat + normal(random, 0, 0.05),
      longitude: s.lon + normal(random, 0, 0.05),
      loadShapeKw: Array.from({ length: 24 }, (_, h) => shape(h) * uniform(random, 0.9, 1.1))
    })
  }
  return { customers, archetype }
}

/** Customers with no structure at all: every feature drawn independently. */
export function structurelessCustomers (n: number, random: Random): ClusterFeatures[] {
  return Array.from({ length: n }, (_, i) => ({
    customerId: `u${i}`,
    type: random.next() < 0.5 ? 'consumer' as const : 'prosumer' as const,
    pvKw: uniform(random, 0, 10),
    batteryKwh: uniform(random, 0, 10),
    flexibleLoadKw: uniform(random, 0, 10),
    latitude: uniform(random, 40, 46),
    longitude: uniform(random, 7, 13),
    loadShapeKw: Array.from({ length: 24 }, () => uniform(random, 0, 2))
  }))
}

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS
export const WEEK_MS = 7 * DAY_MS

/**
 * A household/commercial load in kW at `intervalMs` resolution from Monday 00:00 (`startMs` must be a Monday
 * midnight UTC): morning and evening peaks, a weekend shape, a slowly drifting level and AR(1) noise.
 */
export function syntheticLoad (startMs: number, intervals: number, intervalMs: number, random: Random,
  opts: { baseKw?: number, noise?: number } = {}): number[] {
  const base = opts.baseKw ?? uniform(random, 1, 5)
  const noise = opts.noise ?? 0.15
  const morning = uniform(random, 6.5, 8.5); const evening = uniform(random, 18, 21)
  const weekendFactor = uniform(random, 0.7, 1.4)
  const out: number[] = []
  let ar = 0; let level = 1
  for (let i = 0; i < intervals; i++) {
    const t = startMs + i * intervalMs
    const hour = (t % DAY_MS) / HOUR_MS
    const day = Math.floor((t - startMs) / DAY_MS) % 7
    if (i > 0 && (t % DAY_MS) === 0) level = Math.min(1.3, Math.max(0.7, level + normal(random, 0, 0.01)))
    const weekend = day >= 5
    const shape = 0.4 + 0.8 * Math.exp(-((hour - morning) ** 2) / 2) + 1.2 * Math.exp(-((hour - evening) ** 2) / 4) +
      (weekend ? 0.5 * Math.exp(-((hour - 13) ** 2) / 8) : 0.2 * Math.exp(-((hour - 12) ** 2) / 10))
    ar = 0.6 * ar + normal(random, 0, noise)
    out.push(Math.max(0.05, base * level * shape * (weekend ? weekendFactor : 1) * (1 + ar)))
  }
  return out
}
