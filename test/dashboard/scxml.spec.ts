import assert from 'node:assert/strict'
import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import { createMachine, type AnyStateMachine } from 'xstate'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { machineGraph, activeStateIds, parseStateKey } from '../../src/dashboard/machineGraph.js'
import { toScxml } from '../../src/dashboard/scxml.js'

interface Expected { states: Map<string, string>, transitions: string[] }

/** Reads the machine's states and transitions straight off its state nodes, as the check of the export. */
function expectedOf (machine: AnyStateMachine): Expected {
  const states = new Map<string, string>()
  const transitions: string[] = []
  const visit = (node: any): void => {
    if (node !== machine.root || node.type === 'parallel') states.set(node.id, node.type === 'parallel' ? 'parallel' : node.type === 'final' ? 'final' : 'state')
    for (const [event, list] of node.transitions as Map<string, any[]>) {
      for (const t of list) transitions.push(`${node.id}|${event}|${(t.target ?? []).map((x: any) => x.id).join(' ')}`)
    }
    for (const t of node.always ?? []) transitions.push(`${node.id}||${(t.target ?? []).map((x: any) => x.id).join(' ')}`)
    for (const child of Object.values(node.states)) visit(child)
  }
  visit(machine.root)
  return { states, transitions }
}

function parseStrict (xml: string): Document {
  const problems: string[] = []
  const doc = new DOMParser({ onError: (level, message) => { problems.push(`${level}: ${message}`) } }).parseFromString(xml, 'application/xml')
  assert.deepEqual(problems, [], 'the SCXML is well-formed')
  return doc
}

function exportedOf (doc: Document): Expected {
  const states = new Map<string, string>()
  const transitions: string[] = []
  const all = Array.from(doc.getElementsByTagName('*'))
  for (const el of all) {
    if (['state', 'parallel', 'final'].includes(el.localName ?? '')) states.set(el.getAttribute('id') ?? '', el.localName ?? '')
    if (el.localName === 'transition') {
      const parent = el.parentNode as Element
      const source = parent.localName === 'scxml' ? parent.getAttribute('name') : parent.getAttribute('id')
      transitions.push(`${source ?? ''}|${el.getAttribute('event') ?? ''}|${el.getAttribute('target') ?? ''}`)
    }
  }
  return { states, transitions }
}

describe('dashboard: SCXML export of the DR-event machine', () => {
  it('is well-formed SCXML in which every state appears with its kind and every transition with its event and target', () => {
    const doc = parseStrict(toScxml(machineGraph(drEventMachine)))
    const root = doc.documentElement
    assert.ok(root !== null)
    assert.equal(root.localName, 'scxml')
    assert.equal(root.namespaceURI, 'http://www.w3.org/2005/07/scxml')
    assert.equal(root.getAttribute('initial'), 'drEvent.received')
    const expected = expectedOf(drEventMachine)
    const exported = exportedOf(doc)
    assert.deepEqual(exported.states, expected.states)
    assert.deepEqual([...exported.transitions].sort(), [...expected.transitions].sort())
    // The eventless transitions toJSON() leaves out are there: received decides well-formedness without an event.
    assert.ok(exported.transitions.includes('drEvent.received||drEvent.deciding'))
    assert.ok(exported.transitions.includes('drEvent.active.intraDone||drEvent.active.inter'))
    assert.equal(exported.states.get('drEvent.completed'), 'final')
    assert.equal(exported.states.get('drEvent.active'), 'state')
  })

  it('writes parallel states as <parallel>, with their regions and guards', () => {
    const machine = createMachine({
      id: 'plant',
      type: 'parallel',
      states: {
        pump: { initial: 'off', states: { off: { on: { START: { target: 'on', guard: 'hasWater' } } }, on: { on: { STOP: 'off' } } } },
        valve: { initial: 'shut', states: { shut: { on: { OPEN: 'open' } }, open: { type: 'parallel', states: { a: {}, b: {} }, always: { target: 'shut' } } } }
      }
    })
    const xml = toScxml(machineGraph(machine))
    const doc = parseStrict(xml)
    const exported = exportedOf(doc)
    assert.equal(exported.states.get('plant.valve.open'), 'parallel')
    assert.equal(exported.states.get('plant'), 'parallel')
    assert.equal(exported.states.get('plant.pump'), 'state')
    const expected = expectedOf(machine)
    assert.deepEqual(exported.states, expected.states)
    assert.match(xml, /<transition event="START" target="plant\.pump\.on" cond="hasWater"\/>/)
    assert.deepEqual(activeStateIds(machineGraph(machine), 'pump.off'), ['plant', 'plant.pump', 'plant.pump.off'])
  })

  it('reads state keys back into the ids of the active states, refusing what the chart does not have', () => {
    const graph = machineGraph(drEventMachine)
    assert.deepEqual(activeStateIds(graph, 'active.monitoring.waiting'), ['drEvent', 'drEvent.active', 'drEvent.active.monitoring', 'drEvent.active.monitoring.waiting'])
    assert.deepEqual(parseStateKey('registered.{reports.reporting,participation.idle}'), { registered: { reports: 'reporting', participation: 'idle' } })
    assert.throws(() => activeStateIds(graph, 'active.nowhere'), { name: 'StateKeyError' })
    assert.throws(() => parseStateKey('a.{b'), { name: 'StateKeyError' })
  })
})
