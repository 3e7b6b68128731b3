import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { CustomerBook, measure, observe, type MeasureOptions } from '../../src/node/agentCustomers.js'
import type { CustomerCapabilities } from '../../src/machines/customerSession.js'
import type { DispatchPlan, DrRequest } from '../../src/machines/drEventTypes.js'

const MARKET = 'http://adrmesh.example/mc/test'
const minute = 60_000
const startMs = 1_800_000_000_000
const intervalMs = 15 * minute

const caps = (baselineKw: number): CustomerCapabilities => ({
  baselineKw: [baselineKw], flexUpKw: [2], flexDownKw: [2], forecastStartMs: startMs - intervalMs, forecastIntervalMs: intervalMs,
  costUpPerKwh: 0.1, costDownPerKwh: 0.1, minActivationKw: 0, pvKw: 0, batteryKwh: 0
})

const request = (eventId: string, origin: DrRequest['origin']): DrRequest =>
  ({ eventId, modificationNumber: 0, origin, marketContext: MARKET, startMs, intervalMs, amountsKw: [-1], signalType: 'delta' })

describe('node/agentCustomers: what an event sees of customers other events dispatched too', () => {
  let dataDir: string
  let store: Store
  let book: CustomerBook

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-book-'))
    store = new Store({ dataDir })
    await store.start()
    book = new CustomerBook(store)
    await book.start()
    for (const venId of ['c1', 'c2']) {
      await book.register(venId, venId, [MARKET], startMs - intervalMs)
      await book.setCapabilities(venId, caps(2))
    }
  })

  afterEach(async () => {
    await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  const at = (others: Record<string, number>): MeasureOptions => ({
    intervalIndex: 0, final: false, checkAtMs: startMs + 5 * minute, graceMs: intervalMs, othersChangeKw: new Map(Object.entries(others))
  })

  it('a customer two events dispatched answers to each for its share of what it falls short', async () => {
    // c1 is asked −1 kW by this event and −0.5 kW by another (target 0.5 kW) and delivers only half: 1.25 kW.
    await book.record([{ venId: 'c1', atMs: startMs + 4 * minute, kw: 1.25 }])
    const plan: DispatchPlan = { setpointsKw: { c1: [1] }, uncoveredKw: [0] }
    const [c1] = observe(book, request('own', 'upstream'), plan, at({ c1: -0.5 })).filter(o => o.venId === 'c1')
    // Of its 0.75 kW change, this event asked two thirds: 0.5 kW of it, and its share of the shortfall, 0.5 kW.
    assert.ok(Math.abs((c1?.latestKw ?? NaN) - 1.5) < 1e-9, `latest ${c1?.latestKw}`)
    assert.equal(c1?.others, false)
    // The other event sees the other third: between them, the customer's 0.75 kW shortfall is counted once.
    const theirs = observe(book, request('cover', 'peer'), { setpointsKw: { c1: [1.5] }, uncoveredKw: [0] }, at({ c1: -1 })).find(o => o.venId === 'c1')
    assert.ok(Math.abs((theirs?.latestKw ?? NaN) - 1.75) < 1e-9, `theirs ${theirs?.latestKw}`)
    const shortfall = ((c1?.latestKw ?? 0) - 1) + ((theirs?.latestKw ?? 0) - 1.5)
    assert.ok(Math.abs(shortfall - 0.75) < 1e-9, `shortfall ${shortfall}`)
  })

  it('a customer only other events dispatched counts at its baseline, and shows what it draws apart from them', async () => {
    await book.record([{ venId: 'c2', atMs: startMs + 4 * minute, kw: 1.4 }])
    const plan: DispatchPlan = { setpointsKw: { c1: [1] }, uncoveredKw: [0] }
    const c2 = observe(book, request('own', 'upstream'), plan, at({ c2: -0.6 })).find(o => o.venId === 'c2')
    assert.equal(c2?.others, true)
    assert.equal(c2?.latestKw, undefined)
    assert.ok(Math.abs((c2?.apartKw ?? NaN) - 2) < 1e-9, `apart ${c2?.apartKw}`)
    await book.record([{ venId: 'c1', atMs: startMs + 4 * minute, kw: 1 }])
    const m = measure(book, request('own', 'upstream'), plan, at({ c2: -0.6 }))
    // c1 on its setpoint (1 kW), c2 at its baseline (2 kW) whatever it does for the other event.
    assert.ok(Math.abs(m.aggregateKw - 3) < 1e-9, `aggregate ${m.aggregateKw}`)
  })
})
