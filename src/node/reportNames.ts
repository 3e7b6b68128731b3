/**
 * The reports a node's customers offer it and how the node reads them (documented in
 * docs/openadr-reports.md): telemetry (TELEMETRY_USAGE, the customer's net flow), the `x-ADRMESH_FORECAST`
 * report (baseline and flexibility up/down for the next forecast steps) and the `x-ADRMESH_CAPABILITIES`
 * report (virtual cost, minimum activation, PV and battery capacity, location). Market contexts are the
 * `marketContext` of the offered data points (METADATA report registration). Owns the names, the rIDs and
 * units, the metadata a VEN offers, the VTN's request policy for them, and the parsing of received reports.
 */
import type { ItemBase } from '../openadr/model/common.js'
import { currencyPerKWh, energyRealKwh, powerRealKw } from '../openadr/model/common.js'
import type { OadrReport, OadrReportRequest, ReportDescription, ReportInterval, ReportName, ReportType } from '../openadr/model/report.js'
import type { CustomerCapabilities } from '../machines/customerSession.js'

export const telemetryReportName = 'TELEMETRY_USAGE' as const
export const forecastReportName = 'x-ADRMESH_FORECAST' as const
export const capabilitiesReportName = 'x-ADRMESH_CAPABILITIES' as const

export const telemetrySpecifierID = 'adrmesh-telemetry'
export const forecastSpecifierID = 'adrmesh-forecast'
export const capabilitiesSpecifierID = 'adrmesh-capabilities'

/** rID of the telemetry data point: net flow, kW, load convention. */
export const usageRid = 'usage'

/**
 * Forecast series, one data point (rID) each; a forecast report carries the steps ahead as its intervals,
 * each with one value per series (docs/openadr-reports.md).
 */
export const forecastSeries = ['baselineKw', 'flexUpKw', 'flexDownKw'] as const
export type ForecastSeries = typeof forecastSeries[number]

const forecastTypes: Record<ForecastSeries, ReportType> = {
  baselineKw: 'baseline',
  flexUpKw: 'upRegulationCapacityAvailable',
  flexDownKw: 'downRegulationCapacityAvailable'
}

/** Scalar capabilities: rID, report type and unit. */
export const capabilityPoints = {
  costUpPerKwh: { type: 'x-virtualCostUp', unit: (currency: string) => currencyPerKWh(currency) },
  costDownPerKwh: { type: 'x-virtualCostDown', unit: (currency: string) => currencyPerKWh(currency) },
  minActivationKw: { type: 'x-minimumActivation', unit: () => powerRealKw() },
  pvKw: { type: 'x-pvCapacity', unit: () => powerRealKw() },
  batteryKwh: { type: 'x-batteryCapacity', unit: () => energyRealKwh() },
  latitude: { type: 'x-latitude', unit: () => degrees() },
  longitude: { type: 'x-longitude', unit: () => degrees() }
} as const
export type CapabilityPoint = keyof typeof capabilityPoints

function degrees (): ItemBase {
  return { element: 'customUnit', itemDescription: 'x-degrees', itemUnits: 'deg', siScaleCode: 'none' }
}

export interface CustomerOfferInit {
  /** Market contexts the customer enrols in (the marketContext of every data point). */
  marketContexts: string[]
  /** Telemetry sampling period (ms). */
  telemetryPeriodMs: number
  /** Forecast step (ms): the forecast's sampling period, the duration of each interval of a forecast report. */
  forecastStepMs: number
  /** Period of the capabilities report (ms). */
  capabilitiesPeriodMs: number
  /** @default 'EUR' */
  currency?: string
}

function description (rID: string, reportType: ReportType, itemBase: ItemBase, readingType: ReportDescription['readingType'],
  periodMs: number, marketContext: string | undefined): ReportDescription {
  return {
    rID, reportType, itemBase, readingType,
    ...(marketContext === undefined ? {} : { marketContext }),
    samplingRate: { minPeriodMs: periodMs, maxPeriodMs: periodMs, onChange: false }
  }
}

/** The METADATA reports a customer VEN offers (oadrRegisterReport). */
export function customerReportOffer (o: CustomerOfferInit): OadrReport[] {
  // One data point per market context would multiply the rIDs; the first carries the list instead: every
  // data point of the telemetry report names one of the contexts, in order, repeating the last.
  const mc = (i: number): string | undefined => o.marketContexts[Math.min(i, o.marketContexts.length - 1)]
  const contexts = o.marketContexts.length === 0 ? [undefined] : o.marketContexts
  const telemetry = contexts.map((m, i) => description(i === 0 ? usageRid : `${usageRid}.${i}`, 'usage', powerRealKw(), 'Direct Read', o.telemetryPeriodMs, m))
  const forecast = forecastSeries.map(series => description(series, forecastTypes[series], powerRealKw(), 'Projected', o.forecastStepMs, mc(0)))
  const currency = o.currency ?? 'EUR'
  const capabilities = (Object.keys(capabilityPoints) as CapabilityPoint[]).map(rID =>
    description(rID, capabilityPoints[rID].type, capabilityPoints[rID].unit(currency), 'x-notApplicable', o.capabilitiesPeriodMs, mc(0)))
  const report = (reportName: ReportName, reportSpecifierID: string, oadrReportDescriptions: ReportDescription[]): OadrReport => ({
    reportName, reportSpecifierID, reportRequestID: '0', createdDateTimeMs: 0, durationMs: 0, oadrReportDescriptions
  })
  // `x-` reports have no METADATA_ twin in the schema's enumeration: their metadata carries the same name.
  return [
    report(`METADATA_${telemetryReportName}`, telemetrySpecifierID, telemetry),
    report(forecastReportName, forecastSpecifierID, forecast),
    report(capabilitiesReportName, capabilitiesSpecifierID, capabilities)
  ]
}

/** The market contexts named by the offered reports' data points. */
export function offeredMarketContexts (offered: OadrReport[]): string[] {
  const out = new Set<string>()
  for (const r of offered) for (const d of r.oadrReportDescriptions ?? []) if (d.marketContext !== undefined) out.add(d.marketContext)
  return [...out]
}

/** Where a customer's reports fall within their period, so that a node's customers do not all report at once. */
export interface ReportPhase {
  /** The instant the requests are made (ms). */
  nowMs: number
  /** What spreads the phase (the customer's venID): the same key always gets the same phase. */
  key: string
}

/**
 * How often the forecast and capabilities reports come back (their reportBackDuration, ms), never more often
 * than they are sampled; each defaults to its sampling period. A forecast carries every step to its horizon, so
 * one sent every step repeats all but one of the last one's: the node may ask for it less often, the
 * capabilities (costs, capacities, location) still less.
 */
export interface ReportPeriods {
  forecastMs?: number
  capabilitiesMs?: number
}

/**
 * The node's report requests: the telemetry at its minimum period, and the adrmesh forecast and
 * capabilities reports when offered, every data point, each sampled at its sampling period and sent back as
 * `periods` say. With a `phase`, each request's reportInterval starts at an offset within its sampling period
 * drawn from the key: a VTN whose customers registered together would otherwise get every report in the same
 * instant, and a node checking the aggregate at that instant would see none of them.
 */
export function requestCustomerReports (offered: OadrReport[], newId: () => string, phase?: ReportPhase, periods: ReportPeriods = {}): OadrReportRequest[] {
  const backMs: Record<string, number | undefined> = { [forecastSpecifierID]: periods.forecastMs, [capabilitiesSpecifierID]: periods.capabilitiesMs }
  const wanted = new Set([telemetrySpecifierID, forecastSpecifierID, capabilitiesSpecifierID])
  return offered
    .filter(r => wanted.has(r.reportSpecifierID) && (r.oadrReportDescriptions ?? []).length > 0)
    .map(r => {
      const descriptions = r.oadrReportDescriptions ?? []
      const granularityMs = Math.max(...descriptions.map(d => d.samplingRate?.minPeriodMs ?? 60_000))
      return {
        reportRequestID: newId(),
        reportSpecifier: {
          reportSpecifierID: r.reportSpecifierID,
          granularityMs,
          reportBackDurationMs: Math.max(granularityMs, backMs[r.reportSpecifierID] ?? 0),
          ...(phase === undefined ? {} : { reportInterval: { dtstartMs: phase.nowMs + Math.floor(spread(phase.key) * reportSlots) / reportSlots * granularityMs, durationMs: 0 } }),
          specifierPayloads: descriptions.map(d => ({ rID: d.rID, readingType: d.readingType, ...(d.itemBase === undefined ? {} : { itemBase: d.itemBase }) }))
        }
      }
    })
}

/** What one received report says, in the node's terms. */
export type ParsedReport =
  | { kind: 'telemetry', readings: Array<{ atMs: number, kw: number }> }
  | { kind: 'forecast', startMs: number, stepMs: number, series: Partial<Record<ForecastSeries, number[]>> }
  | { kind: 'capabilities', values: Partial<Record<CapabilityPoint, number>> }
  | { kind: 'other' }

export class ReportFormatError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ReportFormatError'
  }
}

const forecastNames: ReadonlySet<string> = new Set(forecastSeries)

export function parseCustomerReport (report: OadrReport): ParsedReport {
  if (report.reportSpecifierID === telemetrySpecifierID || report.reportName === telemetryReportName) {
    // An interval's first usage payload is its reading; an interval without one (or with no number) has none.
    const readings = []
    for (const i of report.intervals ?? []) {
      const p = i.payloads.find(x => x.rID === usageRid)
      if (p !== undefined && typeof p.value === 'number') readings.push({ atMs: (i.dtstartMs ?? report.dtstartMs ?? 0) + (i.durationMs ?? 0), kw: p.value })
    }
    return { kind: 'telemetry', readings }
  }
  if (report.reportSpecifierID === forecastSpecifierID) return parseForecast(report)
  if (report.reportSpecifierID === capabilitiesSpecifierID) {
    // The latest values: those of the last interval holding a number.
    const intervals = report.intervals ?? []
    let last: ReportInterval | undefined
    for (let k = intervals.length - 1; k >= 0 && last === undefined; k--) if (holdsNumber(intervals[k] as ReportInterval)) last = intervals[k]
    const values: Partial<Record<CapabilityPoint, number>> = {}
    for (const p of last?.payloads ?? []) {
      if (p.rID in capabilityPoints && typeof p.value === 'number') values[p.rID as CapabilityPoint] = p.value
    }
    return { kind: 'capabilities', values }
  }
  return { kind: 'other' }
}

/** Whether an interval holds a number: one that holds none is no step of a forecast nor the latest capabilities. */
function holdsNumber (i: ReportInterval): boolean {
  for (const p of i.payloads) if (typeof p.value === 'number') return true
  return false
}

/**
 * A forecast report's intervals are its steps, one after the other at one duration (the step), each with a
 * value per series: the first starts the forecast. Read in one pass (a forecast has a step per interval to
 * its horizon, and comes from every customer).
 */
function parseForecast (report: OadrReport): Extract<ParsedReport, { kind: 'forecast' }> {
  const series: Partial<Record<ForecastSeries, number[]>> = {}
  let stepMs = 1
  let startMs = 0
  let k = 0
  for (const i of report.intervals ?? []) {
    if (!holdsNumber(i)) continue
    if (k === 0) {
      stepMs = i.durationMs ?? 0
      if (!(stepMs > 0)) throw new ReportFormatError('a forecast report needs intervals with a duration (the forecast step)')
      startMs = i.dtstartMs ?? report.dtstartMs ?? 0
    }
    if ((i.durationMs ?? stepMs) !== stepMs || (i.dtstartMs ?? startMs + k * stepMs) !== startMs + k * stepMs) {
      throw new ReportFormatError(`forecast step ${k} does not follow step ${k - 1} at ${stepMs} ms`)
    }
    for (const p of i.payloads) {
      if (!forecastNames.has(p.rID) || typeof p.value !== 'number') continue
      const name = p.rID as ForecastSeries
      const row = series[name] ?? (series[name] = [])
      if (row.length !== k) throw new ReportFormatError(`forecast ${name} has gaps in its steps`)
      if (name !== 'baselineKw' && p.value < 0) throw new ReportFormatError(`forecast ${name} must be ≥ 0`)
      row.push(p.value)
    }
    k++
  }
  for (const [name, row] of Object.entries(series)) {
    if (row.length !== k) throw new ReportFormatError(`forecast ${name} has gaps in its steps`)
  }
  return { kind: 'forecast', startMs, stepMs, series }
}

/** Scalar capabilities a customer reported, kept until (and after) its first forecast. */
export type CapabilityValues = Partial<Record<CapabilityPoint, number>>

/** What the node knows of a customer from its latest forecast and capabilities reports. */
export function capabilitiesOf (forecast: Extract<ParsedReport, { kind: 'forecast' }>, v: CapabilityValues): CustomerCapabilities | null {
  const { baselineKw, flexUpKw, flexDownKw } = forecast.series
  if (baselineKw === undefined || flexUpKw === undefined || flexDownKw === undefined) return null
  return {
    baselineKw, flexUpKw, flexDownKw, forecastStartMs: forecast.startMs, forecastIntervalMs: forecast.stepMs,
    costUpPerKwh: v.costUpPerKwh ?? 0,
    costDownPerKwh: v.costDownPerKwh ?? 0,
    minActivationKw: v.minActivationKw ?? 0,
    pvKw: v.pvKw ?? 0,
    batteryKwh: v.batteryKwh ?? 0,
    ...(v.latitude === undefined || v.longitude === undefined ? {} : { location: { lat: v.latitude, lon: v.longitude } })
  }
}

/**
 * Report phases fall in this many slots of the period: spread enough that the node sees fresh readings at
 * any checkpoint, few enough that a simulator (src/sim) stepping from instant to instant has few instants.
 */
const reportSlots = 8

/** A fraction in [0, 1) from a key (FNV-1a): stable across restarts, spread evenly over many keys. */
function spread (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return (h >>> 0) / 2 ** 32
}
