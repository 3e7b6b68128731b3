/**
 * The statechart as SVG, drawn from a layout (layout.ts): one `<g data-state-id>` per state (nested states
 * drawn inside their parent's box), one `<g data-transition-id>` per transition edge. Highlighting is by
 * class, so the page can re-highlight on a live update without redrawing: `current` on the active leaf
 * states, `active` on their ancestors, `visited` on every state the event has been in, `taken` on the
 * transitions it took.
 */
import type { AuditEntryView } from './view.js'
import { activeStateIds, type MachineGraph } from './machineGraph.js'
import type { ChartLayout } from './layout.js'
import { escapeXml } from './scxml.js'

export interface ChartHighlight {
  /** Ids of the current configuration: leaves and their ancestors. */
  active: string[]
  /** Ids of the current leaves. */
  current: string[]
  visited: string[]
  /** Transition ids taken so far. */
  taken: string[]
}

export function renderStatechart (layout: ChartLayout, highlight: ChartHighlight): string {
  const current = new Set(highlight.current)
  const active = new Set(highlight.active)
  const visited = new Set(highlight.visited)
  const taken = new Set(highlight.taken)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="statechart" viewBox="0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}" width="100%" style="max-width:${Math.ceil(layout.width)}px">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
  ]
  for (const s of layout.states) {
    const classes = ['state', s.kind, s.compound ? 'compound' : 'leaf']
    if (current.has(s.id)) classes.push('current')
    else if (active.has(s.id)) classes.push('active')
    if (visited.has(s.id)) classes.push('visited')
    const radius = s.compound ? 10 : 8
    const labelX = s.compound ? s.x + 10 : s.x + s.width / 2
    const labelY = s.compound ? s.y + 18 : s.y + s.height / 2 + 4
    out.push(`<g class="${classes.join(' ')}" data-state-id="${escapeXml(s.id)}" data-kind="${s.kind}">` +
      `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.width)}" height="${n(s.height)}" rx="${radius}"/>` +
      (s.kind === 'final' ? `<rect class="inner" x="${n(s.x + 3)}" y="${n(s.y + 3)}" width="${n(s.width - 6)}" height="${n(s.height - 6)}" rx="${radius - 2}"/>` : '') +
      `<text x="${n(labelX)}" y="${n(labelY)}"${s.compound ? '' : ' text-anchor="middle"'}>${escapeXml(s.label)}</text></g>`)
  }
  for (const t of layout.transitions) {
    if (t.points.length < 2) continue
    const d = t.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)},${n(p.y)}`).join(' ')
    const classes = ['transition', taken.has(t.transitionId) ? 'taken' : ''].filter(c => c !== '').join(' ')
    const label = t.labelAt !== undefined ? `<text x="${n(t.labelAt.x)}" y="${n(t.labelAt.y + 10)}">${escapeXml(t.label)}</text>` : ''
    out.push(`<g class="${classes}" data-transition-id="${t.transitionId}" data-source="${escapeXml(t.source)}" data-target="${escapeXml(t.target)}">` +
      `<path d="${d}" marker-end="url(#arrow)"/>${label}</g>`)
  }
  out.push('</svg>')
  return out.join('\n')
}

/** Highlight of an event: its current state, and the states and transitions its audit trail went through. */
export function highlightOf (graph: MachineGraph, state: string, audit: AuditEntryView[]): ChartHighlight {
  // A trail of thousands of entries names a few dozen distinct states: resolve each key once.
  const resolved = new Map<string, string[]>()
  const idsOf = (key: string): string[] => {
    let ids = resolved.get(key)
    if (ids === undefined) {
      ids = safeIds(graph, key)
      resolved.set(key, ids)
    }
    return ids
  }
  const active = idsOf(state)
  const leaves = active.filter(id => !active.some(other => other !== id && other.startsWith(id + '.')))
  const visited = new Set<string>(active)
  const taken = new Set<string>()
  for (const entry of audit) {
    // The first record (from '(none)') passed through the initial states by eventless transitions.
    const before = entry.stateBefore === '(none)' ? initialPath(graph) : idsOf(entry.stateBefore)
    const after = idsOf(entry.stateAfter)
    for (const id of [...before, ...after]) visited.add(id)
    if (before.length === 0) continue
    const candidates = graph.transitions.filter(t => before.includes(t.source) && t.targets.some(x => after.includes(x) && !before.includes(x)))
    const exact = candidates.filter(t => t.event === entry.event)
    for (const t of exact.length > 0 ? exact : candidates.filter(t => t.event === '')) taken.add(t.id)
  }
  return { active, current: leaves, visited: [...visited], taken: [...taken] }
}

/** The root and its chain of initial states, as entered before any transition. */
function initialPath (graph: MachineGraph): string[] {
  const ids = [graph.root.id]
  let node = graph.root
  while (node.initial !== undefined) {
    const next = node.children.find(c => c.id === node.initial)
    if (next === undefined) break
    ids.push(next.id)
    node = next
  }
  return ids
}

/** A state key the chart does not know (a trail from an older machine version) highlights nothing. */
function safeIds (graph: MachineGraph, key: string): string[] {
  try {
    return activeStateIds(graph, key)
  } catch {
    return []
  }
}

function n (v: number): string {
  return String(Math.round(v * 10) / 10)
}
