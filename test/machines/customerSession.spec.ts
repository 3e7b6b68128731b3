import assert from 'node:assert/strict'
import { createActor } from 'xstate'
import { customerSessionMachine, type CustomerCapabilities } from '../../src/machines/customerSession.js'
import { transitionRecorder, type TransitionRecord } from '../../src/machines/transitions.js'
import { ManualTimers, MINUTE, settle, T0 } from './harness.js'

const capabilities: CustomerCapabilities = {
  baselineKw: [5], flexUpKw: [1, 1], flexDownKw: [3, 2], forecastStartMs: T0, forecastIntervalMs: 15 * MINUTE,
  costUpPerKwh: 0.1, costDownPerKwh: 0.2, minActivationKw: 0.5, pvKw: 5, batteryKwh: 10
}

function start (timers: ManualTimers) {
  const records: TransitionRecord[] = []
  const actor = createActor(customerSessionMachine.provide({ actors: { waitUntil: timers.waitUntil } }), {
    input: { venId: 'ven-1', graceMs: 10 * MINUTE, registeredAtMs: T0 },
    inspect: transitionRecorder(r => records.push(r))
  })
  actor.start()
  return { actor, records }
}

describe('customer-session chart', () => {
  it('registers, takes capabilities, lapses without reports past the grace period and recovers on a report', async () => {
    const timers = new ManualTimers(T0)
    const { actor, records } = start(timers)
    assert.equal(actor.getSnapshot().value, 'registration')
    actor.send({ type: 'REGISTERED', venName: 'house 1', marketContexts: ['ctx-a'], atMs: T0 })
    actor.send({ type: 'CAPABILITIES', capabilities, marketContexts: ['ctx-a', 'ctx-b'] })
    await settle()
    assert.ok(actor.getSnapshot().matches({ registered: { reports: 'reporting', participation: 'idle' } }))
    assert.deepEqual(actor.getSnapshot().context.marketContexts, ['ctx-a', 'ctx-b'])
    assert.deepEqual(actor.getSnapshot().context.capabilities?.flexDownKw, [3, 2])

    await timers.advanceTo(T0 + 8 * MINUTE)
    actor.send({ type: 'REPORT', atMs: T0 + 8 * MINUTE })
    await timers.advanceTo(T0 + 17 * MINUTE)
    assert.ok(actor.getSnapshot().matches({ registered: { reports: 'reporting' } }), 'a report pushes the lapse deadline')
    await timers.advanceTo(T0 + 18 * MINUTE)
    assert.ok(actor.getSnapshot().matches({ registered: { reports: 'lapsed' } }))
    actor.send({ type: 'REPORT', atMs: T0 + 19 * MINUTE })
    await settle()
    assert.ok(actor.getSnapshot().matches({ registered: { reports: 'reporting' } }))
    assert.ok(records.some(r => r.to === 'registered.{reports.lapsed,participation.idle}'))
  })

  it('participates while dispatched in at least one event', async () => {
    const timers = new ManualTimers(T0)
    const { actor } = start(timers)
    actor.send({ type: 'REGISTERED', venName: 'house 1', marketContexts: ['ctx-a'], atMs: T0 })
    actor.send({ type: 'EVENT_ASSIGNED', eventId: 'e1' })
    actor.send({ type: 'EVENT_ASSIGNED', eventId: 'e2' })
    actor.send({ type: 'EVENT_ASSIGNED', eventId: 'e2' })
    assert.deepEqual(actor.getSnapshot().context.events, ['e1', 'e2'])
    actor.send({ type: 'EVENT_RELEASED', eventId: 'e1' })
    assert.ok(actor.getSnapshot().matches({ registered: { participation: 'participating' } }))
    actor.send({ type: 'EVENT_RELEASED', eventId: 'e2' })
    assert.ok(actor.getSnapshot().matches({ registered: { participation: 'idle' } }))
  })

  it('deregisters from any state', async () => {
    for (const prepare of [[], ['REGISTERED']]) {
      const timers = new ManualTimers(T0)
      const { actor } = start(timers)
      if (prepare.length > 0) actor.send({ type: 'REGISTERED', venName: 'v', marketContexts: [], atMs: T0 })
      actor.send({ type: 'DEREGISTER' })
      assert.equal(actor.getSnapshot().value, 'deregistered')
      assert.equal(actor.getSnapshot().status, 'done')
    }
  })

  it('a restored session re-arms its lapse deadline', async () => {
    const timers = new ManualTimers(T0)
    const { actor } = start(timers)
    actor.send({ type: 'REGISTERED', venName: 'v', marketContexts: [], atMs: T0 })
    await settle()
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()))
    actor.stop()
    const later = new ManualTimers(T0 + MINUTE)
    const restored = createActor(customerSessionMachine.provide({ actors: { waitUntil: later.waitUntil } }), {
      input: { venId: 'ven-1', registeredAtMs: T0 }, snapshot: persisted
    })
    restored.start()
    await settle()
    assert.equal(later.pendingCount, 1)
    await later.advanceTo(T0 + 10 * MINUTE)
    assert.ok(restored.getSnapshot().matches({ registered: { reports: 'lapsed' } }))
  })
})
