import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Store } from '../../src/store/index.js'
import { InsufficientFlexibilityError, LedgerError, ReservationLedger, type FlexProfile, type LedgerWindow } from '../../src/node/ledger.js'
import { ManualClock } from '../../src/util/clock.js'

const minute = 60_000
const t0 = 1_800_000_000_000

/** Every customer can shed `downKw` and absorb `upKw` in every interval; unknown ids have nothing. */
function flat (customers: Record<string, { upKw: number, downKw: number }>) {
  return (customerId: string, window: LedgerWindow): FlexProfile | undefined => {
    const c = customers[customerId]
    if (c === undefined) return undefined
    return { flexUpKw: new Array<number>(window.intervals).fill(c.upKw), flexDownKw: new Array<number>(window.intervals).fill(c.downKw) }
  }
}

describe('node/ledger', () => {
  let dataDir: string
  let store: Store
  let clock: ManualClock
  const capabilities = flat({ c1: { upKw: 2, downKw: 5 }, c2: { upKw: 1, downKw: 4 } })
  const w15 = (startMs: number, intervals: number): LedgerWindow => ({ startMs, intervalMs: 15 * minute, intervals })

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-ledger-'))
    store = new Store({ dataDir })
    await store.start()
    clock = new ManualClock(t0 - 60 * minute)
  })

  afterEach(async () => {
    if (store.isOpen) await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  async function ledger (): Promise<ReservationLedger> {
    const l = new ReservationLedger({ store, clock, capabilities })
    await l.start()
    return l
  }

  it('available is capability minus reservations; release gives it back', async () => {
    const l = await ledger()
    await l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 2), upKw: [0, 1], downKw: [3, 0] }])
    assert.deepEqual(await l.available('c1', w15(t0, 3)), { flexUpKw: [2, 1, 2], flexDownKw: [2, 5, 5] })
    assert.deepEqual(await l.available('c2', w15(t0, 1)), { flexUpKw: [1], flexDownKw: [4] })
    assert.deepEqual(await l.available('nobody', w15(t0, 1)), { flexUpKw: [0], flexDownKw: [0] })
    assert.equal(await l.release('event:E1'), 1)
    assert.deepEqual(await l.available('c1', w15(t0, 3)), { flexUpKw: [2, 2, 2], flexDownKw: [5, 5, 5] })
  })

  it('two overlapping events never get the same flexibility twice, even on shifted interval grids', async () => {
    const l = await ledger()
    await l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 4), upKw: [0, 0, 0, 0], downKw: [3, 3, 3, 3] }])
    // E2 runs on a 5-minute grid from 5 minutes before E1: its last two intervals overlap E1's first.
    const e2: LedgerWindow = { startMs: t0 - 5 * minute, intervalMs: 5 * minute, intervals: 3 }
    assert.deepEqual(await l.available('c1', e2), { flexUpKw: [2, 2, 2], flexDownKw: [5, 2, 2] })
    await assert.rejects(
      l.reserve('event:E2', [{ customerId: 'c1', window: e2, upKw: [0, 0, 0], downKw: [5, 3, 0] }]),
      (err: unknown) => err instanceof InsufficientFlexibilityError && err.interval === 1 && err.direction === 'down' &&
        err.askedKw === 3 && err.availableKw === 2)
    await l.reserve('event:E2', [{ customerId: 'c1', window: e2, upKw: [0, 0, 0], downKw: [5, 2, 2] }])
    assert.deepEqual(await l.available('c1', w15(t0, 4)), { flexUpKw: [2, 2, 2, 2], flexDownKw: [0, 2, 2, 2] })
  })

  it('of two concurrent reservations of the same kW, exactly one succeeds', async () => {
    const l = await ledger()
    const ask = async (holder: string): Promise<unknown> =>
      await l.reserve(holder, [{ customerId: 'c2', window: w15(t0, 1), upKw: [0], downKw: [3] }])
    const results = await Promise.allSettled([ask('event:A'), ask('event:B'), ask('promise:R1')])
    assert.equal(results.filter(r => r.status === 'fulfilled').length, 1)
    assert.deepEqual(await l.available('c2', w15(t0, 1)), { flexUpKw: [1], flexDownKw: [1] })
  })

  it('reserves all requests or none', async () => {
    const l = await ledger()
    await assert.rejects(l.reserve('event:E1', [
      { customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [3] },
      { customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [3] }
    ]), InsufficientFlexibilityError)
    assert.deepEqual(l.all(), [])
    assert.deepEqual(await store.table('reservations').entries(), [])
    await assert.rejects(l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 2), upKw: [0], downKw: [1, 1] }]), LedgerError)
    await assert.rejects(l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 1), upKw: [-1], downKw: [1] }]), LedgerError)
  })

  it('a holder reserving the same customer and start again replaces its reservation (re-dispatch)', async () => {
    const l = await ledger()
    await l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [5] }])
    await l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [4] }])
    assert.equal(l.byHolder('event:E1').length, 1)
    assert.deepEqual(await l.available('c1', w15(t0, 1)), { flexUpKw: [2], flexDownKw: [1] })
  })

  it('with replace, a holder moves its reservations in one step and no other holder slips in between', async () => {
    const l = await ledger()
    await l.reserve('event:E1', [
      { customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [5] },
      { customerId: 'c2', window: w15(t0, 1), upKw: [0], downKw: [1] }
    ])
    // c1 opted out: its 5 kW move to c2 (4 kW) and the rest is dropped, in one serialised change
    const [moved, rival] = await Promise.allSettled([
      l.reserve('event:E1', [{ customerId: 'c2', window: w15(t0, 1), upKw: [0], downKw: [4] }], { replace: true }),
      l.reserve('event:E2', [{ customerId: 'c2', window: w15(t0, 1), upKw: [0], downKw: [3] }])
    ])
    assert.equal(moved.status, 'fulfilled')
    assert.equal(rival.status, 'rejected')
    assert.deepEqual(l.byHolder('event:E1').map(r => [r.customerId, r.downKw]), [['c2', [4]]])
    assert.deepEqual(await l.available('c1', w15(t0, 1)), { flexUpKw: [2], flexDownKw: [5] })
    assert.deepEqual((await store.table<{ customerId: string }>('reservations').values()).map(r => r.customerId), ['c2'])
  })

  it('a peer promise shrinks what the node advertises, and lapses when not confirmed in time', async () => {
    const l = await ledger()
    assert.deepEqual(await l.availableTotal(['c1', 'c2'], w15(t0, 1)), { flexUpKw: [3], flexDownKw: [9] })
    await l.reserve('promise:R7', [{ customerId: 'c2', window: w15(t0, 1), upKw: [1], downKw: [4] }],
      { expiresAtMs: t0 - 30 * minute })
    assert.deepEqual(await l.availableTotal(['c1', 'c2'], w15(t0, 1)), { flexUpKw: [2], flexDownKw: [5] })
    clock.set(t0 - 30 * minute)
    assert.deepEqual(await l.availableTotal(['c1', 'c2'], w15(t0, 1)), { flexUpKw: [3], flexDownKw: [9] })
    await l.stop()
    const restarted = await ledger()
    assert.deepEqual(restarted.all(), [])
    assert.deepEqual(await store.table('reservations').entries(), [])
  })

  it('available answers again from what it kept only while the capability, reservations and lapses stand', async () => {
    // A provider like the agent's: the same object while the customer's forecast stands.
    let capability: FlexProfile = { flexUpKw: [2, 2], flexDownKw: [5, 5] }
    const l = new ReservationLedger({ store, clock, capabilities: () => capability })
    await l.start()
    const first = await l.available('c1', w15(t0, 2))
    assert.equal(await l.available('c1', w15(t0, 2)), first)
    await l.reserve('promise:R1', [{ customerId: 'c1', window: w15(t0, 2), upKw: [1, 0], downKw: [0, 2] }], { expiresAtMs: t0 - 30 * minute })
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [1, 2], flexDownKw: [5, 3] })
    clock.set(t0 - 30 * minute)
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [2, 2], flexDownKw: [5, 5] })
    clock.set(t0 - 40 * minute)
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [1, 2], flexDownKw: [5, 3] })
    await l.reserve('event:E1', [{ customerId: 'c1', window: w15(t0, 2), upKw: [0, 1], downKw: [1, 0] }])
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [1, 1], flexDownKw: [4, 3] })
    assert.deepEqual(await l.available('c1', w15(t0 + 15 * minute, 1)), { flexUpKw: [1], flexDownKw: [3] })
    capability = { flexUpKw: [3, 3], flexDownKw: [5, 5] }
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [2, 2], flexDownKw: [4, 3] })
    await l.release('promise:R1')
    assert.deepEqual(await l.available('c1', w15(t0, 2)), { flexUpKw: [3, 2], flexDownKw: [4, 5] })
    await l.stop()
  })

  it('keeps reservations across a restart of the store, and releases one customer of a holder', async () => {
    const l = await ledger()
    await l.reserve('event:E1', [
      { customerId: 'c1', window: w15(t0, 1), upKw: [0], downKw: [2] },
      { customerId: 'c2', window: w15(t0, 1), upKw: [0], downKw: [2] }
    ])
    await l.stop()
    await store.stop()
    store = new Store({ dataDir })
    await store.start()
    const reopened = await ledger()
    assert.deepEqual(await reopened.available('c1', w15(t0, 1)), { flexUpKw: [2], flexDownKw: [3] })
    assert.equal(await reopened.release('event:E1', ['c2']), 1)
    assert.deepEqual(reopened.byHolder('event:E1').map(r => r.customerId), ['c1'])
    assert.deepEqual(await reopened.available('c2', w15(t0, 1)), { flexUpKw: [1], flexDownKw: [4] })
  })

  it('property: whatever events ask, at no instant is more reserved than the customer can do', async () => {
    const l = await ledger()
    const capDown = 5
    const event = fc.record({
      offset: fc.integer({ min: 0, max: 12 }),
      stepMin: fc.constantFrom(5, 10, 15),
      asks: fc.array(fc.double({ min: 0, max: 4, noNaN: true }), { minLength: 1, maxLength: 4 })
    })
    await fc.assert(fc.asyncProperty(fc.array(event, { minLength: 2, maxLength: 6 }), async events => {
      await Promise.all(l.all().map(async r => await l.release(r.holder)))
      for (const [i, e] of events.entries()) {
        const window: LedgerWindow = { startMs: t0 + e.offset * 5 * minute, intervalMs: e.stepMin * minute, intervals: e.asks.length }
        const free = await l.available('c1', window)
        const downKw = e.asks.map((kw, t) => Math.min(kw, free.flexDownKw[t] ?? 0))
        await l.reserve(`event:P${i}`, [{ customerId: 'c1', window, upKw: downKw.map(() => 0), downKw }])
      }
      for (let m = 0; m < 120; m++) {
        const at = l.reserved('c1', { startMs: t0 + m * minute, intervalMs: minute, intervals: 1 })
        assert.ok((at.flexDownKw[0] ?? 0) <= capDown + 1e-6, `minute ${m}: ${at.flexDownKw[0]} kW reserved`)
      }
    }), { numRuns: 60, seed: 4 })
  })
})
