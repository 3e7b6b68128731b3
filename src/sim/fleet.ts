/**
 * One node's simulated customers, each a real OpenADR 2.0b VEN (src/openadr `Ven`) talking to the node's
 * VTN (its `CustomerVtn`) over the in-process transport: it registers, offers the customer reports of
 * docs/openadr-reports.md, polls for its eiEvents and answers them, follows the LOAD_DISPATCH setpoints of
 * the events it opted into as its hidden behaviour and the injected failures say, and reports its real
 * flow (TELEMETRY_USAGE), its forecast and its capabilities when the VTN's report requests fall due. The
 * fleet also meters what really happened per interval (true flow, true baseline, cost), which is what the
 * figures count: the utility's meter, not the node's belief.
 */
import { Ven } from '../openadr/ven/ven.js'
import type { AnySender } from '../openadr/transport.js'
import type { Clock } from '../util/clock.js'
import { customerReportOffer, forecastSeries, type CapabilityPoint, type ForecastSeries } from '../node/reportNames.js'
import { customerEventId } from '../node/customerVtn.js'
import { drawEventMode, respond, type EventMode, type InjectedFailure, type ResponseInput } from './behaviour.js'
import { AmbientFlows } from './ambientFlows.js'
import { profileOf, streamFor, type CustomerProfile, type SyntheticCustomer, type Window } from './customers.js'

export interface FleetMeter {
  /** Per interval: Σ true flow averaged over the ticks in the interval (kW). */
  flowKw: number[]
  /** Per interval: Σ true baseline (kW). */
  baselineKw: number[]
  /** Per interval: virtual cost of the customers' deviation from their baselines. */
  cost: number[]
  /**
   * Per interval: the lowest and the highest Σ flow the customers could have reached, averaged like `flowKw`,
   * had every one been asked for all of its true flexibility that way, each behaving as its hidden mode for the
   * event and the injected failures say (kW). An oracle no node has: it tells a shortfall the customers could
   * not have closed from one the nodes left open.
   */
  floorKw: number[]
  ceilingKw: number[]
  /**
   * Per node event (the node's id of the event whose share each customer followed) and interval: the change
   * from their true baselines the customers really made for it, averaged like `flowKw` (kW). A customer
   * following several events' shares splits its change in proportion to what each asked of it.
   */
  changeByEventKw: Map<string, number[]>
}

export interface FleetInit {
  customers: SyntheticCustomer[]
  seed: number
  /** The events' interval: the forecast step and the capabilities period. */
  intervalMs: number
  /** Forecast steps per report: enough to cover the next event from one report. */
  forecastSteps: number
  /** Telemetry sampling period offered (ms). */
  telemetryPeriodMs: number
  /** Poll period until the VTN asks for one (ms). */
  pollFreqMs: number
}

export interface FleetComponents {
  clock: Clock
  /** Carries the customers' requests to their node's VTN. */
  sender: AnySender
}

/** A customer during the armed event: what each tick reads of it. */
interface Member {
  customer: SyntheticCustomer
  ven: Ven
  profile: CustomerProfile
  /** Its hidden mode for this event. */
  mode: EventMode
  failure: InjectedFailure | undefined
  /** Its flow at the last tick and whether it reported it (offline customers do not); undefined before the first. */
  last: { kw: number, reports: boolean } | undefined
}

/** What a customer is asked for at a tick: its target flow, and the change per node event it follows. */
interface Asked {
  targetKw: number | undefined
  changes: Array<[string, number]>
  /** Σ of the changes. */
  totalKw: number
}

const notAsked: Asked = { targetKw: undefined, changes: [], totalKw: 0 }

interface Active {
  window: Window
  profiles: Map<string, CustomerProfile>
  /** Per customer, in the fleet's order (the order its sums are taken in). */
  members: Member[]
  byVenId: Map<string, Member>
  sums: number[]
  floors: number[]
  ceilings: number[]
  ticks: number[]
  cost: number[]
  changeByEvent: Map<string, number[]>
  lastCostTickMs: number
}

const forecastNames: ReadonlySet<string> = new Set(forecastSeries)
const forecastKey: Record<ForecastSeries, keyof CustomerProfile> = { baselineKw: 'forecastBaselineKw', flexUpKw: 'flexUpKw', flexDownKw: 'flexDownKw' }

export class Fleet {
  readonly customers: SyntheticCustomer[]
  readonly vens: Map<string, Ven>
  private active: Active | undefined
  /** What the customers forecast and meter away from the event window. */
  private readonly flows: AmbientFlows

  constructor (private readonly init: FleetInit, private readonly components: FleetComponents) {
    this.customers = init.customers
    this.flows = new AmbientFlows({ seed: init.seed, intervalMs: init.intervalMs, forecastSteps: init.forecastSteps })
    this.vens = new Map(init.customers.map(c => [c.venId, this.venOf(c)]))
  }

  private venOf (c: SyntheticCustomer): Ven {
    const i = this.init
    const ven = new Ven({
      venName: c.venId,
      venID: c.venId,
      reports: customerReportOffer({
        marketContexts: c.marketContexts, telemetryPeriodMs: i.telemetryPeriodMs, forecastStepMs: i.intervalMs, capabilitiesPeriodMs: i.intervalMs
      }),
      defaultPollFreqMs: i.pollFreqMs
    }, {
      sender: this.components.sender,
      clock: this.components.clock,
      readReport: (rID, _startMs, endMs) => this.read(c, rID, endMs),
      readProjection: (rID, endMs) => forecastNames.has(rID) ? this.forecast(c, rID as ForecastSeries, endMs) : undefined
    })
    // A customer whose node is gone keeps failing to reach it; that is the node's problem, not the run's.
    ven.on('error', () => {})
    return ven
  }

  /** Registers every customer with its node and has it offer its reports (in chunks: the VTN stores each). */
  async start (): Promise<void> {
    const all = [...this.vens.values()]
    for (let i = 0; i < all.length; i += 128) await Promise.all(all.slice(i, i + 128).map(async v => { await v.start() }))
  }

  async stop (): Promise<void> {
    await Promise.all([...this.vens.values()].map(async v => { await v.stop() }))
  }

  /** What a customer's VEN reports for the data point `rID` of the period ending at `endMs`. */
  private read (c: SyntheticCustomer, rID: string, endMs: number): number | undefined {
    if (rID === 'usage') {
      // In the event window, what the customer did at the last tick (nothing from an offline one);
      // outside it, its flow without DR: customers report all the time, and the node takes silence as a lapse.
      const a = this.active
      const l = a?.byVenId.get(c.venId)?.last
      const inWindow = a !== undefined && endMs > a.window.startMs && endMs <= a.window.startMs + (a.window.intervals + 1) * a.window.intervalMs
      if (inWindow && l !== undefined) return l.reports ? l.kw : undefined
      return this.flows.flowKw(c, endMs)
    }
    return this.capability(c, rID as CapabilityPoint)
  }

  /**
   * The customer's forecast of `series` sent at `endMs`: its `forecastSteps` steps from `endMs` on. Step k
   * covers [endMs + k·step, endMs + (k+1)·step); the node reads it for the interval that starts in that span,
   * so it is that interval's forecast (of the armed event's window when it falls in it: what the customer
   * forecasts is what the figures then compare with).
   */
  private forecast (c: SyntheticCustomer, series: ForecastSeries, endMs: number): number[] {
    const step = this.init.intervalMs
    const window = this.active?.window
    const armed = this.active?.profiles.get(c.venId)?.[forecastKey[series]]
    let ambient: number[] | undefined
    const out = new Array<number>(this.init.forecastSteps)
    for (let k = 0; k < out.length; k++) {
      const t = window === undefined ? -1 : Math.ceil((endMs + k * step - window.startMs) / step)
      out[k] = t >= 0 && t < (window?.intervals ?? 0) ? armed?.[t] ?? 0 : (ambient ??= this.flows.forecast(c, endMs)[series])[k] ?? 0
    }
    return out
  }

  private capability (c: SyntheticCustomer, point: CapabilityPoint): number | undefined {
    switch (point) {
      case 'costUpPerKwh': return c.costUpPerKwh
      case 'costDownPerKwh': return c.costDownPerKwh
      case 'minActivationKw': return c.minActivationKw
      case 'pvKw': return c.pvKwp
      case 'batteryKwh': return c.battery?.capacityKwh ?? 0
      case 'latitude': return c.location.lat
      case 'longitude': return c.location.lon
      default: return undefined
    }
  }

  /** Arms the fleet for an event window: each customer's true profile and its hidden mode for this event. */
  beginEvent (window: Window, eventIndex: number): void {
    const members = this.customers.map(c => ({
      customer: c,
      ven: this.vens.get(c.venId) as Ven,
      profile: profileOf(c, window, this.init.seed),
      mode: drawEventMode(streamFor(this.init.seed, c.index, 1_000 + eventIndex), c.behaviour),
      failure: undefined,
      last: undefined
    }))
    const zeros = (): number[] => new Array<number>(window.intervals).fill(0)
    this.active = {
      window,
      profiles: new Map(members.map(m => [m.customer.venId, m.profile])),
      members,
      byVenId: new Map(members.map(m => [m.customer.venId, m])),
      sums: zeros(), floors: zeros(), ceilings: zeros(), ticks: zeros(), cost: zeros(), changeByEvent: new Map(), lastCostTickMs: window.startMs
    }
  }

  injectFailures (failures: Map<string, InjectedFailure>): void {
    for (const [venId, f] of failures) {
      const m = this.active?.byVenId.get(venId)
      if (m !== undefined) m.failure = f
    }
  }

  /** Customers that hold (and opted into) their share of the node's event `eventId`. */
  dispatchedIds (eventId: string): string[] {
    return [...this.vens.entries()].filter(([venId, ven]) => ven.events().some(h =>
      h.optType === 'optIn' && h.event.eventDescriptor.eventID === customerEventId(eventId, venId))).map(([venId]) => venId)
  }

  /**
   * What the customer is asked for at `atMs`: per node event whose eiEvent it opted into, the requested change
   * from its forecast (the node's ledger keeps the events' kW disjoint); its target flow is the forecast moved
   * by their sum, undefined when none applies.
   */
  private asked (ven: Ven, p: CustomerProfile, t: number, atMs: number): Asked {
    const forecast = p.forecastBaselineKw[t] ?? 0
    let changes: Array<[string, number]> | undefined
    let totalKw = 0
    for (const { event, optType } of ven.events()) {
      if (optType !== 'optIn' || event.eventDescriptor.eventStatus === 'cancelled') continue
      const signal = event.eiEventSignals.find(s => s.signalName === 'LOAD_DISPATCH')
      const step = signal?.intervals[0]?.durationMs ?? 0
      if (signal === undefined || !(step > 0)) continue
      const k = Math.floor((atMs - event.eiActivePeriod.dtstartMs) / step)
      const s = k < 0 ? undefined : signal.intervals[k]?.values[0]
      if (s === undefined) continue
      const id = event.eventDescriptor.eventID
      const change = s - forecast
      totalKw += change
      changes ??= []
      changes.push([id.slice(0, id.lastIndexOf('#')), change])
    }
    return changes === undefined ? notAsked : { targetKw: forecast + totalKw, changes, totalKw }
  }

  /** One tick at `nowMs`: every customer acts and the meter accumulates; outside the window nothing is metered. */
  tick (nowMs: number): void {
    const a = this.active
    if (a === undefined) return
    const t = Math.floor((nowMs - a.window.startMs) / a.window.intervalMs)
    if (t < 0 || t >= a.window.intervals) return
    const dtHours = Math.max(0, nowMs - a.lastCostTickMs) / 3_600_000
    a.lastCostTickMs = nowMs
    let sum = 0
    let floor = 0
    let ceiling = 0
    let cost = 0
    for (const m of a.members) {
      const { customer: c, profile: p } = m
      const baselineKw = p.trueBaselineKw[t] ?? 0
      const asked = this.asked(m.ven, p, t, nowMs)
      const input: ResponseInput = {
        mode: m.mode,
        behaviour: c.behaviour,
        baselineKw,
        setpointKw: asked.targetKw,
        flexUpKw: p.trueFlexUpKw[t] ?? 0,
        flexDownKw: p.trueFlexDownKw[t] ?? 0,
        atMs: nowMs,
        failure: m.failure
      }
      const r = respond(input)
      sum += r.flowKw
      // The same customer at the same instant, asked for all of its flexibility down, then up (the oracle bounds).
      input.setpointKw = baselineKw - input.flexDownKw
      floor += respond(input).flowKw
      input.setpointKw = baselineKw + input.flexUpKw
      ceiling += respond(input).flowKw
      const change = r.flowKw - baselineKw
      cost += Math.abs(change) * dtHours * (change > 0 ? c.costUpPerKwh : c.costDownPerKwh)
      if (Math.abs(asked.totalKw) > 1e-9) {
        for (const [eventId, x] of asked.changes) {
          let row = a.changeByEvent.get(eventId)
          if (row === undefined) a.changeByEvent.set(eventId, row = new Array<number>(a.window.intervals).fill(0))
          row[t] = (row[t] ?? 0) + change * x / asked.totalKw
        }
      }
      if (m.last === undefined) m.last = { kw: r.flowKw, reports: r.reports }
      else {
        m.last.kw = r.flowKw
        m.last.reports = r.reports
      }
    }
    a.sums[t] = (a.sums[t] ?? 0) + sum
    a.floors[t] = (a.floors[t] ?? 0) + floor
    a.ceilings[t] = (a.ceilings[t] ?? 0) + ceiling
    a.ticks[t] = (a.ticks[t] ?? 0) + 1
    a.cost[t] = (a.cost[t] ?? 0) + cost
  }

  meter (): FleetMeter {
    const a = this.active
    if (a === undefined) return { flowKw: [], baselineKw: [], cost: [], floorKw: [], ceilingKw: [], changeByEventKw: new Map() }
    const baselineKw = Array.from({ length: a.window.intervals }, (_, t) => a.members.reduce((s, m) => s + (m.profile.trueBaselineKw[t] ?? 0), 0))
    // Per-tick sums to interval means; an interval no tick reached (the process starved) counts at `unticked`.
    const perTick = (sums: number[], unticked: (t: number) => number): number[] =>
      sums.map((s, t) => (a.ticks[t] ?? 0) > 0 ? s / (a.ticks[t] as number) : unticked(t))
    // At baseline: nothing is known to have been done.
    const atBaseline = (t: number): number => baselineKw[t] ?? 0
    return {
      flowKw: perTick(a.sums, atBaseline),
      baselineKw,
      cost: [...a.cost],
      floorKw: perTick(a.floors, atBaseline),
      ceilingKw: perTick(a.ceilings, atBaseline),
      changeByEventKw: new Map([...a.changeByEvent].map(([id, row]) => [id, perTick(row, () => 0)]))
    }
  }
}
