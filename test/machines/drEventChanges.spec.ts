import assert from 'node:assert/strict'
import { createActor } from 'xstate'
import { drEventMachine } from '../../src/machines/drEvent.js'
import type { DrEventInput } from '../../src/machines/drEventTypes.js'
import { community, customers5, ManualTimers, request, settle, T0, World } from './harness.js'

interface Setup {
  state: string
  /** Actor to hold so the chart stays in `state`. */
  hold?: string
  amountsKw?: number[]
  /** Where to move the clock (offset from the event start) to reach the state. */
  atOffsetMs?: number
  deviate?: boolean
}

const START = request().startMs
const INTERVAL = request().intervalMs

// Every live state a modification or cancellation can meet, and how to stop the chart in it.
const setups: Setup[] = [
  { state: '"deciding"', hold: 'decideOpt' },
  { state: '"declined"', amountsKw: [-100, -100, -100] },
  { state: '{"scheduled":"queryingPeers"}', hold: 'queryPeers' },
  { state: '{"scheduled":"planning"}', hold: 'planDispatch' },
  { state: '{"scheduled":"notifying"}', hold: 'notifyCustomers' },
  { state: '{"scheduled":"waitingStart"}' },
  { state: '{"active":{"monitoring":"waiting"}}', atOffsetMs: 1 },
  { state: '{"active":{"monitoring":"measuring"}}', hold: 'monitor', atOffsetMs: INTERVAL / 4 },
  { state: '{"active":"intra"}', hold: 'intraMatch', atOffsetMs: INTERVAL / 4, deviate: true },
  { state: '{"active":"inter"}', hold: 'interMatch', atOffsetMs: INTERVAL / 4, deviate: true }
]

async function reach (s: Setup) {
  const world = new World(customers5)
  const timers = new ManualTimers(T0)
  const holdAt = new Set(s.hold !== undefined ? [s.hold] : [])
  const c = community(world, timers, { holdAt, peerCapacityKw: 1 })
  const input: DrEventInput = { request: request(s.amountsKw !== undefined ? { amountsKw: s.amountsKw } : {}) }
  const actor = createActor(drEventMachine.provide(c.implementations), { input })
  actor.start()
  if (s.deviate === true) world.deviations.set('c4', { fromInterval: 0, kw: 20 })
  await settle()
  if (s.atOffsetMs !== undefined) await timers.advanceTo(START + s.atOffsetMs)
  assert.equal(JSON.stringify(actor.getSnapshot().value), s.state)
  return { actor, timers, world, ...c }
}

const endMs = START + 3 * INTERVAL

describe('DR-event chart: modification and cancellation from upstream', () => {
  for (const s of setups) {
    it(`CANCEL in ${s.state} ends cancelled and tells the dispatched customers`, async () => {
      const run = await reach(s)
      run.actor.send({ type: 'CANCEL' })
      await settle()
      const snap = run.actor.getSnapshot()
      assert.equal(snap.value, 'cancelled')
      assert.equal(snap.status, 'done')
      assert.equal(run.calls.cancelled.length, 1)
      assert.equal(run.calls.cancelled[0]?.plan !== null, snap.context.plan !== null)
    })

    it(`MODIFY in ${s.state} re-decides, re-plans and completes with the modified amounts`, async () => {
      const run = await reach(s)
      const modified = [-4, -4, -4]
      run.actor.send({ type: 'MODIFY', request: request({ modificationNumber: 1, amountsKw: modified }) })
      if (s.hold !== undefined) run.release(s.hold)
      run.world.deviations.clear()
      await settle()
      const answers = run.calls.answers.filter(a => a.modificationNumber === 1)
      assert.equal(answers.length, 1, 'the modification is answered upward once')
      assert.equal(answers[0]?.decision.accept, true)
      await run.timers.advanceTo(endMs)
      const snap = run.actor.getSnapshot()
      assert.equal(snap.value, 'completed')
      assert.equal(snap.context.request.modificationNumber, 1)
      const activeAt = s.atOffsetMs === undefined ? 0 : Math.floor(s.atOffsetMs / INTERVAL)
      for (const r of snap.context.intervals.filter(r => r.index >= activeAt)) assert.equal(r.requestedKw, modified[r.index])
      const last = run.calls.plans.at(-1)
      assert.equal(last?.request.modificationNumber, 1)
    })
  }

  it('a MODIFY whose modificationNumber is not newer is ignored', async () => {
    const run = await reach({ state: '{"scheduled":"waitingStart"}' })
    run.actor.send({ type: 'MODIFY', request: request({ modificationNumber: 0, amountsKw: [-1, -1, -1] }) })
    await settle()
    assert.equal(JSON.stringify(run.actor.getSnapshot().value), '{"scheduled":"waitingStart"}')
    assert.deepEqual(run.actor.getSnapshot().context.request.amountsKw, request().amountsKw)
    assert.equal(run.calls.plans.length, 1)
  })

  it('once the window is over (completing), a CANCEL changes nothing', async () => {
    const world = new World(customers5)
    const timers = new ManualTimers(T0)
    const c = community(world, timers, { holdAt: new Set(['updateReliabilities']) })
    const actor = createActor(drEventMachine.provide(c.implementations), { input: { request: request() } })
    actor.start()
    await timers.advanceTo(endMs)
    assert.equal(JSON.stringify(actor.getSnapshot().value), '{"completing":"updatingReliabilities"}')
    actor.send({ type: 'CANCEL' })
    c.release('updateReliabilities')
    await settle()
    assert.equal(actor.getSnapshot().value, 'completed')
    assert.equal(c.calls.cancelled.length, 0)
  })

  it('a malformed request fails in `received` and reports the failure', async () => {
    const timers = new ManualTimers(T0)
    const c = community(new World(customers5), timers)
    const actor = createActor(drEventMachine.provide(c.implementations), { input: { request: request({ amountsKw: [] }) } })
    actor.start()
    await settle()
    assert.equal(actor.getSnapshot().value, 'failed')
    assert.equal(c.calls.failures[0]?.stage, 'received')
  })

  it('without provided implementations the chart fails loudly instead of pretending', async () => {
    const actor = createActor(drEventMachine, { input: { request: request() } })
    actor.subscribe({ error: () => {} })
    actor.start()
    await settle()
    const snap = actor.getSnapshot()
    assert.ok(snap.status === 'error' || snap.value === 'failed')
  })
})
