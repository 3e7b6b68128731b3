/**
 * Layout of a statechart with ELK (elkjs, layered algorithm): states as boxes sized for their label, nested
 * states as nested boxes (`hierarchyHandling: INCLUDE_CHILDREN`), transitions as routed edges. Coordinates
 * are made absolute here so the renderer needs no knowledge of ELK's relative frames. A layout depends only
 * on the machine, so callers compute it once per machine and keep it.
 */
import elkModule from 'elkjs/lib/elk.bundled.js'
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js'
import type { ChartState, MachineGraph } from './machineGraph.js'

export interface Box { x: number, y: number, width: number, height: number }
export interface Point { x: number, y: number }

export interface LaidOutState extends Box {
  id: string
  label: string
  kind: ChartState['kind']
  depth: number
  compound: boolean
}

export interface LaidOutTransition {
  /** The transition's id in the graph; a transition with several targets has one edge per target. */
  transitionId: string
  source: string
  target: string
  label: string
  points: Point[]
  labelAt?: Point
}

export interface ChartLayout extends Box {
  /** Parents before children, so drawing in order nests boxes correctly. */
  states: LaidOutState[]
  transitions: LaidOutTransition[]
}

/** Rough width of a character of the 12px sans-serif labels; ELK needs label sizes up front. */
// elkjs ships CommonJS typings that NodeNext reads as a namespace: normalise the default export once.
const ELK = ((elkModule as unknown as { default?: typeof elkModule }).default ?? elkModule) as unknown as new () => { layout: (graph: ElkNode) => Promise<ElkNode> }

const charWidthPx = 7
const labelHeightPx = 14

export async function layoutChart (graph: MachineGraph): Promise<ChartLayout> {
  const elk = new ELK()
  const toElk = (s: ChartState): ElkNode => {
    const label = labelOf(s)
    const width = Math.max(70, label.length * charWidthPx + 20)
    if (s.children.length === 0) return { id: s.id, width, height: 36, labels: [{ text: label }] }
    return {
      id: s.id,
      labels: [{ text: label, width: label.length * charWidthPx, height: labelHeightPx }],
      layoutOptions: {
        'elk.padding': '[top=30,left=14,bottom=14,right=14]',
        'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT'
      },
      children: s.children.map(toElk)
    }
  }
  const edges: ElkExtendedEdge[] = []
  for (const t of graph.transitions) {
    for (const target of t.targets) {
      if (target === t.source) continue
      edges.push({
        id: `${t.id}:${target}`,
        sources: [t.source],
        targets: [target],
        labels: [{ text: t.label, width: t.label.length * 6, height: 12 }]
      })
    }
  }
  const laid = await elk.layout({
    id: '__chart',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '30',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeLabels.inline': 'false'
    },
    children: [toElk(graph.root)],
    edges
  })

  const states: LaidOutState[] = []
  const byId = new Map(graph.states.map(s => [s.id, s]))
  const offsets = new Map<string, Point>([['__chart', { x: 0, y: 0 }]])
  const collect = (node: ElkNode, origin: Point, depth: number): void => {
    const x = origin.x + (node.x ?? 0)
    const y = origin.y + (node.y ?? 0)
    offsets.set(node.id, { x, y })
    const s = byId.get(node.id)
    if (s !== undefined) {
      states.push({ id: s.id, label: labelOf(s), kind: s.kind, depth, compound: s.children.length > 0, x, y, width: node.width ?? 0, height: node.height ?? 0 })
    }
    for (const child of node.children ?? []) collect(child, { x, y }, depth + 1)
  }
  for (const child of laid.children ?? []) collect(child, { x: 0, y: 0 }, 0)

  const transitions: LaidOutTransition[] = []
  const edgeOwners = [laid, ...allNodes(laid)]
  for (const owner of edgeOwners) {
    for (const e of owner.edges ?? []) {
      const [transitionId = '', target = ''] = e.id.split(/:(.*)/s)
      const t = graph.transitions.find(x => x.id === transitionId)
      if (t === undefined) continue
      // ELK gives edge coordinates relative to the edge's container node.
      const base = offsets.get(e.container ?? owner.id) ?? { x: 0, y: 0 }
      const points: Point[] = []
      for (const section of e.sections ?? []) {
        points.push(section.startPoint, ...(section.bendPoints ?? []), section.endPoint)
      }
      const label = e.labels?.[0]
      transitions.push({
        transitionId,
        source: t.source,
        target,
        label: t.label,
        points: points.map(p => ({ x: p.x + base.x, y: p.y + base.y })),
        ...(label?.x !== undefined && label.y !== undefined ? { labelAt: { x: label.x + base.x, y: label.y + base.y } } : {})
      })
    }
  }
  return { x: 0, y: 0, width: laid.width ?? 0, height: laid.height ?? 0, states, transitions }
}

function allNodes (node: ElkNode): ElkNode[] {
  return (node.children ?? []).flatMap(c => [c, ...allNodes(c)])
}

function labelOf (s: ChartState): string {
  return s.kind === 'final' ? `${s.key} (final)` : s.key
}
