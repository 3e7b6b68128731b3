import { strict as assert } from 'node:assert'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { AuditTrail } from '../../src/node/audit.js'
import { canonicalJson, entryHash, genesisHash, verifyTrail, type AuditEntry, type AuditHead } from '../../src/node/auditChain.js'
import { loadOrCreateNodeKey, nodeKeyFile, type NodeKey } from '../../src/node/nodeKey.js'
import { ManualClock } from '../../src/util/clock.js'

/** Edits one entry line and recomputes every hash after it, as a forger without the key would. */
function forge (lines: string[], seq: number, edit: (entry: AuditEntry) => void): string[] {
  let prevHash = genesisHash
  return lines.map(line => {
    const record = JSON.parse(line) as AuditEntry | AuditHead
    if ('type' in record) return JSON.stringify({ ...record, hash: prevHash })
    if (record.seq === seq) edit(record)
    record.prevHash = prevHash
    record.hash = entryHash(record)
    prevHash = record.hash
    return JSON.stringify(record)
  })
}

describe('node/audit', () => {
  let dataDir: string
  let store: Store
  let key: NodeKey
  let clock: ManualClock
  let trail: AuditTrail

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-audit-'))
    store = new Store({ dataDir })
    await store.start()
    key = await loadOrCreateNodeKey(dataDir)
    clock = new ManualClock(1_700_000_000_000)
    trail = new AuditTrail({ store, clock, key })
  })

  afterEach(async () => {
    await trail.stop()
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function recordEvent (eventId: string, transitions: number): Promise<string[]> {
    for (let i = 0; i < transitions; i++) {
      clock.advance(1_000)
      await trail.append(eventId, {
        event: i === 0 ? 'oadrDistributeEvent' : 'interval.tick',
        stateBefore: i === 0 ? 'idle' : 'active.monitoring',
        stateAfter: 'active.monitoring',
        decision: { setpointsKw: { 'ven-1': -2.5 - i, 'ven-2': 1 }, deviationKw: i * 0.1, peersAsked: [] }
      })
    }
    return await trail.export(eventId)
  }

  it('chains entries: seq from 1, each prevHash the previous hash, hash over the canonical entry', async () => {
    await recordEvent('E1', 3)
    const entries = await trail.entries('E1')
    assert.deepEqual(entries.map(e => e.seq), [1, 2, 3])
    assert.equal(entries[0]?.prevHash, genesisHash)
    assert.equal(entries[1]?.prevHash, entries[0]?.hash)
    assert.equal(entries[2]?.prevHash, entries[1]?.hash)
    for (const e of entries) assert.equal(entryHash(e), e.hash)
    assert.equal(entries[1]?.timeMs, 1_700_000_002_000)
    assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[1,{"c":2,"d":1}]}')
  })

  it('an untouched trail passes, pinned to the node key', async () => {
    const lines = await recordEvent('E1', 4)
    assert.equal(lines.length, 5)
    assert.deepEqual(verifyTrail(lines, { publicKey: key.publicKey }),
      { valid: true, events: [{ eventId: 'E1', entries: 4, publicKey: key.publicKey }] })
  })

  it('a changed entry fails at its line', async () => {
    const lines = await recordEvent('E1', 4)
    const edited = JSON.parse(lines[1] as string) as AuditEntry
    edited.decision = { setpointsKw: { 'ven-1': -40 } }
    lines[1] = JSON.stringify(edited)
    const result = verifyTrail(lines)
    assert.equal(result.valid, false)
    assert.ok(!result.valid)
    assert.equal(result.line, 2)
    assert.equal(result.seq, 2)
    assert.match(result.reason, /entry changed/)
  })

  it('a changed entry whose hashes were all recomputed fails on the signature', async () => {
    const lines = forge(await recordEvent('E1', 4), 2, entry => { entry.stateAfter = 'completed' })
    assert.equal(lines.length, 5)
    const result = verifyTrail(lines)
    assert.ok(!result.valid)
    assert.equal(result.line, 5)
    assert.match(result.reason, /signature invalid/)
  })

  it('a truncated trail fails: head removed, last entry removed, middle entry removed', async () => {
    const lines = await recordEvent('E1', 4)
    const noHead = verifyTrail(lines.slice(0, 4))
    assert.ok(!noHead.valid)
    assert.match(noHead.reason, /truncated: no signed head/)
    const lastDropped = verifyTrail([...lines.slice(0, 3), lines[4] as string])
    assert.ok(!lastDropped.valid)
    assert.equal(lastDropped.line, 4)
    assert.match(lastDropped.reason, /truncated/)
    const middleDropped = verifyTrail([lines[0] as string, ...lines.slice(2)])
    assert.ok(!middleDropped.valid)
    assert.equal(middleDropped.line, 2)
    assert.match(middleDropped.reason, /expected seq 2, found 3/)
    assert.ok(!verifyTrail([]).valid)
  })

  it('a trail signed by another key fails when the key is pinned', async () => {
    const lines = await recordEvent('E1', 2)
    const other = await loadOrCreateNodeKey(join(dataDir, 'other'))
    const result = verifyTrail(lines, { publicKey: other.publicKey })
    assert.ok(!result.valid)
    assert.match(result.reason, /not by the expected key/)
  })

  it('keeps chain and key across a restart, and keeps events apart', async () => {
    await recordEvent('E1', 2)
    await recordEvent('E2', 1)
    await trail.stop()
    await store.stop()
    store = new Store({ dataDir })
    await store.start()
    const reloadedKey = await loadOrCreateNodeKey(dataDir)
    assert.equal(reloadedKey.publicKey, key.publicKey)
    assert.equal((await stat(join(dataDir, nodeKeyFile))).mode & 0o777, 0o600)
    trail = new AuditTrail({ store, clock, key: reloadedKey })
    const entry = await trail.append('E1', { event: 'interval.end', stateBefore: 'active', stateAfter: 'completed' })
    assert.equal(entry.seq, 3)
    const both = [...await trail.export('E1'), ...await trail.export('E2')]
    const result = verifyTrail(both, { publicKey: key.publicKey })
    assert.ok(result.valid)
    assert.deepEqual(result.events.map(e => [e.eventId, e.entries]), [['E1', 3], ['E2', 1]])
    assert.deepEqual(await trail.eventIds(), ['E1', 'E2'])
  })

  it('stores a decision as JSON holds it (undefined dropped, NaN as null), and it verifies', async () => {
    const entry = await trail.append('E1', { event: 'measure', stateBefore: 'a', stateAfter: 'a', decision: { missing: undefined, kw: Number.NaN, ok: [1] } })
    assert.deepEqual(entry.decision, { kw: null, ok: [1] })
    assert.deepEqual((await trail.entries('E1'))[0]?.decision, { kw: null, ok: [1] })
    assert.ok(verifyTrail(await trail.export('E1')).valid)
  })

  it('serialises concurrent appends to one event without forking the chain', async () => {
    await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await trail.append('E1', { event: `e${i}`, stateBefore: 'a', stateAfter: 'b' })))
    const entries = await trail.entries('E1')
    assert.deepEqual(entries.map(e => e.seq), Array.from({ length: 20 }, (_, i) => i + 1))
    assert.ok(verifyTrail(await trail.export('E1')).valid)
  })

  it('commits the entry atomically with the operations it records, or neither', async () => {
    const snapshots = store.table<unknown>('snapshots')
    await trail.append('E1', { event: 'go', stateBefore: 'a', stateAfter: 'b' }, [snapshots.putOp('E1', { value: 'b' })])
    assert.deepEqual(await snapshots.get('E1'), { value: 'b' })
    await assert.rejects(trail.append('E1', { event: 'bad', stateBefore: 'b', stateAfter: 'c' },
      [snapshots.putOp('E1', { value: 1n })]))
    assert.equal((await trail.entries('E1')).length, 1)
    const next = await trail.append('E1', { event: 'go', stateBefore: 'b', stateAfter: 'c' })
    assert.equal(next.seq, 2)
    assert.ok(verifyTrail(await trail.export('E1')).valid)
  })
})
