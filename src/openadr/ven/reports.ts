/**
 * The reports a VEN offers and the ones it serves: metadata for oadrRegisterReport, and for each report
 * request a timer that samples its data points every `granularity` and sends them every
 * `reportBackDuration` (within the request's reportInterval, when it has one), on the injected clock.
 * Data points with values ahead (forecasts, `readProjection`) are sent as the intervals that follow the
 * reporting period, one per step of the granularity: a time series is a report's intervals, not one data
 * point per step.
 */
import { timerAt, type TimerHandle } from '../../util/clock.js'
import type { Clock } from '../../util/clock.js'
import type { OadrReport, OadrReportRequest, ReportInterval, ReportName } from '../model/report.js'
import { ReportNotSupportedError } from '../errors.js'
import type { ReadProjection, ReadReport } from './types.js'

export interface ReportScheduleInit {
  clock: Clock
  offered: OadrReport[]
  readReport?: ReadReport
  readProjection?: ReadProjection
  send: (report: OadrReport) => Promise<void>
  onError: (err: Error) => void
}

/** Reporting period when a request gives neither reportBackDuration nor granularity. */
const defaultPeriodMs = 60_000
/** Floor on the reporting period, whatever a VTN asks. */
const minPeriodMs = 1000

interface Active {
  request: OadrReportRequest
  reportName?: ReportName
  timer?: TimerHandle
  nextMs: number
  sent: number
}

export class ReportSchedule {
  private readonly active = new Map<string, Active>()

  constructor (private readonly init: ReportScheduleInit) {}

  /** The offered reports as sent in oadrRegisterReport (reportRequestID 0, created now). */
  metadata (nowMs: number): OadrReport[] {
    return this.init.offered.map(r => ({ ...r, reportRequestID: '0', createdDateTimeMs: nowMs }))
  }

  activeIds (): string[] { return [...this.active.keys()] }

  /** Starts serving a request; a request for a report this VEN did not offer is refused (461). */
  start (request: OadrReportRequest): void {
    const offered = this.init.offered.find(r => r.reportSpecifierID === request.reportSpecifier.reportSpecifierID)
    if (offered === undefined) throw new ReportNotSupportedError(`no report ${request.reportSpecifier.reportSpecifierID} is offered`)
    const known = new Set((offered.oadrReportDescriptions ?? []).map(d => d.rID))
    for (const p of request.reportSpecifier.specifierPayloads) {
      if (!known.has(p.rID)) throw new ReportNotSupportedError(`report ${offered.reportSpecifierID} has no data point ${p.rID}`)
    }
    this.cancel(request.reportRequestID)
    const spec = request.reportSpecifier
    const periodMs = this.periodOf(request)
    const firstMs = Math.max(this.init.clock.now(), spec.reportInterval?.dtstartMs ?? -Infinity) + periodMs
    const reportName = offered.reportName?.replace(/^METADATA_/, '') as ReportName | undefined
    const entry: Active = { request, nextMs: firstMs, sent: 0, ...(reportName === undefined ? {} : { reportName }) }
    this.active.set(request.reportRequestID, entry)
    this.arm(entry)
  }

  cancel (reportRequestID: string): boolean {
    const entry = this.active.get(reportRequestID)
    if (entry === undefined) return false
    entry.timer?.cancel()
    this.active.delete(reportRequestID)
    return true
  }

  stopAll (): void {
    for (const id of [...this.active.keys()]) this.cancel(id)
  }

  /** Builds the report covering the reporting period that ends at `endMs`. */
  build (entry: Active, endMs: number): OadrReport {
    const spec = entry.request.reportSpecifier
    const periodMs = this.periodOf(entry.request)
    const granularityMs = spec.granularityMs > 0 ? spec.granularityMs : periodMs
    const count = Math.max(1, Math.round(periodMs / granularityMs))
    const startMs = endMs - count * granularityMs
    const projected: Array<{ rID: string, values: readonly number[] }> = []
    const sampled = []
    for (const p of spec.specifierPayloads) {
      const values = this.init.readProjection?.(p.rID, endMs, granularityMs, entry.request)
      if (values === undefined) sampled.push(p)
      else projected.push({ rID: p.rID, values })
    }
    const intervals: ReportInterval[] = []
    for (let k = 0; sampled.length > 0 && k < count; k++) {
      const s = startMs + k * granularityMs
      const payloads = []
      for (const p of sampled) {
        const value = this.init.readReport?.(p.rID, s, s + granularityMs, entry.request)
        if (value !== undefined) payloads.push({ rID: p.rID, value })
      }
      if (payloads.length > 0) intervals.push({ dtstartMs: s, durationMs: granularityMs, payloads })
    }
    const steps = projected.reduce((n, p) => Math.max(n, p.values.length), 0)
    for (let k = 0; k < steps; k++) {
      const payloads = []
      for (const p of projected) {
        const value = p.values[k]
        if (value !== undefined) payloads.push({ rID: p.rID, value })
      }
      if (payloads.length > 0) intervals.push({ dtstartMs: endMs + k * granularityMs, durationMs: granularityMs, payloads })
    }
    // The report spans its intervals: the reporting period, the steps ahead, or both.
    const fromMs = sampled.length > 0 || projected.length === 0 ? startMs : endMs
    return {
      dtstartMs: fromMs,
      durationMs: endMs + steps * granularityMs - fromMs,
      ...(intervals.length === 0 ? {} : { intervals }),
      eiReportID: `${entry.request.reportRequestID}-${entry.sent}`,
      reportRequestID: entry.request.reportRequestID,
      reportSpecifierID: spec.reportSpecifierID,
      ...(entry.reportName === undefined ? {} : { reportName: entry.reportName }),
      createdDateTimeMs: this.init.clock.now()
    }
  }

  /** How often the report is sent: its reportBackDuration, else its granularity, else once a minute. */
  private periodOf (request: OadrReportRequest): number {
    const spec = request.reportSpecifier
    const period = spec.reportBackDurationMs > 0 ? spec.reportBackDurationMs : spec.granularityMs > 0 ? spec.granularityMs : defaultPeriodMs
    return Math.max(minPeriodMs, period)
  }

  private arm (entry: Active): void {
    const end = entry.request.reportSpecifier.reportInterval
    if (end !== undefined && end.durationMs > 0 && entry.nextMs > end.dtstartMs + end.durationMs) {
      this.active.delete(entry.request.reportRequestID)
      return
    }
    entry.timer = timerAt(this.init.clock, entry.nextMs, async () => {
      if (this.active.get(entry.request.reportRequestID) !== entry) return
      const report = this.build(entry, entry.nextMs)
      entry.sent++
      entry.nextMs += this.periodOf(entry.request)
      const sent = this.init.send(report).catch(this.init.onError)
      this.arm(entry)
      await sent
    })
  }
}
