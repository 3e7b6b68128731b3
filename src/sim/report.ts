/**
 * A run's outputs: the JSON document (parameters, per-strategy per-agent per-interval figures, `summary`
 * of the chosen strategy and the baseline's), the HTML report, and the console summary, from one or two
 * simulation results (the chosen strategy and, for comparison, `none` on the same seed).
 */
import { renderHtmlReport } from './htmlReport.js'
import { summaryTable } from './console.js'
import type { SimulationResult } from './run.js'
import type { Summary } from './figures.js'

export interface LabelledRun { label: string, result: SimulationResult }

export interface RunDocument {
  parameters: Record<string, string | number>
  summary: Summary
  baseline: Summary | null
  runs: Array<{ strategy: string, summary: Summary, agents: SimulationResult['agents'], wallMs: number, peakRssBytes: number, heapLimitBytes: number }>
}

export function runDocument (main: LabelledRun, baseline?: LabelledRun): RunDocument {
  const runs = [main, ...(baseline !== undefined ? [baseline] : [])]
  return {
    parameters: main.result.parameters,
    summary: main.result.summary,
    baseline: baseline?.result.summary ?? null,
    runs: runs.map(r => ({ strategy: r.label, summary: r.result.summary, agents: r.result.agents, wallMs: r.result.wallMs, peakRssBytes: r.result.peakRssBytes, heapLimitBytes: r.result.heapLimitBytes }))
  }
}

export function htmlOf (doc: RunDocument, tolerance: number): string {
  return renderHtmlReport({
    title: `adrmesh simulation: ${String(doc.parameters.agents)} agents × ${String(doc.parameters.customers)} customers, strategy ${String(doc.parameters.strategy)}`,
    parameters: doc.parameters,
    summary: doc.summary,
    tolerance,
    runs: doc.runs.map(r => ({ label: r.strategy, summary: r.summary, agents: r.agents }))
  })
}

export function consoleSummary (doc: RunDocument): string {
  const tables = doc.runs.map(r => `${summaryTable(`strategy ${r.strategy}`, r.agents, r.summary)}\nwall ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB (heap limit ${(r.heapLimitBytes / 2 ** 20).toFixed(0)} MiB)`).join('\n\n')
  const injected = injectedFailures(doc.parameters)
  return injected === '' ? tables : `${injected}\n\n${tables}`
}

/** The node killed and the partition of a run, as a line of the console summary ('' when neither). */
export function injectedFailures (parameters: RunDocument['parameters']): string {
  const parts: string[] = []
  const kill = parameters.killNode
  if (typeof kill === 'string') {
    const [index, fraction] = kill.split('@')
    parts.push(`agent-${index ?? '?'} killed at ${fraction ?? '?'} of the event`)
  }
  if (typeof parameters.partition === 'string') parts.push(`mesh cut between even and odd agents over ${parameters.partition} of each event`)
  return parts.length === 0 ? '' : `injected: ${parts.join('; ')}`
}
