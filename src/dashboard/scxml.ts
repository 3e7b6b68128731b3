/**
 * SCXML export of a statechart (W3C SCXML 1.0 vocabulary) for auditors: `<state>`, `<parallel>` and
 * `<final>` per state node, `<transition event target cond>` per transition (eventless ones without `event`,
 * targetless ones without `target`), `<invoke>` per invoked actor. The XState event names are kept verbatim
 * so a transition in the export can be matched to the audit trail, which records the same names.
 */
import type { ChartState, ChartTransition, MachineGraph } from './machineGraph.js'

const scxmlNs = 'http://www.w3.org/2005/07/scxml'

export function toScxml (graph: MachineGraph): string {
  const bySource = new Map<string, ChartTransition[]>()
  for (const t of graph.transitions) bySource.set(t.source, [...(bySource.get(t.source) ?? []), t])
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>']
  const root = graph.root
  // <scxml> is itself a compound state; a parallel root needs its own <parallel> inside it.
  const parallelRoot = root.kind === 'parallel'
  const rootAttrs = attrs({ xmlns: scxmlNs, version: '1.0', name: graph.machineId, initial: parallelRoot ? root.id : root.initial, datamodel: 'null' })
  lines.push(`<scxml${rootAttrs}>`)
  if (parallelRoot) {
    lines.push(...stateLines(root, bySource, '  '))
  } else {
    lines.push(...transitionLines(bySource.get(root.id) ?? [], '  '))
    for (const child of root.children) lines.push(...stateLines(child, bySource, '  '))
  }
  lines.push('</scxml>')
  return lines.join('\n') + '\n'
}

function stateLines (state: ChartState, bySource: Map<string, ChartTransition[]>, indent: string): string[] {
  const element = state.kind === 'parallel' ? 'parallel' : state.kind === 'final' ? 'final' : state.kind === 'history' ? 'history' : 'state'
  const open = `${indent}<${element}${attrs({ id: state.id, initial: state.initial })}`
  const inner = indent + '  '
  const body = [
    ...state.invokes.map(i => `${inner}<invoke${attrs({ id: i.id, type: 'xstate', src: i.src })}/>`),
    ...transitionLines(bySource.get(state.id) ?? [], inner),
    ...state.children.flatMap(c => stateLines(c, bySource, inner))
  ]
  if (body.length === 0) return [`${open}/>`]
  return [`${open}>`, ...body, `${indent}</${element}>`]
}

function transitionLines (transitions: ChartTransition[], indent: string): string[] {
  return transitions.map(t => `${indent}<transition${attrs({
    event: t.event === '' ? undefined : t.event,
    target: t.targets.length === 0 ? undefined : t.targets.join(' '),
    cond: t.guard
  })}/>`)
}

function attrs (values: Record<string, string | undefined>): string {
  return Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeXml(v as string)}"`).join('')
}

export function escapeXml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}
