import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store, type StoreOp } from '../../src/store/index.js'
import { CustomerBook, type CustomerRecord } from '../../src/node/agentCustomers.js'
import type { CustomerCapabilities } from '../../src/machines/customerSession.js'

const t0 = 1_800_000_000_000
const minute = 60_000
const MARKET = 'http://adrmesh.example/mc/test'

const capabilities: CustomerCapabilities = {
  baselineKw: Array.from({ length: 12 }, (_, k) => 5 + k / 10),
  flexUpKw: new Array<number>(12).fill(1),
  flexDownKw: new Array<number>(12).fill(2),
  forecastStartMs: t0,
  forecastIntervalMs: 15 * minute,
  costUpPerKwh: 0.1,
  costDownPerKwh: 0.2,
  minActivationKw: 0,
  pvKw: 0,
  batteryKwh: 0
}

describe('node/agentCustomers: the customer book in the store', () => {
  let dataDir: string
  let store: Store
  /** Every operation the store committed, in order. */
  let written: StoreOp[]

  async function open (): Promise<CustomerBook> {
    store = new Store({ dataDir })
    await store.start()
    written = []
    const batch = store.batch.bind(store)
    store.batch = async ops => { written.push(...ops); await batch(ops) }
    const book = new CustomerBook(store)
    await book.start()
    return book
  }

  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-book-')) })
  afterEach(async () => {
    await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('a reading batch writes the readings and the profiles, not the records; a restart brings all back', async () => {
    let book = await open()
    await book.register('a', 'a', [MARKET], t0)
    await book.setCapabilities('a', capabilities)
    written = []
    for (let k = 1; k <= 4; k++) await book.record([{ venId: 'a', atMs: t0 + k * minute, kw: 5 + k / 100 }])
    assert.deepEqual([...new Set(written.map(op => op.table))].sort(), ['profiles', 'reports'])
    const before = book.get('a') as CustomerRecord
    assert.equal(before.profile?.samples, 4)
    await store.stop()

    book = await open()
    assert.deepEqual(book.get('a'), before)
    assert.equal(book.lastReadingMs('a'), t0 + 4 * minute)
  })

  it('reads a record stored with its profile inside (as before the profiles table) and moves the profile out', async () => {
    let book = await open()
    const profile = { meanKw: 0.25, varianceKw2: 0.04, samples: 7 }
    const legacy: CustomerRecord = { venId: 'a', venName: 'a', marketContexts: [MARKET], registeredAtMs: t0, capabilities, profile }
    await store.table('customers').put('a', legacy)
    await store.stop()

    book = await open()
    assert.deepEqual(book.get('a'), legacy)
    assert.deepEqual(await store.table('profiles').get('a'), profile)
    assert.equal((await store.table<CustomerRecord>('customers').get('a'))?.profile, undefined)
    // A later write of the record (new capabilities) keeps the profile through a restart.
    await book.setCapabilities('a', { ...capabilities, pvKw: 3 })
    await store.stop()

    book = await open()
    assert.deepEqual(book.get('a'), { ...legacy, capabilities: { ...capabilities, pvKw: 3 } })
  })

  it('concurrent writes of a customer keep each other\'s change: capabilities, a reading\'s profile, a re-registration', async () => {
    const book = await open()
    await book.register('a', 'a', [MARKET], t0)
    await book.setCapabilities('a', capabilities)
    await Promise.all([
      book.record([{ venId: 'a', atMs: t0 + minute, kw: 5 }]),
      book.setCapabilities('a', { ...capabilities, pvKw: 3 }),
      book.record([{ venId: 'a', atMs: t0 + 2 * minute, kw: 5.2 }])
    ])
    assert.equal(book.get('a')?.capabilities?.pvKw, 3)
    assert.equal(book.get('a')?.profile?.samples, 2)
    await Promise.all([
      book.register('a', 'a2', [MARKET], t0 + 3 * minute),
      book.record([{ venId: 'a', atMs: t0 + 3 * minute, kw: 5.1 }])
    ])
    assert.equal(book.get('a')?.venName, 'a2')
    assert.equal(book.get('a')?.profile?.samples, 3)
  })

  it('a re-registration keeps the profile and a deregistration deletes it, restart or not', async () => {
    let book = await open()
    await book.register('a', 'a', [MARKET], t0)
    await book.setCapabilities('a', capabilities)
    await book.record([{ venId: 'a', atMs: t0 + minute, kw: 5 }])
    const profile = book.get('a')?.profile
    assert.ok(profile !== undefined)
    await book.register('a', 'a', [MARKET], t0 + 2 * minute)
    assert.deepEqual(book.get('a')?.profile, profile)
    await book.record([{ venId: 'b', atMs: t0, kw: 1 }]).then(() => assert.fail('unknown customer recorded'), () => {})
    await book.register('b', 'b', [MARKET], t0)
    await book.setCapabilities('b', capabilities)
    await book.record([{ venId: 'b', atMs: t0 + minute, kw: 5 }])
    await book.deregister('b')
    await store.stop()

    book = await open()
    assert.deepEqual(book.get('a')?.profile, profile)
    assert.equal(book.get('b'), undefined)
    assert.equal(await store.table('profiles').get('b'), undefined)
  })
})
