/**
 * Synthetic customers for the simulator: who they are (location, household size, PV, battery, costs, the
 * hidden behaviour the nodes must learn) and what their flow looks like over a window: the true baseline
 * (household load shape with weekday/weekend and season, minus PV from the sun's position under cloud
 * noise), the forecast the node is told (true baseline plus autocorrelated error), and the flexibility per
 * interval that follows from load, PV and battery state of charge.
 *
 * Everything is drawn from seeded streams keyed by (seed, customer, the hour its window starts in), so a
 * customer's profile for a window is the same whichever order customers are generated in. Units and signs:
 * docs/design.md.
 */
import * as suncalcModule from 'suncalc'
import { normal, seededRandom, uniform, type Random } from '../util/random.js'
import { drawBehaviour, type BehaviourMix, type HiddenBehaviour } from './behaviour.js'

export interface Location { lat: number, lon: number }

export interface BatterySpec {
  capacityKwh: number
  maxKw: number
  /** State of charge at the start of the simulation, 0..1. */
  initialSoc: number
}

export interface SyntheticCustomer {
  venId: string
  /** Index among all customers of the run, the key of its random streams. */
  index: number
  location: Location
  marketContexts: string[]
  /** Mean household consumption over a year, kW. */
  meanLoadKw: number
  /** Share of the load the customer can shed on request. */
  curtailableShare: number
  /** Deferrable load it can switch on when asked to absorb, kW. */
  deferrableKw: number
  pvKwp: number
  battery: BatterySpec | null
  costUpPerKwh: number
  costDownPerKwh: number
  /** Smallest change from baseline worth activating (p_min), kW. */
  minActivationKw: number
  /** How the customer really answers a dispatch; the node never sees this. */
  behaviour: HiddenBehaviour
}

export interface CustomerGenInit {
  /** @default 0 */
  seed?: number
  /** First customer index (customers of several agents draw from distinct streams). @default 0 */
  firstIndex?: number
  count: number
  /** @default 'sim' */
  venIdPrefix?: string
  /** @default ['http://adrmesh.example/mc/sim'] */
  marketContexts?: string[]
  /** Customers are spread within ±0.3° of this point. @default { lat: 48.14, lon: 11.58 } */
  centre?: Location
  /** Share of customers with PV. @default 0.35 */
  pvShare?: number
  /** Share of customers with a battery. @default 0.4 */
  batteryShare?: number
  /** @default defaultBehaviourMix */
  behaviourMix?: BehaviourMix
}

export interface Window {
  startMs: number
  intervalMs: number
  intervals: number
}

/** A customer over one window: what really happens without DR, and what the node is told. */
export interface CustomerProfile {
  /** The flow without DR (kW): the counterfactual the figures measure delivery against. */
  trueBaselineKw: number[]
  /** What the customer reports as its forecast baseline (kW). */
  forecastBaselineKw: number[]
  /** What it really can do per interval (kW ≥ 0). */
  trueFlexUpKw: number[]
  trueFlexDownKw: number[]
  /** What it reports it can do (from its forecast) (kW ≥ 0). */
  flexUpKw: number[]
  flexDownKw: number[]
  pvKw: number[]
}

/** Relative sd of a household's forecast error (one-day-ahead individual household forecasts are this poor). */
const forecastErrorSd = 0.12
/** Lag-1 autocorrelation of the forecast error between intervals. */
const forecastErrorRho = 0.8
/** A battery keeps this much charge in reserve and stops charging above 1 − this. */
const socMargin = 0.1
const hourMs = 3_600_000
// suncalc is CommonJS without detectable named exports: under ESM its API sits on `default`.
const SunCalc = (suncalcModule as unknown as { default?: typeof suncalcModule }).default ?? suncalcModule
const dayMs = 24 * hourMs

export function generateCustomers (init: CustomerGenInit): SyntheticCustomer[] {
  const seed = init.seed ?? 0
  const first = init.firstIndex ?? 0
  const centre = init.centre ?? { lat: 48.14, lon: 11.58 }
  const prefix = init.venIdPrefix ?? 'sim'
  return Array.from({ length: init.count }, (_, k) => {
    const index = first + k
    const r = streamFor(seed, index, 0)
    const hasBattery = r.next() < (init.batteryShare ?? 0.4)
    const hasPv = r.next() < (init.pvShare ?? 0.35)
    const capacityKwh = uniform(r, 5, 13.5)
    return {
      venId: `${prefix}-${index}`,
      index,
      location: { lat: centre.lat + uniform(r, -0.3, 0.3), lon: centre.lon + uniform(r, -0.3, 0.3) },
      marketContexts: init.marketContexts ?? ['http://adrmesh.example/mc/sim'],
      meanLoadKw: uniform(r, 0.35, 1.2),
      curtailableShare: uniform(r, 0.1, 0.35),
      deferrableKw: uniform(r, 0, 0.6),
      pvKwp: hasPv ? uniform(r, 3, 10) : 0,
      battery: hasBattery ? { capacityKwh, maxKw: Math.min(capacityKwh / 2, uniform(r, 2.5, 5)), initialSoc: uniform(r, 0.3, 0.8) } : null,
      costUpPerKwh: uniform(r, 0.03, 0.2),
      costDownPerKwh: uniform(r, 0.05, 0.3),
      minActivationKw: r.next() < 0.3 ? uniform(r, 0.1, 0.5) : 0,
      behaviour: drawBehaviour(r, init.behaviourMix)
    }
  })
}

/** A stream of its own per (seed, customer, purpose): independent of generation order. */
export function streamFor (seed: number, index: number, salt: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(salt + 7, 0x27d4eb2f)
  h ^= h >>> 16
  return seededRandom(h >>> 0)
}

/** Relative household demand at a local solar hour: morning and evening peaks, later and flatter at weekends. */
export function loadShape (localHour: number, weekend: boolean): number {
  const bump = (centre: number, width: number, height: number): number =>
    height * Math.exp(-0.5 * ((((localHour - centre + 36) % 24) - 12) / width) ** 2)
  return weekend
    ? 0.45 + bump(10, 2, 0.6) + bump(13.5, 2, 0.35) + bump(19.5, 2, 0.9)
    : 0.4 + bump(7.3, 1.1, 0.7) + bump(12.5, 1.5, 0.15) + bump(19, 1.8, 1.05)
}

/** Heating and lighting make winter demand higher (northern hemisphere; peak mid-January). */
export function seasonalFactor (atMs: number): number {
  const day = (atMs % (365.25 * dayMs)) / dayMs
  return 1 + 0.25 * Math.cos(2 * Math.PI * (day - 15) / 365.25)
}

/** Local solar time in hours at the customer's longitude, and whether that day is a Saturday or Sunday. */
function localTime (atMs: number, lon: number): { hour: number, weekend: boolean } {
  const local = atMs + (lon / 15) * hourMs
  const weekday = new Date(local).getUTCDay()
  return { hour: (local % dayMs) / dayMs * 24, weekend: weekday === 0 || weekday === 6 }
}

/** PV output (kW) from the sun's altitude, attenuated by cloud cover (0 clear … 1 overcast). */
export function pvOutputKw (kwp: number, location: Location, atMs: number, cloud: number): number {
  return cloudyPvKw(clearSkyPvKw(kwp, location, atMs), cloud)
}

/** Clear-sky PV output (kW) from the sun's altitude: what depends on the time but not on the weather. */
export function clearSkyPvKw (kwp: number, location: Location, atMs: number): number {
  if (kwp <= 0) return 0
  // suncalc 2.x answers in degrees (its @types still describe 1.x, in radians).
  const altitude = SunCalc.getPosition(new Date(atMs), location.lat, location.lon).altitude * Math.PI / 180
  if (altitude <= 0) return 0
  return kwp * 0.85 * Math.sin(altitude) ** 1.2
}

/** Clear-sky output under cloud cover (0 clear … 1 overcast). */
export function cloudyPvKw (clearKw: number, cloud: number): number {
  return clearKw <= 0 ? 0 : clearKw * (1 - 0.75 * Math.min(1, Math.max(0, cloud)))
}

/** The customer's demand at `atMs` before its noise: mean load by household shape and season (kW). */
export function demandKw (c: SyntheticCustomer, atMs: number): number {
  const { hour, weekend } = localTime(atMs, c.location.lon)
  return c.meanLoadKw * loadShape(hour, weekend) * seasonalFactor(atMs)
}

/**
 * A profile's random draws step by step: its stream is keyed by (seed, customer, hour the window starts in)
 * and read in step order, so every window starting in that hour draws the same numbers, and the first n
 * steps do not depend on the window's length.
 */
export class ProfileDraws {
  /** Per step: the load's relative noise, the cloud cover, the forecast's relative error. */
  readonly loadNoise: number[] = []
  readonly cloud: number[] = []
  readonly error: number[] = []
  private readonly random: Random
  private lastCloud: number
  private lastError: number

  constructor (seed: number, index: number, readonly hourKey: number) {
    this.random = streamFor(seed, index, hourKey)
    this.lastCloud = uniform(this.random, 0, 1)
    this.lastError = normal(this.random, 0, forecastErrorSd)
  }

  /** The key of the stream of a window starting at `startMs`. */
  static hourKey (startMs: number): number {
    return Math.floor(startMs / hourMs) & 0xffffff
  }

  /** Draws the steps up to `steps`. */
  upTo (steps: number): this {
    const r = this.random
    for (let t = this.loadNoise.length; t < steps; t++) {
      this.loadNoise.push(normal(r, 0, 0.1))
      this.lastCloud = Math.min(1, Math.max(0, 0.9 * this.lastCloud + 0.1 * 0.5 + normal(r, 0, 0.08)))
      this.cloud.push(this.lastCloud)
      this.lastError = forecastErrorRho * this.lastError + Math.sqrt(1 - forecastErrorRho ** 2) * normal(r, 0, forecastErrorSd)
      this.error.push(this.lastError)
    }
    return this
  }
}

/** True load (kW) at step t from the demand there. */
export function loadAt (demand: number, draws: ProfileDraws, t: number): number {
  return Math.max(0.05, demand * (1 + (draws.loadNoise[t] as number)))
}

/** What the customer forecasts its load to be (kW) at step t. */
export function forecastLoadAt (load: number, draws: ProfileDraws, t: number): number {
  return Math.max(0.05, load * (1 + (draws.error[t] as number)))
}

/** The customer's true and forecast flows and flexibility over the window, battery at `soc`. */
export function profileOf (c: SyntheticCustomer, window: Window, seed: number, soc = c.battery?.initialSoc ?? 0): CustomerProfile {
  const draws = new ProfileDraws(seed, c.index, ProfileDraws.hourKey(window.startMs)).upTo(window.intervals)
  const out: CustomerProfile = { trueBaselineKw: [], forecastBaselineKw: [], trueFlexUpKw: [], trueFlexDownKw: [], flexUpKw: [], flexDownKw: [], pvKw: [] }
  const flex = flexOf(c, window, soc)
  for (let t = 0; t < window.intervals; t++) {
    const at = window.startMs + (t + 0.5) * window.intervalMs
    const load = loadAt(demandKw(c, at), draws, t)
    const pv = cloudyPvKw(clearSkyPvKw(c.pvKwp, c.location, at), draws.cloud[t] as number)
    const forecastLoad = forecastLoadAt(load, draws, t)
    out.pvKw.push(pv)
    out.trueBaselineKw.push(load - pv)
    out.forecastBaselineKw.push(forecastLoad - pv)
    out.trueFlexUpKw.push(flex.upKw(pv))
    out.trueFlexDownKw.push(flex.downKw(load))
    out.flexUpKw.push(flex.upKw(pv))
    out.flexDownKw.push(flex.downKw(forecastLoad))
  }
  return out
}

/** A customer's flexibility over a window from its battery at `soc`, PV and (true or forecast) load. */
export interface Flex {
  upKw: (pvKw: number) => number
  downKw: (loadKw: number) => number
}

export function flexOf (c: SyntheticCustomer, window: Window, soc: number): Flex {
  const hours = window.intervalMs / hourMs
  // The battery must hold its power for the whole window.
  const eventHours = Math.max(hours, window.intervals * hours)
  const upBase = batteryChargeKw(c, soc, eventHours) + c.deferrableKw
  const downBase = batteryDischargeKw(c, soc, eventHours)
  return { upKw: pv => upBase + pv, downKw: load => downBase + c.curtailableShare * load }
}

/** Discharge power the battery can hold for `hours` from `soc`, keeping its reserve. */
export function batteryDischargeKw (c: SyntheticCustomer, soc: number, hours: number): number {
  if (c.battery === null) return 0
  return Math.min(c.battery.maxKw, Math.max(0, soc - socMargin) * c.battery.capacityKwh / hours)
}

/** Charge power the battery can take for `hours` from `soc`, stopping short of full. */
export function batteryChargeKw (c: SyntheticCustomer, soc: number, hours: number): number {
  if (c.battery === null) return 0
  return Math.min(c.battery.maxKw, Math.max(0, 1 - socMargin - soc) * c.battery.capacityKwh / hours)
}
