/**
 * `npm run bench -- matchmaking [--json]`: one intra-matchmaking deviation over 10,000 seeded synthetic
 * customers (both strategies; `paper` as the agent calls it, with the pool's Σ fʲ rⱼ computed once per
 * intra pass, and without it; 24 and 96 intervals; target ≤ 5 ms), and the inter-matchmaking allocation
 * over 50 peer offers. Median over many deviations, each by a different customer, after a warm-up.
 */
import { allocateToPeers } from '../src/actors/inter.js'
import { matchIntra, paperCapacityKw, type IntraCustomer, type IntraInit } from '../src/actors/intra.js'
import type { PeerOffer } from '../src/node/interMatchmaking.js'
import { randomInt, seededRandom, uniform, type Random } from '../src/util/random.js'

function pool (n: number, T: number, random: Random): IntraCustomer[] {
  return Array.from({ length: n }, (_, i) => {
    const baselineKw = Array.from({ length: T }, () => uniform(random, 0.5, 6))
    const flexDownKw = baselineKw.map(b => b * uniform(random, 0, 0.3))
    const flexUpKw = baselineKw.map(() => uniform(random, 0, 1))
    return {
      customerId: `c${i}`,
      reliability: random.next(),
      errorMeanKw: uniform(random, -0.2, 0.2),
      errorSdKw: uniform(random, 0.05, 0.5),
      forecastKw: baselineKw.map(b => b + uniform(random, -0.3, 0.3)),
      baselineKw,
      setpointKw: baselineKw.map((b, t) => b - flexDownKw[t]! * uniform(random, 0, 0.8)),
      flexUpKw,
      flexDownKw
    }
  })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function report (json: boolean, name: string, customers: number, intervals: number, ms: number, note: string): void {
  if (json) console.log(JSON.stringify({ case: name, customers, intervals, ms: Number(ms.toFixed(4)) }))
  else console.log(`${name.padEnd(21)} ${String(customers).padStart(6)} × ${String(intervals).padStart(3)}  ${ms.toFixed(3).padStart(8)} ms  ${note}`)
}

export async function run (argv: string[]): Promise<void> {
  const json = argv.includes('--json')
  const N = 10_000; const runs = 41
  for (const T of [24, 96]) {
    const customers = pool(N, T, seededRandom(T))
    const variants: Array<{ name: string, init: IntraInit }> = [
      { name: 'intra-corrected', init: { strategy: 'corrected' } },
      // As src/node/agentDecisions.ts calls it: the pool's Σ fʲ rⱼ once per pass, equation (2) O(T) per deviation.
      { name: 'intra-paper', init: { strategy: 'paper', paperCapacityKw: paperCapacityKw(customers) } },
      { name: 'intra-paper-unpooled', init: { strategy: 'paper' } }
    ]
    for (const { name, init } of variants) {
      const picks = seededRandom(1)
      for (let w = 0; w < 10; w++) matchIntra(customers, randomInt(picks, N), init)
      const times: number[] = []; let touched = 0
      for (let r = 0; r < runs; r++) {
        // A deviating customer whose forecast is 3 kW above its setpoint in every interval.
        const i = randomInt(picks, N); const me = customers[i]!
        const deviating = customers.slice()
        deviating[i] = { ...me, forecastKw: Array.from(me.setpointKw, x => x + 3) }
        const t0 = performance.now()
        const m = matchIntra(deviating, i, init)
        times.push(performance.now() - t0)
        touched += m.changes.length
      }
      const ms = median(times)
      report(json, name, N, T, ms, `${name === 'intra-paper-unpooled' ? 'Σ fʲ rⱼ recomputed per call (O(N·T)); ' : ''}median of ${runs}; ${(touched / runs).toFixed(0)} customers re-dispatched per deviation; target 5 ms: ${(ms / 5).toFixed(2)}× of budget`)
    }
  }
  const T = 96; const peers = 50; const random = seededRandom(5)
  const offers: PeerOffer[] = Array.from({ length: peers }, (_, p) => ({
    peerId: `p${p}`, flexUpKw: Array.from({ length: T }, () => uniform(random, 0, 200)),
    flexDownKw: Array.from({ length: T }, () => uniform(random, 0, 200)), expiresAtMs: random.next() < 0.1 ? 0 : 1e15
  }))
  const reliability = new Map(offers.map(o => [o.peerId, random.next()]))
  const shortfall = Array.from({ length: T }, () => uniform(random, -2_000, 2_000))
  const times: number[] = []
  for (let r = 0; r < 210; r++) {
    const t0 = performance.now()
    allocateToPeers(shortfall, offers, id => reliability.get(id)!, 1)
    if (r >= 10) times.push(performance.now() - t0)
  }
  report(json, 'inter-allocate', peers, T, median(times), `median of ${times.length}; ${peers} peer offers (customers column = peers)`)
}
