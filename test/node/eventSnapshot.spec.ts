import assert from 'node:assert/strict'
import { createActor } from 'xstate'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { persistedEvent, restoredEvent } from '../../src/node/eventSnapshot.js'
import { community, customers5, ManualTimers, request, T0, World } from '../machines/harness.js'

const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe('event snapshot: what the agent stores of an event actor', () => {
  it('restores, at every transition of an event, to what actor.getPersistedSnapshot() gives, and stores an input field that is the context\'s once', async () => {
    const input = { request: request() }
    const timers = new ManualTimers(T0)
    const world = new World(customers5)
    // A customer off its setpoint from the second interval makes the chart cover it (intra matchmaking on the plan).
    world.deviations.set('c4', { fromInterval: 1, kw: 6 })
    const c = community(world, timers)
    const actor = createActor(drEventMachine.provide(c.implementations), { input })
    let checked = 0
    let referred = 0
    actor.subscribe(snap => {
      const stored = viaJson(persistedEvent(snap))
      assert.deepEqual(restoredEvent(stored), viaJson(actor.getPersistedSnapshot()))
      if (JSON.stringify(stored).includes('"contextField":"plan"')) referred++
      checked++
    })
    actor.start()
    await timers.advanceTo(input.request.startMs + input.request.intervalMs * input.request.amountsKw.length)
    assert.equal(actor.getSnapshot().value, 'completed')
    assert.ok(checked > 10, `${checked} transitions checked`)
    assert.ok(referred > 0, 'the invoked actors\' plan is stored as the context\'s')
  })
})
