import assert from 'node:assert/strict'
import { Agent } from '../../src/node/agent.js'
import type { CustomerDispatch } from '../../src/node/agentChannels.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import type { DrRequest } from '../../src/machines/drEventTypes.js'
import { VirtualClock } from '../../src/sim/virtualClock.js'
import { timerAt, type Clock } from '../../src/util/clock.js'
import { Community, MARKET, removeDir, simCustomers, tempDir } from '../node/agentFixtures.js'

const INTERVAL = 60_000
/** Customers poll, answer and report every 30 s, the node checks every 30 s: answers come when a checkpoint is due. */
const POLL = 30_000
const t0 = Date.UTC(2026, 0, 1, 12)

/** Customers that answer a dispatch when they next poll, in their own turn of the instant, as the simulator's VENs do. */
class PollingCommunity extends Community {
  private readonly waiting = new Map<string, number>()

  constructor (customers: ReturnType<typeof simCustomers>, private readonly turn: Clock) { super(customers, turn) }

  override async distribute (venId: string, dispatch: CustomerDispatch): Promise<'optIn' | 'optOut'> {
    this.waiting.set(dispatch.eventId, (this.waiting.get(dispatch.eventId) ?? 0) + 1)
    const nextPoll = (Math.floor(this.turn.now() / POLL) + 1) * POLL
    await new Promise<void>(resolve => timerAt(this.turn, nextPoll, () => { resolve() }))
    this.waiting.set(dispatch.eventId, (this.waiting.get(dispatch.eventId) ?? 1) - 1)
    return await super.distribute(venId, dispatch)
  }

  awaitingAnswers (eventId: string): boolean { return (this.waiting.get(eventId) ?? 0) > 0 }
}

describe('sim turns: an event resumed by its customers\' answers checks in its node\'s turn', function () {
  this.timeout(60_000)
  let dir = ''
  let agent: Agent | undefined

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await agent?.stop()
    agent = undefined
    await removeDir(dir)
  })

  it('every checkpoint reads the readings its customers reported at that instant, however slowly they are stored', async () => {
    const clock = new VirtualClock({ startMs: t0, stepTimeoutMs: 20_000 })
    const customersTurn = clock.phase(1)
    const customers = simCustomers(12)
    const community = new PollingCommunity(customers, customersTurn)
    const config: NodeConfig = {
      ...defaultConfig, nodeId: 'node-a', venName: 'node-a', dataDir: dir, matchmaking: 'intra', checksPerInterval: INTERVAL / POLL,
      customerPollMs: POLL, reportGraceMs: 600_000, toleranceKw: 0.2
    }
    agent = new Agent(config, { clock: clock.phase(2), customers: community, oneEventAtATime: true })
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
    // The customers' readings take real time to reach the book (as a loaded machine's store does); the
    // clock waits for them, but only within the customers' turn.
    const reported = new Set<number>()
    const report = async (): Promise<void> => {
      const now = clock.now()
      timerAt(customersTurn, now + POLL, report)
      await new Promise(resolve => setTimeout(resolve, 100))
      await a.book.record(customers.map(c => ({ venId: c.venId, atMs: now, kw: community.flowKw(c, now) })))
      reported.add(now)
    }
    timerAt(customersTurn, t0 + POLL, report)

    // Every look the event takes at its customers' readings, and whether those of the instant were in.
    const early: string[] = []
    let looks = 0
    const readings = a.book.readings.bind(a.book)
    a.book.readings = (venId, fromMs, toMs) => {
      const now = clock.now()
      if (a.event('ev')?.status === 'active' && now >= t0 + 120_000) {
        looks++
        if (now % POLL === 0 && !reported.has(now)) early.push(`${a.event('ev')?.state ?? ''} at +${(now - t0) / 1000} s`)
      }
      return readings(venId, fromMs, toMs)
    }
    // A customer ignoring its setpoint makes every checkpoint dispatch again, so the event waits for answers each time.
    community.deviations.set('ven-00', { fromMs: t0 + 120_000, kw: 2, ignoreSetpoint: true })
    await a.submit({ eventId: 'ev', modificationNumber: 0, origin: 'upstream', marketContext: MARKET, startMs: t0 + 120_000, intervalMs: INTERVAL, amountsKw: [-6, -6, -6], signalType: 'delta' })
    await clock.runUntil(() => a.liveEventIds().length === 0, t0 + 900_000, 'the event')
    assert.equal(a.event('ev')?.state, 'completed')
    assert.ok(a.event('ev')?.intervals.some(r => r.intraCoveredKw !== 0), 'the deviating customer made the event dispatch again')
    assert.ok(looks > 0, 'the event read its customers\' readings')
    assert.deepEqual([...new Set(early)], [], 'checkpoints read the readings before those of their instant were stored')
  })
})
