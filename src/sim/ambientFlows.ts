/**
 * A fleet's customers' flows away from the event window, report after report: the forecast each sends at
 * every report and the flow it meters between events, to the last digit what `profileOf` gives for a window
 * starting then, without recomputing for every report what did not change since the last one.
 *
 * Two things repeat. A profile's random draws depend on the hour its window starts in, not on the start
 * itself: the reports sent within one hour share them. Its demand and clear-sky PV depend on the customer
 * and the instant only: a forecast sent one step later covers the same instants but one.
 */
import { cloudyPvKw, clearSkyPvKw, demandKw, flexOf, forecastLoadAt, loadAt, ProfileDraws, type Flex, type SyntheticCustomer } from './customers.js'

export interface AmbientFlowsInit {
  seed: number
  /** The forecast step (ms). */
  intervalMs: number
  /** Steps per forecast. */
  forecastSteps: number
}

/** A forecast as its report carries it: the forecast baseline and flexibility per step (kW). */
export interface AmbientForecast {
  baselineKw: number[]
  flexUpKw: number[]
  flexDownKw: number[]
}

/** What one customer keeps between its reports. */
interface CustomerState {
  /** The draws of the hour of its last forecast. */
  draws: ProfileDraws | undefined
  /** Its forecasts' flexibility: the battery at its initial charge over a forecast's span. */
  flex: Flex
  /**
   * Demand and clear-sky PV per instant (the middle of a step), in slots by the step the instant falls in:
   * a slot holds the instant it was computed for, and the values depend on nothing else.
   */
  atMs: Float64Array
  demandKw: Float64Array
  clearPvKw: Float64Array | undefined
}

export class AmbientFlows {
  private readonly states = new Map<string, CustomerState>()
  /** Slots per customer: a power of two holding a forecast's instants and the next one. */
  private readonly slots: number
  /** The forecast last asked for: its three series are read one after the other. */
  private last: { venId: string, startMs: number, forecast: AmbientForecast } | undefined

  constructor (private readonly init: AmbientFlowsInit) {
    this.slots = 2 ** Math.ceil(Math.log2(init.forecastSteps + 1))
  }

  /** What the customer forecasts in a report sent at `startMs`: profileOf over the forecast's steps from then. */
  forecast (c: SyntheticCustomer, startMs: number): AmbientForecast {
    const last = this.last
    if (last?.venId === c.venId && last.startMs === startMs) return last.forecast
    const { intervalMs, forecastSteps } = this.init
    const s = this.stateOf(c)
    const draws = this.drawsOf(s, c, startMs, forecastSteps)
    const forecast: AmbientForecast = { baselineKw: new Array<number>(forecastSteps), flexUpKw: new Array<number>(forecastSteps), flexDownKw: new Array<number>(forecastSteps) }
    for (let t = 0; t < forecastSteps; t++) {
      const slot = this.slotOf(s, c, startMs + (t + 0.5) * intervalMs)
      const load = loadAt(s.demandKw[slot] as number, draws, t)
      const pv = cloudyPvKw(s.clearPvKw?.[slot] ?? 0, draws.cloud[t] as number)
      const forecastLoad = forecastLoadAt(load, draws, t)
      forecast.baselineKw[t] = forecastLoad - pv
      forecast.flexUpKw[t] = s.flex.upKw(pv)
      forecast.flexDownKw[t] = s.flex.downKw(forecastLoad)
    }
    this.last = { venId: c.venId, startMs, forecast }
    return forecast
  }

  /** The customer's true flow without DR over the step from `startMs` (kW): profileOf's first step. */
  flowKw (c: SyntheticCustomer, startMs: number): number {
    const s = this.stateOf(c)
    const draws = this.drawsOf(s, c, startMs, 1)
    const slot = this.slotOf(s, c, startMs + 0.5 * this.init.intervalMs)
    const load = loadAt(s.demandKw[slot] as number, draws, 0)
    return load - cloudyPvKw(s.clearPvKw?.[slot] ?? 0, draws.cloud[0] as number)
  }

  private stateOf (c: SyntheticCustomer): CustomerState {
    let s = this.states.get(c.venId)
    if (s === undefined) {
      const { intervalMs, forecastSteps } = this.init
      s = {
        draws: undefined,
        flex: flexOf(c, { startMs: 0, intervalMs, intervals: forecastSteps }, c.battery?.initialSoc ?? 0),
        atMs: new Float64Array(this.slots).fill(NaN),
        demandKw: new Float64Array(this.slots),
        clearPvKw: c.pvKwp > 0 ? new Float64Array(this.slots) : undefined
      }
      this.states.set(c.venId, s)
    }
    return s
  }

  /** The draws of a window from `startMs`, `steps` long; the customer keeps those of its forecasts' hour. */
  private drawsOf (s: CustomerState, c: SyntheticCustomer, startMs: number, steps: number): ProfileDraws {
    const hourKey = ProfileDraws.hourKey(startMs)
    if (s.draws?.hourKey === hourKey) return s.draws.upTo(steps)
    const draws = new ProfileDraws(this.init.seed, c.index, hourKey).upTo(steps)
    if (steps === this.init.forecastSteps) s.draws = draws
    return draws
  }

  /** The slot holding the demand and clear-sky PV at `atMs`, computed if it holds another instant. */
  private slotOf (s: CustomerState, c: SyntheticCustomer, atMs: number): number {
    const slot = Math.floor(atMs / this.init.intervalMs) & (this.slots - 1)
    if (s.atMs[slot] !== atMs) {
      s.atMs[slot] = atMs
      s.demandKw[slot] = demandKw(c, atMs)
      if (s.clearPvKw !== undefined) s.clearPvKw[slot] = clearSkyPvKw(c.pvKwp, c.location, atMs)
    }
    return slot
  }
}
