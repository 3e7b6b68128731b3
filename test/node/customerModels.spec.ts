import assert from 'node:assert/strict'
import { ManualClock } from '../../src/util/clock.js'
import { WorkerPool } from '../../src/node/workerPool.js'
import { forecastBaseline } from '../../src/actors/forecast.js'
import type { Reading } from '../../src/node/agentCustomers.js'
import { Community, get, MARKET, post, removeDir, simCustomers, startNode, tempDir, type Running } from './agentFixtures.js'

const HOUR = 3_600_000
const QUARTER = 900_000
const START = Date.UTC(2026, 0, 5)

describe('customer models: the clustering and training timers of the node', function () {
  this.timeout(30_000)
  let node: Running | undefined
  let pool: WorkerPool | undefined
  let dir = ''

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await pool?.stop()
    pool = undefined
    await removeDir(dir)
  })

  async function boot (clock: ManualClock) {
    pool = new WorkerPool({ size: 1 })
    await pool.start()
    const customers = simCustomers(12)
    node = await startNode(dir, new Community(customers, clock), clock, { clusterEveryMs: HOUR, trainEveryMs: 2 * HOUR, clusterK: 2 }, { pool })
    // Two kinds of customer: small consumers, and prosumers with PV and a battery, far apart.
    for (const [i, c] of customers.entries()) {
      const prosumer = i % 2 === 1
      const r = await post(node.url, '/api/customers', {
        venId: c.venId, venName: c.venId, marketContexts: [MARKET],
        capabilities: {
          baselineKw: prosumer ? [-3, -4, 2, 6] : [1, 1.2, 1.1, 1], flexDownKw: [c.flexDownKw], flexUpKw: [c.flexUpKw], costDownPerKwh: c.cost, costUpPerKwh: c.cost,
          pvKw: prosumer ? 8 : 0, batteryKwh: prosumer ? 10 : 0, forecastIntervalMs: 6 * HOUR, forecastStartMs: START
        }
      })
      assert.equal(r.status, 200, JSON.stringify(r.json))
    }
    return node
  }

  it('stores both recurring timers before they fire, clusters on the pool when the clustering timer is due, and shows the cluster in /api/customers', async () => {
    const clock = new ManualClock(START)
    const n = await boot(clock)
    assert.equal(n.agent.scheduler.get('models:cluster')?.everyMs, HOUR)
    assert.equal(n.agent.scheduler.get('models:train')?.everyMs, 2 * HOUR)
    const before = await get(n.url, '/api/customers')
    assert.ok(before.json.every((c: { cluster: unknown }) => c.cluster === null))

    clock.advance(HOUR)
    await n.agent.scheduler.runDue()
    const after = await get(n.url, '/api/customers')
    const clusterOf = new Map<string, number>(after.json.map((c: { venId: string, cluster: number }) => [c.venId, c.cluster]))
    const consumers = new Set([...clusterOf].filter(([id]) => Number(id.slice(4)) % 2 === 0).map(([, k]) => k))
    const prosumers = new Set([...clusterOf].filter(([id]) => Number(id.slice(4)) % 2 === 1).map(([, k]) => k))
    assert.equal(consumers.size, 1, 'every consumer in one cluster')
    assert.equal(prosumers.size, 1, 'every prosumer in one cluster')
    assert.notDeepEqual([...consumers], [...prosumers])
    // The timer moved on to its next occurrence, in the same batch as the stored result.
    assert.equal(n.agent.scheduler.get('models:cluster')?.dueMs, START + 2 * HOUR)

    // The result survives a restart, and the timer keeps its grid.
    await n.stop()
    node = await startNode(dir, n.community, clock, { clusterEveryMs: HOUR, trainEveryMs: 2 * HOUR, clusterK: 2 }, { pool })
    assert.equal(node.agent.models.clusterOf('ven-00'), clusterOf.get('ven-00'))
    assert.equal(node.agent.scheduler.get('models:cluster')?.dueMs, START + 2 * HOUR)
  })

  it('trains a forecaster per customer with a season of history, and dispatch counts its baseline where the reported forecast has run out', async () => {
    const clock = new ManualClock(START)
    const n = await boot(clock)
    // Eight days of quarter-hourly readings for ven-00: 2 kW by night, 5 kW from 08:00 to 20:00.
    const readings: Reading[] = []
    for (let t = START; t < START + 8 * 24 * HOUR; t += QUARTER) {
      const hour = new Date(t).getUTCHours()
      readings.push({ venId: 'ven-00', atMs: t, kw: hour >= 8 && hour < 20 ? 5 : 2 })
    }
    await n.agent.book.record(readings)
    // ven-02 has only a day: not enough for a weekly season, so no model.
    await n.agent.book.record(readings.slice(0, 96).map(r => ({ ...r, venId: 'ven-02' })))
    clock.set(START + 8 * 24 * HOUR + 1)
    await n.agent.scheduler.runDue()

    const model = n.agent.models.forecaster('ven-00')
    assert.ok(model !== undefined, 'ven-00 has a trained forecaster')
    assert.equal(n.agent.models.forecaster('ven-02'), undefined)
    const noon = Date.UTC(2026, 0, 13, 12)
    const night = Date.UTC(2026, 0, 13, 2)
    assert.ok(Math.abs((forecastBaseline(model, noon, 1)[0] ?? 0) - 5) < 0.5)
    assert.ok(Math.abs((forecastBaseline(model, night, 1)[0] ?? 0) - 2) < 0.5)

    // The reported four-value forecast ended on day one: a window on day nine takes the trained baseline.
    const c = n.agent.book.get('ven-00')
    assert.ok(c !== undefined)
    const window = { startMs: night, intervalMs: 10 * HOUR, intervals: 2 }
    assert.deepEqual(n.agent.book.windowBaseline(c, window).map(v => Math.round(v)), [2, 5])
    // Inside the reported forecast's span, the report wins.
    assert.deepEqual(n.agent.book.windowBaseline(c, { startMs: START, intervalMs: 6 * HOUR, intervals: 2 }), [1, 1.2])
    // And the stored model is back after a restart.
    await n.stop()
    node = await startNode(dir, n.community, clock, { clusterEveryMs: HOUR, trainEveryMs: 2 * HOUR, clusterK: 2 }, { pool })
    assert.deepEqual(node.agent.models.forecaster('ven-00'), model)
  })
})
