/**
 * The structure of a statechart read from the machine definition itself (`machine.root` and its state
 * nodes): every state with its kind and invoked actors, every transition with its event, guard and targets.
 * Eventless `always` transitions are read from each node's `always` list, because `machine.toJSON()` and
 * `xstate/graph` leave them out. This graph is what the dashboard draws, the JSON export serves and the
 * SCXML export writes.
 */
import type { AnyStateMachine, StateValue } from 'xstate'

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history'

export interface ChartState {
  /** State-node id, e.g. 'drEvent.active.intra'. */
  id: string
  key: string
  kind: StateKind
  /** Id of the initial child of a compound state. */
  initial?: string
  /** Source names of the actors the state invokes. */
  invokes: Array<{ id: string, src: string }>
  children: ChartState[]
}

export interface ChartTransition {
  /** Stable within one graph: 't<n>' in document order. */
  id: string
  source: string
  /** The XState event type; '' for an eventless (`always`) transition. */
  event: string
  /** Empty for a targetless transition (actions only). */
  targets: string[]
  guard?: string
  /** Short label for drawing: the event, or `done: src` / `error: src` for an invoked actor's result. */
  label: string
}

export interface MachineGraph {
  machineId: string
  root: ChartState
  states: ChartState[]
  transitions: ChartTransition[]
}

interface GuardLike { type?: unknown }
interface TransitionLike { eventType: string, target?: ReadonlyArray<{ id: string }>, guard?: unknown }
interface StateNodeLike {
  id: string
  key: string
  type: StateKind
  states: Record<string, StateNodeLike>
  initial?: { target: ReadonlyArray<{ id: string }> }
  invoke: ReadonlyArray<{ id: string, src: unknown }>
  transitions: Map<string, TransitionLike[]>
  always?: TransitionLike[]
}

export function machineGraph (machine: AnyStateMachine): MachineGraph {
  const states: ChartState[] = []
  const transitions: ChartTransition[] = []
  const invokeSrc = new Map<string, string>()

  const visit = (node: StateNodeLike): ChartState => {
    const invokes = node.invoke.map(i => ({ id: i.id, src: typeof i.src === 'string' ? i.src : i.id }))
    for (const i of invokes) invokeSrc.set(i.id, i.src)
    const state: ChartState = { id: node.id, key: node.key, kind: node.type, invokes, children: [] }
    const initial = node.initial?.target[0]?.id
    if (node.type === 'compound' && initial !== undefined) state.initial = initial
    states.push(state)
    for (const [event, list] of node.transitions) {
      for (const t of list) transitions.push(transition(node.id, event, t))
    }
    for (const t of node.always ?? []) transitions.push(transition(node.id, '', t))
    state.children = Object.values(node.states).map(visit)
    return state
  }

  const transition = (source: string, event: string, t: TransitionLike): ChartTransition => {
    const guard = guardName(t.guard)
    return {
      id: `t${transitions.length}`,
      source,
      event,
      targets: (t.target ?? []).map(n => n.id),
      ...(guard !== undefined ? { guard } : {}),
      label: ''
    }
  }

  const root = visit(machine.root as unknown as StateNodeLike)
  for (const t of transitions) t.label = labelOf(t.event, invokeSrc)
  return { machineId: machine.id, root, states, transitions }
}

function guardName (guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined
  if (typeof guard === 'string') return guard
  if (typeof guard === 'function') return 'inline'
  const type = (guard as GuardLike).type
  return typeof type === 'string' ? type : 'inline'
}

const doneActor = 'xstate.done.actor.'
const errorActor = 'xstate.error.actor.'

function labelOf (event: string, invokeSrc: Map<string, string>): string {
  if (event === '') return 'always'
  if (event.startsWith(doneActor)) return `done: ${invokeSrc.get(event.slice(doneActor.length)) ?? event}`
  if (event.startsWith(errorActor)) return `error: ${invokeSrc.get(event.slice(errorActor.length)) ?? event}`
  return event
}

export class StateKeyError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'StateKeyError'
  }
}

/**
 * The ids of the states a state key names (see `stateKey` in src/machines/transitions.ts): the leaves and
 * every ancestor, e.g. 'active.monitoring.waiting' → drEvent, drEvent.active, drEvent.active.monitoring,
 * drEvent.active.monitoring.waiting. Parallel regions are written `{a.x,b.y}`.
 */
export function activeStateIds (graph: MachineGraph, key: string | StateValue): string[] {
  const ids: string[] = [graph.root.id]
  const walk = (node: ChartState, value: StateValue): void => {
    if (typeof value === 'string') {
      const child = node.children.find(c => c.key === value)
      if (child === undefined) throw new StateKeyError(`${node.id} has no state '${value}'`)
      ids.push(child.id)
      return
    }
    for (const [k, v] of Object.entries(value)) {
      const child = node.children.find(c => c.key === k)
      if (child === undefined) throw new StateKeyError(`${node.id} has no state '${k}'`)
      ids.push(child.id)
      if (v !== undefined) walk(child, v)
    }
  }
  walk(graph.root, typeof key === 'string' ? parseStateKey(key) : key)
  return ids
}

/** Inverse of `stateKey`: 'a.b' → { a: 'b' }, 'r.{x.y,z.w}' → { r: { x: 'y', z: 'w' } }. */
export function parseStateKey (key: string): StateValue {
  let pos = 0
  const parseValue = (): StateValue => {
    if (key[pos] === '{') {
      pos++
      const out: Record<string, StateValue> = {}
      for (;;) {
        const part = parseValue()
        if (typeof part === 'string') out[part] = {}
        else Object.assign(out, part)
        if (key[pos] === ',') { pos++; continue }
        if (key[pos] === '}') { pos++; return out }
        throw new StateKeyError(`malformed state key '${key}' at ${pos}`)
      }
    }
    const start = pos
    while (pos < key.length && !'.,{}'.includes(key[pos] as string)) pos++
    const name = key.slice(start, pos)
    if (name === '') throw new StateKeyError(`malformed state key '${key}' at ${pos}`)
    if (key[pos] === '.') {
      pos++
      return { [name]: parseValue() }
    }
    return name
  }
  const value = parseValue()
  if (pos !== key.length) throw new StateKeyError(`malformed state key '${key}' at ${pos}`)
  return value
}
