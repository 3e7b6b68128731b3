/**
 * One node's simulated customers while an event runs: they receive the node's dispatches (the fleet is the
 * agent's `CustomerChannel`), behave as their hidden behaviour and the injected failures say, and report
 * their real flow as telemetry to the node at every tick. The fleet also meters what really happened per
 * interval (true flow, true baseline, cost), which is what the figures count: the utility's meter, not the
 * node's belief.
 */
import type { CustomerChannel, CustomerDispatch } from '../node/agentChannels.js'
import type { Reading } from '../node/agentCustomers.js'
import type { CustomerCapabilities } from '../machines/customerSession.js'
import { drawEventMode, respond, type EventMode, type InjectedFailure } from './behaviour.js'
import { profileOf, streamFor, type CustomerProfile, type SyntheticCustomer, type Window } from './customers.js'

export interface FleetMeter {
  /** Per interval: Σ true flow averaged over the ticks in the interval (kW). */
  flowKw: number[]
  /** Per interval: Σ true baseline (kW). */
  baselineKw: number[]
  /** Per interval: virtual cost of the customers' deviation from their baselines. */
  cost: number[]
}

interface Active {
  window: Window
  eventId: string
  profiles: Map<string, CustomerProfile>
  modes: Map<string, EventMode>
  failures: Map<string, InjectedFailure>
  /** Per customer, the latest dispatch of each event it takes part in (the upstream one, fellows' covers). */
  dispatches: Map<string, Map<string, CustomerDispatch>>
  sums: number[]
  ticks: number[]
  cost: number[]
  lastCostTickMs: number
}

export class Fleet implements CustomerChannel {
  readonly customers: SyntheticCustomer[]
  private readonly byId: Map<string, SyntheticCustomer>
  private active: Active | undefined

  constructor (customers: SyntheticCustomer[], private readonly seed: number) {
    this.customers = customers
    this.byId = new Map(customers.map(c => [c.venId, c]))
  }

  /** What the customer tells its node for a window: its forecast and what it says it can do. */
  capabilities (c: SyntheticCustomer, window: Window): CustomerCapabilities {
    const p = profileOf(c, window, this.seed)
    return {
      baselineKw: p.forecastBaselineKw,
      flexUpKw: p.flexUpKw,
      flexDownKw: p.flexDownKw,
      forecastStartMs: window.startMs,
      forecastIntervalMs: window.intervalMs,
      costUpPerKwh: c.costUpPerKwh,
      costDownPerKwh: c.costDownPerKwh,
      minActivationKw: c.minActivationKw,
      pvKw: c.pvKwp,
      batteryKwh: c.battery?.capacityKwh ?? 0,
      location: c.location
    }
  }

  /** Arms the fleet for an event: each customer's true profile and its hidden mode for this event. */
  beginEvent (eventId: string, window: Window, eventIndex: number): void {
    const profiles = new Map<string, CustomerProfile>()
    const modes = new Map<string, EventMode>()
    for (const c of this.customers) {
      profiles.set(c.venId, profileOf(c, window, this.seed))
      modes.set(c.venId, drawEventMode(streamFor(this.seed, c.index, 1_000 + eventIndex), c.behaviour))
    }
    const zeros = (): number[] => new Array<number>(window.intervals).fill(0)
    this.active = {
      window, eventId, profiles, modes, failures: new Map(), dispatches: new Map(), sums: zeros(), ticks: zeros(), cost: zeros(), lastCostTickMs: window.startMs
    }
  }

  injectFailures (failures: Map<string, InjectedFailure>): void {
    if (this.active !== undefined) for (const [venId, f] of failures) if (this.byId.has(venId)) this.active.failures.set(venId, f)
  }

  /** Customers dispatched by the event `eventId`. */
  dispatchedIds (eventId: string): string[] {
    return [...(this.active?.dispatches.entries() ?? [])].filter(([, m]) => m.has(eventId)).map(([venId]) => venId)
  }

  async distribute (venId: string, dispatch: CustomerDispatch): Promise<'optIn' | 'optOut'> {
    const a = this.active
    if (a === undefined || !this.byId.has(venId)) return 'optIn'
    const mine = a.dispatches.get(venId) ?? new Map<string, CustomerDispatch>()
    const had = mine.get(dispatch.eventId)
    if (had === undefined || had.modificationNumber < dispatch.modificationNumber ||
      (had.modificationNumber === dispatch.modificationNumber && had.revision <= dispatch.revision)) {
      mine.set(dispatch.eventId, dispatch)
    }
    a.dispatches.set(venId, mine)
    return 'optIn'
  }

  async cancel (venId: string, eventId: string): Promise<void> {
    this.active?.dispatches.get(venId)?.delete(eventId)
  }

  /**
   * The flow the customer is asked for at `atMs`: its forecast moved by every event's requested change
   * (the node's ledger keeps the events' kW disjoint), or undefined when no event dispatches it then.
   */
  private targetKw (venId: string, p: CustomerProfile, t: number, atMs: number): number | undefined {
    const mine = this.active?.dispatches.get(venId)
    if (mine === undefined) return undefined
    const forecast = p.forecastBaselineKw[t] ?? 0
    let change = 0
    let any = false
    for (const d of mine.values()) {
      const k = Math.floor((atMs - d.startMs) / d.intervalMs)
      const s = d.setpointsKw[k]
      if (k < 0 || s === undefined) continue
      change += s - forecast
      any = true
    }
    return any ? forecast + change : undefined
  }

  /**
   * One telemetry tick at `nowMs`: every customer acts, the reporting ones' readings are returned for the
   * node, and the meter accumulates. Outside the event window nothing is metered and nothing reported.
   */
  tick (nowMs: number): Reading[] {
    const a = this.active
    if (a === undefined) return []
    const t = Math.floor((nowMs - a.window.startMs) / a.window.intervalMs)
    if (t < 0 || t >= a.window.intervals) return []
    const readings: Reading[] = []
    const dtHours = Math.max(0, nowMs - a.lastCostTickMs) / 3_600_000
    a.lastCostTickMs = nowMs
    let sum = 0
    let cost = 0
    for (const c of this.customers) {
      const p = a.profiles.get(c.venId) as CustomerProfile
      const baselineKw = p.trueBaselineKw[t] ?? 0
      const failure = a.failures.get(c.venId)
      const r = respond({
        mode: a.modes.get(c.venId) ?? 'comply',
        behaviour: c.behaviour,
        baselineKw,
        setpointKw: this.targetKw(c.venId, p, t, nowMs),
        flexUpKw: p.trueFlexUpKw[t] ?? 0,
        flexDownKw: p.trueFlexDownKw[t] ?? 0,
        atMs: nowMs,
        ...(failure !== undefined ? { failure } : {})
      })
      sum += r.flowKw
      const change = r.flowKw - baselineKw
      cost += Math.abs(change) * dtHours * (change > 0 ? c.costUpPerKwh : c.costDownPerKwh)
      if (r.reports) readings.push({ venId: c.venId, atMs: nowMs, kw: r.flowKw })
    }
    a.sums[t] = (a.sums[t] ?? 0) + sum
    a.ticks[t] = (a.ticks[t] ?? 0) + 1
    a.cost[t] = (a.cost[t] ?? 0) + cost
    return readings
  }

  meter (): FleetMeter {
    const a = this.active
    if (a === undefined) return { flowKw: [], baselineKw: [], cost: [] }
    const baselineKw = Array.from({ length: a.window.intervals }, (_, t) =>
      this.customers.reduce((s, c) => s + ((a.profiles.get(c.venId) as CustomerProfile).trueBaselineKw[t] ?? 0), 0))
    return {
      // An interval no tick reached (the process starved) counts at baseline: nothing is known to have been done.
      flowKw: a.sums.map((s, t) => (a.ticks[t] ?? 0) > 0 ? s / (a.ticks[t] as number) : baselineKw[t] ?? 0),
      baselineKw,
      cost: [...a.cost]
    }
  }
}
