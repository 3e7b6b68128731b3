/**
 * What a run prints on a terminal: a progress bar (redrawn in place on a TTY, a line per tenth otherwise)
 * and the summary table at the end, per agent and total.
 */
import type { AgentFigures, Summary } from './figures.js'

export function progressBar (done: number, total: number, width = 30): string {
  const f = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
  const full = Math.round(f * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)} % (${done}/${total})`
}

export interface ProgressSink {
  write: (text: string) => unknown
  isTTY?: boolean
}

/** A progress reporter: `update(done)` redraws, `end()` finishes the line. */
export function progress (total: number, label: string, out: ProgressSink): { update: (done: number) => void, end: () => void } {
  let lastTenth = -1
  return {
    update (done) {
      if (out.isTTY === true) { out.write(`\r${label} ${progressBar(done, total)}`); return }
      const tenth = Math.floor(10 * done / Math.max(1, total))
      if (tenth !== lastTenth) { lastTenth = tenth; out.write(`${label} ${progressBar(done, total)}\n`) }
    },
    end () { if (out.isTTY === true) out.write('\n') }
  }
}

type Row = Pick<AgentFigures, 'withinTolerance' | 'energyDelivered' | 'energyDeliveredKwh' | 'energyRequestedKwh' | 'cost' | 'matchmaking'>

export function summaryTable (label: string, agents: AgentFigures[], summary: Summary): string {
  const head = ['agent', 'within tol.', 'energy', 'kWh deliv./req.', 'cost', 'intra', 'inter']
  const row = (name: string, r: Row): string[] => [
    name,
    `${(100 * r.withinTolerance).toFixed(1)} %`,
    `${(100 * r.energyDelivered).toFixed(1)} %`,
    `${r.energyDeliveredKwh.toFixed(1)}/${r.energyRequestedKwh.toFixed(1)}`,
    r.cost.toFixed(2),
    String(r.matchmaking.intra),
    String(r.matchmaking.inter)
  ]
  const rows = [head, ...agents.map(a => row(a.agentId, a)), row('total', summary)]
  const widths = head.map((_, c) => Math.max(...rows.map(r => (r[c] ?? '').length)))
  const fmt = (r: string[]): string => r.map((cell, c) => c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)).join('  ')
  const rule = widths.map(w => '-'.repeat(w)).join('  ')
  return [`${label}`, fmt(head), rule, ...rows.slice(1, -1).map(fmt), rule, fmt(rows.at(-1) as string[])].join('\n')
}
