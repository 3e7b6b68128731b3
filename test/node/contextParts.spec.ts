import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { ContextParts } from '../../src/node/contextParts.js'

interface Context { request: object, decision: object | null, plan: object | null, measurement: object | null, intervals: object[], intervalIndex: number }

function snapshotOf (context: Context, status = 'active'): unknown {
  return { status, value: { active: 'monitoring' }, context, children: { monitor: { src: 'monitor', snapshot: { status: 'active', input: { plan: { contextField: 'plan' } } } } } }
}

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v))

describe('context parts: a live event stores its large context fields apart, when they change', () => {
  let dataDir: string
  let store: Store

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-contextparts-'))
    store = new Store({ dataDir })
    await store.start()
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function commit (parts: ContextParts, eventId: string, snapshot: unknown): Promise<{ stored: unknown, written: string[] }> {
    const split = parts.split(eventId, snapshot, snapshot)
    await store.batch([store.table('snapshots').putOp(`event:${eventId}`, split.snapshot), ...split.ops])
    split.committed()
    return { stored: split.snapshot, written: split.ops.map(op => `${op.type} ${op.key.replace('\0', '/')}`) }
  }

  const start: Context = {
    request: { eventId: 'E1', amountsKw: [1, 2, 3] },
    decision: { accept: true },
    plan: null,
    measurement: null,
    intervals: [{ index: 0, deliveredKw: null }],
    intervalIndex: 0
  }

  it('writes only the fields that are not the objects last stored, and a restarted node restores the snapshot whole', async () => {
    const parts = new ContextParts(store)
    const first = await commit(parts, 'E1', snapshotOf(start))
    assert.deepEqual(first.written, ['put context:E1/request', 'put context:E1/decision', 'put context:E1/intervals'])
    assert.deepEqual((first.stored as { context: Context }).context.request, { storedApart: 'request' })
    assert.equal((first.stored as { context: Context }).context.plan, null, 'a field holding nothing stays in the snapshot')
    // A transition that changes one field (a new object) writes that one; the others are referred to.
    const measured: Context = { ...start, measurement: { intervalIndex: 0, customerDeviationsKw: { a: 0.5 } }, intervalIndex: 1 }
    assert.deepEqual((await commit(parts, 'E1', snapshotOf(measured))).written, ['put context:E1/measurement'])
    const planned: Context = { ...measured, plan: { setpointsKw: { a: [1, 2] } }, intervals: [{ index: 0, deliveredKw: 4 }] }
    assert.deepEqual((await commit(parts, 'E1', snapshotOf(planned))).written, ['put context:E1/plan', 'put context:E1/intervals'])
    assert.deepEqual((await commit(parts, 'E1', snapshotOf({ ...planned }))).written, [])
    // A field that holds nothing again is no longer stored apart.
    const latest: Context = { ...planned, measurement: null }
    assert.deepEqual((await commit(parts, 'E1', snapshotOf(latest))).written, ['del context:E1/measurement'])

    await store.stop()
    store = new Store({ dataDir })
    await store.start()
    const restarted = new ContextParts(store)
    const stored = await store.table('snapshots').get('event:E1')
    assert.deepEqual(await restarted.restore('E1', json(stored)), json(snapshotOf(latest)))
    // What the restored node stores next is written again: its fields are not the objects it read.
    assert.deepEqual((await commit(restarted, 'E1', snapshotOf(latest))).written,
      ['put context:E1/request', 'put context:E1/decision', 'put context:E1/plan', 'put context:E1/intervals'])
  })

  it('stores what the snapshot to store holds, telling a change by the actor\'s own objects', async () => {
    const parts = new ContextParts(store)
    const plan = { setpointsKw: { a: [1, 2] } }
    const actorSnapshot = snapshotOf({ ...start, plan })
    const toStore = snapshotOf({ ...start, plan: { setpointsKw: { a: null } } })
    const split = parts.split('E1', actorSnapshot, toStore)
    assert.deepEqual(split.ops.find(op => op.key === 'context:E1\0plan'), { type: 'put', table: 'snapshots', key: 'context:E1\0plan', value: { setpointsKw: { a: null } } })
  })

  it('a finished event is stored whole and its fields deleted; a snapshot stored whole restores as it is', async () => {
    const parts = new ContextParts(store)
    await commit(parts, 'E1', snapshotOf(start))
    const done = snapshotOf(start, 'done')
    assert.deepEqual((await commit(parts, 'E1', done)).written, ['del context:E1/request', 'del context:E1/decision', 'del context:E1/intervals'])
    assert.deepEqual(await store.table('snapshots').get('event:E1'), json(done))
    assert.deepEqual(await new ContextParts(store).restore('E1', json(done)), json(done))
  })

  it('a transition whose batch failed is written again by the next one', async () => {
    const parts = new ContextParts(store)
    const snapshot = snapshotOf(start)
    assert.equal(parts.split('E1', snapshot, snapshot).ops.length, 3)
    // Not committed: the fields still count as not stored.
    assert.equal((await commit(parts, 'E1', snapshot)).written.length, 3)
  })

  it('a record stored in the same batch refers to the fields stored apart that it holds, and resolves back', async () => {
    const parts = new ContextParts(store)
    const context: Context = { ...start, plan: { setpointsKw: { a: [1, 2] } } }
    const actorSnapshot = snapshotOf(context)
    // The plan is stored with its rows taken out: not the actor's object, so nothing refers to it.
    const split = parts.split('E1', actorSnapshot, snapshotOf({ ...context, plan: { setpointsKw: { a: null } } }))
    const summary = { eventId: 'E1', request: context.request, intervals: [{ index: 0, deliveredKw: 3 }], answer: context.decision, plan: context.plan, state: 'active' }
    const fields = { request: 'request', intervals: 'intervals', answer: 'decision', plan: 'plan' } as const
    const stored = split.refer(summary, fields)
    assert.deepEqual(stored, { ...summary, request: { storedApart: 'request' }, answer: { storedApart: 'decision' } }, 'only the same objects are referred to')
    await store.batch([store.table('events').putOp('E1', stored), ...split.ops])
    split.committed()
    assert.deepEqual(await new ContextParts(store).resolve('E1', json(await store.table('events').get('E1')) as object, fields), json(summary))
    assert.equal(await parts.resolve('E1', summary, fields), summary, 'a record stored whole comes back as it is')
    // A finished event's records are stored whole.
    const done = parts.split('E1', snapshotOf(context, 'done'), snapshotOf(context, 'done'))
    assert.equal(done.refer(summary, fields), summary)
  })

  it('a snapshot whose stored field is missing is refused, not restored without it', async () => {
    const parts = new ContextParts(store)
    const { stored } = await commit(parts, 'E1', snapshotOf(start))
    await store.table('snapshots').del('context:E1\0decision')
    await assert.rejects(new ContextParts(store).restore('E1', json(stored)), { name: 'ContextPartsError' })
  })
})
