import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { PlanRows } from '../../src/node/planRows.js'

/** A persisted event snapshot as far as plans go: one in context, one in an invoked actor's input. */
function persisted (setpointsKw: Record<string, number[]>, status = 'active'): unknown {
  const plan = { setpointsKw, uncoveredKw: [0, 0] }
  return { status, value: { active: 'monitoring' }, context: { plan, intervalIndex: 1 }, children: { monitor: { src: 'monitor', snapshot: { status: 'active', input: { plan } } } } }
}

describe('plan rows: a live event stores its plan\'s setpoint rows apart from its snapshot', () => {
  let dataDir: string
  let store: Store

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-planrows-'))
    store = new Store({ dataDir })
    await store.start()
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function commit (rows: PlanRows, eventId: string, snapshot: unknown): Promise<{ stored: unknown, written: string[] }> {
    const split = rows.split(eventId, snapshot)
    await store.batch([store.table('snapshots').putOp(`event:${eventId}`, split.snapshot), ...split.ops])
    split.committed()
    return { stored: split.snapshot, written: split.ops.map(op => `${op.type} ${op.key.replace('\0', '/')}`) }
  }

  it('writes only the rows that changed, and a restarted node restores the snapshot whole', async () => {
    const rows = new PlanRows(store)
    const first = await commit(rows, 'E1', persisted({ a: [1, 2], b: [3, 4] }))
    assert.deepEqual(first.written, ['put plan:E1/a', 'put plan:E1/b'])
    assert.equal(JSON.stringify(first.stored).includes('[1,2]'), false, 'the snapshot refers to the stored rows')
    // A transition with the same plan writes no row; a re-dispatch writes the rows it changed (equal copies are not).
    assert.deepEqual((await commit(rows, 'E1', persisted({ a: [1, 2], b: [3, 4] }))).written, [])
    const latest = persisted({ a: [1, 2], c: [5, 6.25] })
    assert.deepEqual((await commit(rows, 'E1', latest)).written, ['put plan:E1/c', 'del plan:E1/b'])

    await store.stop()
    store = new Store({ dataDir })
    await store.start()
    const restarted = new PlanRows(store)
    const stored = await store.table('snapshots').get('event:E1')
    assert.deepEqual(await restarted.restore('E1', JSON.parse(JSON.stringify(stored))), JSON.parse(JSON.stringify(latest)))
    // What the restored node stores next refers to the rows it read.
    assert.deepEqual((await commit(restarted, 'E1', persisted({ a: [1, 2], c: [5, 6.25] }))).written, [])
  })

  it('a row that differs from the stored one stays in the snapshot (an actor\'s input with an older plan)', async () => {
    const rows = new PlanRows(store)
    await commit(rows, 'E1', persisted({ a: [1, 2] }))
    const snapshot = persisted({ a: [1, 3] }) as { children: { monitor: { snapshot: { input: { plan: { setpointsKw: Record<string, number[]> } } } } } }
    snapshot.children.monitor.snapshot.input.plan = { ...snapshot.children.monitor.snapshot.input.plan, setpointsKw: { a: [1, 2] } }
    const { stored } = await commit(rows, 'E1', snapshot)
    assert.deepEqual(await new PlanRows(store).restore('E1', JSON.parse(JSON.stringify(stored))), JSON.parse(JSON.stringify(snapshot)))
  })

  it('a finished event is stored whole and its rows deleted; a snapshot stored whole restores as it is', async () => {
    const rows = new PlanRows(store)
    await commit(rows, 'E1', persisted({ a: [1, 2] }))
    const done = persisted({ a: [1, 2] }, 'done')
    assert.deepEqual((await commit(rows, 'E1', done)).written, ['del plan:E1/a'])
    assert.deepEqual(await store.table('snapshots').get('event:E1'), JSON.parse(JSON.stringify(done)))
    assert.deepEqual(await new PlanRows(store).restore('E1', done), done)
  })

  it('a transition whose batch failed is written again by the next one', async () => {
    const rows = new PlanRows(store)
    const split = rows.split('E1', persisted({ a: [1, 2] }))
    assert.equal(split.ops.length, 1)
    // Not committed: the rows still count as not stored.
    assert.deepEqual((await commit(rows, 'E1', persisted({ a: [1, 2] }))).written, ['put plan:E1/a'])
  })
})
