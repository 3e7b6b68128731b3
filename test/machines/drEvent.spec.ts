import assert from 'node:assert/strict'
import { createActor, type SnapshotFrom } from 'xstate'
import { drEventMachine } from '../../src/machines/drEvent.js'
import { transitionRecorder, type TransitionRecord } from '../../src/machines/transitions.js'
import type { DrEventInput } from '../../src/machines/drEventTypes.js'
import { community, customers5, ManualTimers, MINUTE, request, settle, T0, World, type CommunityOptions } from './harness.js'

function start (input: DrEventInput, world = new World(customers5), options: CommunityOptions = {}) {
  const timers = new ManualTimers(T0)
  const c = community(world, timers, options)
  const records: TransitionRecord[] = []
  const machine = drEventMachine.provide(c.implementations)
  const actor = createActor(machine, { input, inspect: transitionRecorder(r => records.push(r)) })
  actor.start()
  return { actor, timers, world, records, machine, ...c }
}

const endOf = (input: DrEventInput): number => input.request.startMs + input.request.intervalMs * input.request.amountsKw.length
const visited = (records: TransitionRecord[]): string[] => records.map(r => r.to)

describe('DR-event chart', () => {
  it('happy path: opts in, plans, notifies, monitors each checkpoint and completes with what was delivered', async () => {
    const input = { request: request() }
    const run = start(input)
    await settle()
    assert.equal(run.actor.getSnapshot().value && JSON.stringify(run.actor.getSnapshot().value), JSON.stringify({ scheduled: 'waitingStart' }))
    assert.equal(run.calls.answers.length, 1)
    assert.equal(run.calls.answers[0]?.decision.accept, true)
    assert.equal(run.calls.peerQueries, 1)
    await run.timers.advanceTo(endOf(input))
    const snap = run.actor.getSnapshot()
    assert.equal(snap.status, 'done')
    assert.equal(snap.value, 'completed')
    const totalBaseline = customers5.reduce((s, c) => s + c.baselineKw, 0)
    for (const r of snap.context.intervals) {
      assert.ok(Math.abs((r.deliveredKw ?? NaN) - (totalBaseline + r.requestedKw)) < 1e-9, `interval ${r.index} delivered ${r.deliveredKw}`)
      assert.equal(r.shortfallKw, 0)
    }
    assert.equal(run.calls.reports.length, 1)
    assert.equal(run.calls.reliabilityUpdates, 1)
    assert.ok(!visited(run.records).includes('active.intra'), 'no matchmaking when everyone complies')
    assert.equal(visited(run.records).filter(v => v === 'active.monitoring.measuring').length, 3 * 4)
  })

  it('declines (optOut) a request beyond what the customers can muster, then expires after its window', async () => {
    const input = { request: request({ amountsKw: [-100] }) }
    const run = start(input)
    await settle()
    assert.equal(run.actor.getSnapshot().value, 'declined')
    assert.equal(run.calls.answers[0]?.decision.accept, false)
    assert.equal(run.calls.plans.length, 0)
    await run.timers.advanceTo(endOf(input))
    assert.equal(run.actor.getSnapshot().value, 'expired')
  })

  it('re-dispatches around a customer that opts out of its EiEvent', async () => {
    const run = start({ request: request() }, new World(customers5), { optOutOnce: ['c4'] })
    await settle()
    assert.equal(run.calls.plans.length, 2)
    assert.deepEqual(run.calls.plans[1]?.excluded, ['c4'])
    const plan = run.actor.getSnapshot().context.plan
    assert.ok(plan !== null && !('c4' in plan.setpointsKw), 'c4 is not dispatched after opting out')
    assert.equal(run.calls.notified.length, 2)
    // The remaining customers still cover the request: -7.5 kW over c1,c2,c3,c5 (10 kW of flexDown).
    const t1 = Object.values(plan.setpointsKw).reduce((s, row) => s + (row[1] ?? 0), 0)
    assert.ok(Math.abs(t1 - (28 - 7.5)) < 1e-9)
  })

  it('a late opt-out before the start re-plans; during the event it only marks the customer', async () => {
    const input = { request: request() }
    const run = start(input)
    await settle()
    run.actor.send({ type: 'CUSTOMER_OPTED_OUT', venId: 'c2' })
    await settle()
    assert.equal(run.calls.plans.length, 2)
    assert.deepEqual(run.calls.plans[1]?.excluded, ['c2'])
    await run.timers.advanceTo(input.request.startMs + 1)
    run.actor.send({ type: 'CUSTOMER_OPTED_OUT', venId: 'c3' })
    await settle()
    assert.equal(run.calls.plans.length, 2)
    assert.deepEqual(run.actor.getSnapshot().context.optedOut, ['c2', 'c3'])
  })

  it('a shortage goes intra, then inter, and what is left is reported upward as shortfall', async () => {
    const world = new World(customers5)
    const input = { request: request({ amountsKw: [-10, -10, -10] }) }
    const run = start(input, world, { peerCapacityKw: 1 })
    await settle()
    await run.timers.advanceTo(input.request.startMs + input.request.intervalMs)
    // c4 stops reducing (it was asked for -10 × 5/15) and consumes 6 kW more than its setpoint from interval 1.
    world.deviations.set('c4', { fromInterval: 1, kw: 6 })
    await run.timers.advanceTo(input.request.startMs + input.request.intervalMs + input.request.intervalMs / 4)
    const trail = visited(run.records)
    const i = trail.lastIndexOf('active.intra')
    assert.ok(i > 0)
    assert.deepEqual(trail.slice(i, i + 5), ['active.intra', 'active.intraDone', 'active.inter', 'active.interDone', 'active.shortfall'])
    // Spare flexDown of the others: the plan uses 10 of 15 kW, c4 had 5 of its own: others have 10 − (10 − 3.33) = 3.33 kW.
    const rec = run.actor.getSnapshot().context.intervals[1]
    assert.ok(rec !== undefined)
    assert.ok(Math.abs(rec.intraCoveredKw - 10 / 3) < 1e-6, `intra ${rec.intraCoveredKw}`)
    assert.ok(Math.abs(rec.interCoveredKw - 1) < 1e-9, `inter ${rec.interCoveredKw}`)
    // 6 − 3.33 (intra) − 1 (peers) = 1.67 kW left: reported upward, recorded as the interval's shortfall.
    assert.equal(run.calls.shortfalls.length, 1)
    assert.ok(Math.abs((run.calls.shortfalls[0]?.residualKw[1] ?? NaN) - 5 / 3) < 1e-9)
    assert.ok(Math.abs(rec.shortfallKw - 5 / 3) < 1e-9)
    await run.timers.advanceTo(endOf(input))
    assert.equal(run.actor.getSnapshot().value, 'completed')
  })

  it('an excess (customer reducing more than asked) is covered by raising the others', async () => {
    const world = new World(customers5)
    const input = { request: request({ amountsKw: [-5, -5] }) }
    const run = start(input, world)
    await settle()
    world.deviations.set('c1', { fromInterval: 0, kw: -2 })
    await run.timers.advanceTo(input.request.startMs + input.request.intervalMs / 4)
    const rec = run.actor.getSnapshot().context.intervals[0]
    assert.ok(rec !== undefined)
    assert.ok(Math.abs(rec.intraCoveredKw - -2) < 1e-9, `intra covered ${rec.intraCoveredKw}`)
    await run.timers.advanceTo(endOf(input))
    const snap = run.actor.getSnapshot()
    assert.equal(snap.value, 'completed')
    // After cover, the aggregate follows the request again at the interval's final checkpoint.
    assert.ok(Math.abs((snap.context.intervals[0]?.deliveredKw ?? NaN) - (40 - 5)) < 1e-9)
    assert.equal(run.calls.shortfalls.length, 0)
  })

  it('a missing report is a deviation of the customer invariant and enters intra matchmaking', async () => {
    const world = new World(customers5)
    const input = { request: request({ amountsKw: [-5] }) }
    const run = start(input, world)
    await settle()
    world.silent.add('c2')
    await run.timers.advanceTo(input.request.startMs + input.request.intervalMs / 4)
    assert.ok(visited(run.records).includes('active.intra'))
  })

  it('a fellow node\'s request is answered accept-with-committed-amounts; with no hops left it asks no peer', async () => {
    const world = new World(customers5)
    const input = { request: request({ origin: 'peer', amountsKw: [-3, -3], peer: { requestId: 'r1', fromPeerId: 'node-b', hopLimit: 0 } }) }
    const run = start(input, world, { peerCapacityKw: 5 })
    await settle()
    assert.equal(run.calls.answers[0]?.origin, 'peer')
    assert.deepEqual(run.calls.answers[0]?.decision.committedKw, [-3, -3])
    assert.equal(run.calls.answers[0]?.peer?.requestId, 'r1')
    assert.equal(run.calls.peerQueries, 0)
    world.deviations.set('c1', { fromInterval: 0, kw: 30 })
    await run.timers.advanceTo(endOf(input))
    assert.equal(run.calls.inter.length, 0, 'no inter matchmaking for a request that may not be forwarded')
    assert.ok(run.calls.shortfalls.length > 0)
    assert.equal(run.calls.reports[0]?.peer?.fromPeerId, 'node-b')
  })

  it('inspection gives every transition, each starting where the previous one ended', async () => {
    const input = { request: request({ amountsKw: [-5] }) }
    const run = start(input)
    await run.timers.advanceTo(endOf(input))
    const trail = run.records
    assert.equal(trail[0]?.from, '(none)')
    for (let i = 1; i < trail.length; i++) assert.equal(trail[i]?.from, trail[i - 1]?.to)
    // `received` is left during initialisation (its check is eventless): the first record names it as the source.
    assert.equal(trail[0]?.event.type, 'xstate.init')
    assert.deepEqual(trail[0]?.transitions, ['drEvent.received → drEvent.deciding'])
    assert.deepEqual(visited(trail).slice(0, 7), [
      'deciding', 'scheduled.preparing', 'scheduled.queryingPeers', 'scheduled.planning',
      'scheduled.notifying', 'scheduled.waitingStart', 'active.monitoring.waiting'
    ])
    assert.equal(trail.at(-1)?.to, 'completed')
    assert.equal(trail.at(-1)?.status, 'done')
    assert.ok(trail.some(r => r.event.type === 'xstate.done.actor.0.drEvent.deciding'))
  })

  it('a persisted snapshot taken mid-active, restored into a new actor, resumes and completes', async () => {
    const world = new World(customers5)
    const input = { request: request() }
    const first = start(input, world)
    await first.timers.advanceTo(input.request.startMs + input.request.intervalMs + 1)
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as SnapshotFrom<typeof drEventMachine>
    const before = first.actor.getSnapshot().context
    assert.deepEqual(first.actor.getSnapshot().value, { active: { monitoring: 'waiting' } })
    first.actor.stop()

    // A new process: fresh implementations, the clock where the crash left it.
    const timers = new ManualTimers(first.timers.clock.now())
    const c = community(world, timers)
    const records: TransitionRecord[] = []
    const restored = createActor(drEventMachine.provide(c.implementations), {
      input, snapshot: persisted, inspect: transitionRecorder(r => records.push(r), 'active.monitoring.waiting')
    })
    restored.start()
    await settle()
    assert.equal(timers.pendingCount, 1, 'the checkpoint timer is re-armed from its absolute deadline')
    await timers.advanceTo(endOf(input))
    const snap = restored.getSnapshot()
    assert.equal(snap.value, 'completed')
    assert.equal(c.calls.answers.length, 0, 'the opt answer is not sent again')
    assert.equal(c.calls.notified.length, 0, 'customers are not notified again')
    assert.deepEqual(snap.context.intervals[0], before.intervals[0])
    assert.ok(snap.context.intervals.every(r => r.deliveredKw !== null))
    assert.equal(records[0]?.from, 'active.monitoring.waiting')
    assert.equal(c.calls.reports.length, 1)
  })
})
