import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { ManualClock } from '../../../src/util/clock.js'
import { Vtn } from '../../../src/openadr/vtn/vtn.js'
import { eventRecordOf, storedEventRecord } from '../../../src/openadr/vtn/storedEvent.js'
import type { VtnEventRecord } from '../../../src/openadr/vtn/types.js'
import type { EventSignal } from '../../../src/openadr/model/index.js'
import { powerRealKw } from '../../../src/openadr/model/common.js'
import { buildEvent } from '../../../src/openadr/vtn/events.js'
import { packedJson } from '../../../src/store/packedJson.js'

const minute = 60_000
const t0 = Date.UTC(2026, 5, 1, 8, 0, 0)

/** A host dispatch's signal: one interval per step, its index as uid, one value. */
function dispatch (kw: number[], durationMs = 15 * minute): EventSignal {
  return { signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'dispatch', itemBase: powerRealKw(), intervals: kw.map((v, t) => ({ durationMs, uid: String(t), values: [v] })) }
}

function record (signals: EventSignal[], baseline?: VtnEventRecord['event']['eiEventBaseline']): VtnEventRecord {
  const event = buildEvent({ eventID: 'e1#ven-1', marketContext: 'http://mc', dtstartMs: t0, targets: { venIDs: ['ven-1'] }, signals }, t0)
  if (baseline !== undefined) event.eiEventBaseline = baseline
  return { event, targets: { venIDs: ['ven-1'] }, responseRequired: 'always', cancelled: false }
}

/** What the store gives back: the stored form through the events table's encoding, then unpacked. */
function reread (r: VtnEventRecord): VtnEventRecord {
  return eventRecordOf(packedJson.decode(packedJson.encode(storedEventRecord(r))) as ReturnType<typeof storedEventRecord>)
}

const asJson = (v: unknown): string => JSON.stringify(v)

describe('VTN: stored events', () => {
  it('stores a dispatch signal as columns and reads back exactly what JSON would (field order too)', () => {
    const kw = Array.from({ length: 96 }, (_, t) => Math.sin(t / 7) * 3.3 + 1e-9 * t)
    kw[5] = -0
    const r = record([dispatch(kw)])
    const stored = storedEventRecord(r)
    assert.ok('intervalColumns' in (stored.event.eiEventSignals[0] as object))
    assert.equal(asJson(reread(r)), asJson(r))
    assert.deepEqual(reread(r), JSON.parse(asJson(r)))
    const size = (v: unknown): number => packedJson.encode(v).length
    assert.ok(size(stored) * 3 < asJson(r).length, `stored ${size(stored)} B against ${asJson(r).length} B as JSON`)
  })

  it('keeps intervals of any other shape as they are: own starts, no uid, several or non-finite values, varying durations', () => {
    const shapes: EventSignal[] = [
      { ...dispatch([1, 2]), intervals: [{ dtstartMs: t0, durationMs: minute, uid: '0', values: [1] }] },
      { ...dispatch([1, 2]), intervals: [{ durationMs: minute, values: [1] }, { durationMs: minute, values: [2] }] },
      { ...dispatch([1, 2]), intervals: [{ durationMs: minute, uid: '0', values: [1, 2] }] },
      { ...dispatch([1, 2]), intervals: [{ durationMs: minute, uid: '1', values: [1] }] },
      dispatch([1, Number.NaN, Infinity, 4, 5, 6, 7, 8, 9]),
      { ...dispatch([1, 2, 3]), intervals: dispatch([1, 2, 3]).intervals.map((i, k) => ({ ...i, durationMs: (k + 1) * minute })) }
    ]
    const baseline = { dtstartMs: t0, durationMs: 30 * minute, baselineID: 'b', baselineName: 'b', intervals: dispatch([3, 4]).intervals }
    const r = record(shapes, baseline as VtnEventRecord['event']['eiEventBaseline'])
    assert.deepEqual(reread(r), JSON.parse(asJson(r)))
    assert.equal(asJson(reread(r)), asJson(r))
  })

  describe('across a VTN restart (LevelDB)', () => {
    let dir: string
    beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'adrmesh-vtn-events-')) })
    afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

    it('a modified dispatch event reads back as it was sent, with its modificationNumber', async () => {
      const clock = new ManualClock(t0)
      const first = new Vtn({ vtnID: 'vtn', dataDir: dir }, { clock })
      await first.start()
      await first.createEvent({ eventID: 'e1', marketContext: 'http://mc', dtstartMs: t0 + 60 * minute, targets: { venIDs: ['ven-1'] }, signals: [dispatch(new Array<number>(96).fill(2))] })
      clock.set(t0 + minute)
      const sent = await first.modifyEvent('e1', { signals: [dispatch(Array.from({ length: 96 }, (_, t) => t / 3))] })
      await first.stop()

      const second = new Vtn({ vtnID: 'vtn', dataDir: dir }, { clock })
      await second.start()
      try {
        assert.deepEqual(second.event('e1'), JSON.parse(asJson(sent)))
        assert.equal(second.event('e1')?.eventDescriptor.modificationNumber, 1)
      } finally {
        await second.stop()
      }
    })

    it('reads an event stored as plain JSON (before the columns) as it was', async () => {
      const r = record([dispatch([1.5, 2.5, 3.5])])
      const db = new Level<string, unknown>(dir, { valueEncoding: 'json' })
      await db.sublevel<string, unknown>('events', { valueEncoding: 'json' }).put('e1#ven-1', r)
      await db.close()
      const vtn = new Vtn({ vtnID: 'vtn', dataDir: dir }, { clock: new ManualClock(t0) })
      await vtn.start()
      try {
        const { eventStatus: _, ...descriptor } = vtn.event('e1#ven-1')?.eventDescriptor ?? {}
        const { eventStatus: __, ...expected } = r.event.eventDescriptor
        assert.deepEqual(descriptor, expected)
        assert.deepEqual(vtn.event('e1#ven-1')?.eiEventSignals, r.event.eiEventSignals)
      } finally {
        await vtn.stop()
      }
    })
  })
})
