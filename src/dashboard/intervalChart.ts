/**
 * The requested vs delivered chart of one event as SVG: one point per interval for the requested aggregate
 * flow, one per closed interval for the delivered flow, joined by lines, with the shortfall drawn as a bar
 * from the requested flow towards where the uncovered deviation leaves it (shortfall is signed like a
 * deviation). The kW axis spans the data with a margin, so small deviations on a large flow stay visible.
 */
import type { IntervalView } from './view.js'

const width = 640
const height = 260
const margin = { left: 56, right: 16, top: 16, bottom: 36 }

export function renderIntervalChart (intervals: IntervalView[]): string {
  const values = intervals.flatMap(r => [r.requestedKw, r.requestedKw + r.shortfallKw, ...(r.deliveredKw === null ? [] : [r.deliveredKw])])
  const min = values.length === 0 ? 0 : Math.min(...values)
  const max = values.length === 0 ? 1 : Math.max(...values)
  const pad = Math.max(0.5, (max - min) * 0.1)
  const lo = min - pad
  const span = max + pad - lo
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const step = intervals.length > 1 ? plotW / (intervals.length - 1) : 0
  const x = (i: number): number => margin.left + (intervals.length > 1 ? i * step : plotW / 2)
  const y = (kw: number): number => margin.top + plotH - ((kw - lo) / span) * plotH
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="interval-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" data-intervals="${intervals.length}">`]
  const ticks = 4
  for (let k = 0; k <= ticks; k++) {
    const kw = lo + span * k / ticks
    out.push(`<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${f(y(kw))}" y2="${f(y(kw))}"/>` +
      `<text class="axis" x="${margin.left - 6}" y="${f(y(kw) + 4)}" text-anchor="end">${f(kw)}</text>`)
  }
  out.push(`<text class="axis" x="12" y="${margin.top + plotH / 2}" transform="rotate(-90 12 ${margin.top + plotH / 2})" text-anchor="middle">kW</text>`)
  for (const r of intervals) {
    out.push(`<text class="axis" x="${f(x(r.index))}" y="${height - margin.bottom + 16}" text-anchor="middle">${r.index}</text>`)
    if (r.shortfallKw !== 0) {
      const a = y(r.requestedKw)
      const b = y(r.requestedKw + r.shortfallKw)
      out.push(`<rect class="shortfall" data-interval="${r.index}" data-kw="${r.shortfallKw}" x="${f(x(r.index) - 6)}" y="${f(Math.min(a, b))}" width="12" height="${f(Math.abs(a - b))}"/>`)
    }
  }
  const requested = intervals.map(r => ({ i: r.index, kw: r.requestedKw }))
  const delivered = intervals.filter(r => r.deliveredKw !== null).map(r => ({ i: r.index, kw: r.deliveredKw as number }))
  for (const [series, points] of [['requested', requested], ['delivered', delivered]] as const) {
    if (points.length > 1) out.push(`<polyline class="line ${series}" points="${points.map(p => `${f(x(p.i))},${f(y(p.kw))}`).join(' ')}"/>`)
    for (const p of points) {
      out.push(`<circle class="point ${series}" data-interval="${p.i}" data-kw="${p.kw}" cx="${f(x(p.i))}" cy="${f(y(p.kw))}" r="4"><title>${series} ${f(p.kw)} kW, interval ${p.i}</title></circle>`)
    }
  }
  out.push(`<text class="legend requested" x="${margin.left}" y="${height - 4}">● requested</text><text class="legend delivered" x="${margin.left + 100}" y="${height - 4}">● delivered</text><text class="legend shortfall" x="${margin.left + 200}" y="${height - 4}">▮ shortfall</text>`)
  out.push('</svg>')
  return out.join('\n')
}

function f (v: number): string {
  return String(Math.round(v * 100) / 100)
}
