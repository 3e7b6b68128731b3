/**
 * The self-contained HTML report of a run: the parameters, the summary, and per agent an inline SVG of
 * requested vs delivered flow per interval with the tolerance band, and markers where intra (▲) and inter (●)
 * matchmaking acted. No scripts, no external assets: the file opens anywhere and can be mailed.
 */
import type { AgentFigures, Summary } from './figures.js'

export interface ReportData {
  title: string
  parameters: Record<string, unknown>
  summary: Summary
  /** Runs to compare (e.g. the chosen strategy and the `none` baseline), each with its agents. */
  runs: Array<{ label: string, summary: Summary, agents: AgentFigures[] }>
  tolerance: number
}

const width = 720
const height = 220
const pad = { left: 56, right: 12, top: 14, bottom: 28 }

export function escapeHtml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`
const num = (x: number, d = 1): string => x.toFixed(d)

/** One agent's chart: requested (dashed) and delivered (solid) flow, tolerance band, matchmaking markers. */
export function agentSvg (agent: AgentFigures, tolerance: number): string {
  const n = agent.intervals.length
  const values = agent.intervals.flatMap(i => [i.setpointKw * (1 + tolerance), i.setpointKw * (1 - tolerance), i.deliveredKw, i.baselineKw])
  let lo = Math.min(0, ...values)
  let hi = Math.max(0, ...values)
  if (hi - lo < 1e-9) { hi += 1; lo -= 1 }
  const x = (t: number): number => pad.left + (n <= 1 ? 0 : t * (width - pad.left - pad.right) / (n - 1))
  const y = (kw: number): number => pad.top + (hi - kw) * (height - pad.top - pad.bottom) / (hi - lo)
  const line = (pick: (i: AgentFigures['intervals'][number]) => number): string =>
    agent.intervals.map((i, t) => `${t === 0 ? 'M' : 'L'}${num(x(t))},${num(y(pick(i)))}`).join(' ')
  const band = agent.intervals.map((i, t) => `${num(x(t))},${num(y(i.setpointKw + tolerance * Math.max(Math.abs(i.setpointKw), Math.abs(i.setpointKw - i.baselineKw))))}`)
    .concat(agent.intervals.map((i, t) => `${num(x(t))},${num(y(i.setpointKw - tolerance * Math.max(Math.abs(i.setpointKw), Math.abs(i.setpointKw - i.baselineKw))))}`).reverse())
  const intra = agent.intervals.flatMap((i, t) => i.intraActions > 0
    ? [`<path class="intra" d="M${num(x(t))},${num(height - pad.bottom - 10)} l-5,9 h10 z"><title>interval ${t}: ${i.intraActions} intra</title></path>`]
    : [])
  const inter = agent.intervals.flatMap((i, t) => i.interActions > 0
    ? [`<circle class="inter" cx="${num(x(t))}" cy="${num(height - pad.bottom - 18)}" r="4"><title>interval ${t}: ${i.interActions} inter</title></circle>`]
    : [])
  const misses = agent.intervals.flatMap((i, t) => i.withinTolerance ? [] : [`<line class="miss" x1="${num(x(t))}" x2="${num(x(t))}" y1="${pad.top}" y2="${height - pad.bottom}"/>`])
  const ticks = [lo, (lo + hi) / 2, hi].map(v => `<text x="${pad.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${num(v, 0)}</text>`)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(agent.agentId)}: requested vs delivered">`,
    `<rect x="${pad.left}" y="${pad.top}" width="${width - pad.left - pad.right}" height="${height - pad.top - pad.bottom}" class="frame"/>`,
    ...misses,
    n > 0 ? `<polygon class="band" points="${band.join(' ')}"/>` : '',
    n > 0 ? `<path class="baseline" d="${line(i => i.baselineKw)}"/>` : '',
    n > 0 ? `<path class="requested" d="${line(i => i.setpointKw)}"/>` : '',
    n > 0 ? `<path class="delivered" d="${line(i => i.deliveredKw)}"/>` : '',
    ...intra,
    ...inter,
    ...ticks,
    `<text x="${pad.left}" y="${height - 6}">interval 0</text><text x="${width - pad.right}" y="${height - 6}" text-anchor="end">interval ${Math.max(0, n - 1)} (kW)</text>`,
    '</svg>'
  ].join('\n')
}

function summaryRow (label: string, s: Pick<Summary, 'withinTolerance' | 'energyDelivered' | 'energyRequestedKwh' | 'energyDeliveredKwh' | 'ownShare' | 'matchmaking' | 'cost'>): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${pct(s.withinTolerance)}</td><td>${pct(s.energyDelivered)}</td>` +
    `<td>${num(s.energyDeliveredKwh)} / ${num(s.energyRequestedKwh)}</td><td>${pct(s.ownShare)}</td>` +
    `<td>${s.matchmaking.intra}</td><td>${s.matchmaking.inter}</td><td>${num(s.cost, 2)}</td></tr>`
}

const tableHead = '<tr><th></th><th>intervals within tolerance</th><th>energy delivered</th><th>kWh delivered / requested</th><th>own share</th><th>intra</th><th>inter</th><th>cost</th></tr>'

export function renderHtmlReport (data: ReportData): string {
  const params = Object.entries(data.parameters).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')
  const sections = data.runs.map(run => [
    `<section><h2>${escapeHtml(run.label)}</h2>`,
    `<table>${tableHead}${summaryRow('total', run.summary)}${run.agents.map(a => summaryRow(a.agentId, a)).join('')}</table>`,
    ...run.agents.map(a => `<figure><figcaption>${escapeHtml(a.agentId)} (${escapeHtml(run.label)}): ${pct(a.withinTolerance)} of intervals within ±${pct(data.tolerance)}, ${pct(a.energyDelivered)} of energy</figcaption>\n${agentSvg(a, data.tolerance)}</figure>`),
    '</section>'
  ].join('\n'))
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .6em;text-align:right}th:first-child{text-align:left}
svg text{font-size:11px;fill:#555}.frame{fill:none;stroke:#ddd}.band{fill:#2a7;opacity:.15}
.requested{fill:none;stroke:#333;stroke-dasharray:5 3;stroke-width:1.5}.delivered{fill:none;stroke:#17c;stroke-width:2}
.baseline{fill:none;stroke:#bbb}.intra{fill:#e80}.inter{fill:#a2c}.miss{stroke:#d33;opacity:.25;stroke-width:3}
.legend span{margin-right:1.5em}
</style></head><body>
<h1>${escapeHtml(data.title)}</h1>
<p class="legend"><span>– – requested</span><span style="color:#17c">── delivered (own + peers)</span><span style="color:#999">── baseline</span><span style="color:#2a7">▮ tolerance</span><span style="color:#e80">▲ intra</span><span style="color:#a2c">● inter</span><span style="color:#d33">▮ outside tolerance</span></p>
<h2>Parameters</h2><table>${params}</table>
<h2>Summary</h2><table>${tableHead}${data.runs.map(r => summaryRow(r.label, r.summary)).join('')}</table>
${sections.join('\n')}
</body></html>
`
}
