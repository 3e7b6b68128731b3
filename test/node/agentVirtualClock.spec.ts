import assert from 'node:assert/strict'
import { Agent } from '../../src/node/agent.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import type { DrRequest } from '../../src/machines/drEventTypes.js'
import { VirtualClock } from '../../src/sim/virtualClock.js'
import { timerAt } from '../../src/util/clock.js'
import { Community, MARKET, removeDir, simCustomers, tempDir } from './agentFixtures.js'

const INTERVAL = 60_000
const t0 = Date.UTC(2026, 0, 1, 12)

describe('agent on a virtual clock: busy() and one event at a time', function () {
  this.timeout(60_000)
  let dir = ''
  let agent: Agent | undefined

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await agent?.stop()
    agent = undefined
    await removeDir(dir)
  })

  it('is busy while an event decides and plans, idle while it waits; two events due together run their checkpoints one after the other', async () => {
    const clock = new VirtualClock({ startMs: t0, stepTimeoutMs: 20_000 })
    const customers = simCustomers(20)
    const community = new Community(customers, clock)
    const config: NodeConfig = { ...defaultConfig, nodeId: 'node-a', venName: 'node-a', dataDir: dir, matchmaking: 'intra', checksPerInterval: 2, reportGraceMs: 600_000, toleranceKw: 0.5 }
    agent = new Agent(config, { clock, customers: community, oneEventAtATime: true })
    const a = agent
    clock.addProbe(() => a.busy())
    await a.start()
    for (const c of customers) {
      await a.book.register(c.venId, c.venId, [MARKET], t0)
      await a.book.setCapabilities(c.venId, {
        baselineKw: [c.baselineKw], flexUpKw: [c.flexUpKw], flexDownKw: [c.flexDownKw], forecastStartMs: 0, forecastIntervalMs: 900_000,
        costUpPerKwh: c.cost, costDownPerKwh: c.cost, minActivationKw: 0, pvKw: 0, batteryKwh: 0
      })
    }
    // The customers report every 15 s of clock time, before the node's checkpoints at the same instant.
    const report = async (): Promise<void> => {
      timerAt(clock, clock.now() + 15_000, report)
      await a.book.record(customers.map(c => ({ venId: c.venId, atMs: clock.now(), kw: community.flowKw(c, clock.now()) })))
    }
    timerAt(clock, t0 + 15_000, report)

    // A checkpoint's measurements and decisions are work that needs no clock time: watch each event's state
    // at every turn of the event loop, and count the turns in which both were mid-checkpoint.
    let overlaps = 0
    let midWork = 0
    const working = (id: string): boolean => /measuring|intra|inter/.test(a.event(id)?.state ?? '')
    const watch = setInterval(() => {
      if (working('ev-a') && working('ev-b')) overlaps++
      if (working('ev-a') || working('ev-b')) midWork++
    }, 0)

    const request = (eventId: string, amountsKw: number[]): DrRequest =>
      ({ eventId, modificationNumber: 0, origin: 'upstream', marketContext: MARKET, startMs: t0 + 60_000, intervalMs: INTERVAL, amountsKw, signalType: 'delta' })
    const submitted = a.submit(request('ev-a', [-12, -12, -12]))
    assert.ok(a.busy().some(b => b.includes('ev-a')), 'a new event is busy deciding')
    await submitted
    await a.submit(request('ev-b', [-8, -8]))
    // The answer is out; planning and dispatch go on until the clock's settle sees the events waiting.
    await clock.settle()
    assert.deepEqual(a.busy(), [], 'both events wait for their start')
    assert.deepEqual(a.events().map(e => e.state), ['scheduled.waitingStart', 'scheduled.waitingStart'])

    community.deviations.set('ven-00', { fromMs: t0 + 60_000, kw: 3, ignoreSetpoint: true })
    await clock.runUntil(() => a.liveEventIds().length === 0, t0 + 600_000, 'both events')
    clearInterval(watch)
    for (const id of ['ev-a', 'ev-b']) assert.equal(a.event(id)?.state, 'completed', id)
    assert.ok(a.event('ev-a')?.intervals.some(r => r.intraCoveredKw !== 0), 'the deviating customer made ev-a act')
    assert.equal(overlaps, 0, `both events mid-checkpoint in ${overlaps} of ${midWork} turns`)
    assert.deepEqual(a.busy(), [])
  })
})
