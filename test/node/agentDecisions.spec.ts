import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { CustomerBook, onWindow } from '../../src/node/agentCustomers.js'
import { intraMatch, planDispatch, type DecisionComponents } from '../../src/node/agentDecisions.js'
import { ReservationLedger } from '../../src/node/ledger.js'
import { defaultConfig } from '../../src/node/config.js'
import type { InterMatchmakingPort } from '../../src/node/interMatchmaking.js'
import type { DrRequest, Measurement } from '../../src/machines/drEventTypes.js'
import { ManualClock } from '../../src/util/clock.js'

const minute = 60_000
const t0 = 1_800_000_000_000
const MARKET = 'http://adrmesh.example/mc/test'

/** Intra matchmaking never reaches for the mesh: any call to the port fails the test. */
const noFellows = new Proxy({}, { get: () => () => { throw new Error('intra matchmaking called the mesh') } }) as InterMatchmakingPort

describe('node/agentDecisions: intra matchmaking over a real customer book and ledger', () => {
  let dataDir: string
  let store: Store
  let book: CustomerBook
  let ledger: ReservationLedger
  const clock = new ManualClock(t0)

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-decisions-'))
    store = new Store({ dataDir })
    await store.start()
    book = new CustomerBook(store)
    // The agent profiles a dispatched customer against its setpoint; here only the readings before the event count.
    book.expectedKw = (_, atMs) => atMs < t0 ? 5 : undefined
    await book.start()
    ledger = new ReservationLedger({
      store,
      clock,
      capabilities: (venId, window) => {
        const caps = book.get(venId)?.capabilities
        return caps == null ? undefined : { flexUpKw: onWindow(caps.flexUpKw, caps, window), flexDownKw: onWindow(caps.flexDownKw, caps, window) }
      }
    })
    await ledger.start()
  })

  afterEach(async () => {
    await ledger.stop()
    await store.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  /**
   * One customer forecast at 5 kW that declares 2 kW down (unless `o` says otherwise), whose forecast was off by
   * ±0.2 kW over the ten readings before the event; the node is asked 3 kW down (`o.requestKw`) and dispatches what it can of
   * it. A reading of `readingKw` five minutes into the event, then intra matchmaking at the checkpoint a minute later.
   */
  async function checkpointAfter (readingKw: number, o = { baselineKw: 5, flexDownKw: 2, requestKw: 3 }) {
    clock.set(t0 - 30 * minute)
    await book.register('held', 'held', [MARKET], clock.now())
    await book.setCapabilities('held', {
      baselineKw: new Array<number>(12).fill(o.baselineKw),
      flexUpKw: new Array<number>(12).fill(0),
      flexDownKw: new Array<number>(12).fill(o.flexDownKw),
      forecastStartMs: t0 - 60 * minute,
      forecastIntervalMs: 15 * minute,
      costUpPerKwh: 0.1,
      costDownPerKwh: 0.1,
      minActivationKw: 0,
      pvKw: 0,
      batteryKwh: 0
    })
    await book.record(Array.from({ length: 10 }, (_, k) => ({ venId: 'held', atMs: t0 - 25 * minute + k * minute, kw: o.baselineKw + (k % 2 === 0 ? -0.2 : 0.2) })))
    const d: DecisionComponents = { book, ledger, port: noFellows, clock, config: { ...defaultConfig, nodeId: 'node-t' }, reliability: () => ({}) }
    const request: DrRequest = {
      eventId: 'E', modificationNumber: 0, origin: 'upstream', marketContext: MARKET, startMs: t0, intervalMs: 15 * minute,
      amountsKw: [-o.requestKw, -o.requestKw], signalType: 'delta'
    }
    const plan = await planDispatch(d, request, [])
    const setpointKw = o.baselineKw - Math.min(o.requestKw, o.flexDownKw)
    assert.deepEqual(plan.setpointsKw.held, [setpointKw, setpointKw])
    await book.record([{ venId: 'held', atMs: t0 + 5 * minute, kw: readingKw }])
    clock.set(t0 + 6 * minute)
    const m: Measurement = {
      intervalIndex: 0, final: false, checkAtMs: clock.now(), aggregateKw: readingKw, requestedKw: o.baselineKw - o.requestKw,
      customerDeviationsKw: { held: readingKw - setpointKw }, missing: []
    }
    const profile = book.get('held')?.profile
    assert.ok(profile !== undefined && profile.samples >= 10)
    return { result: await intraMatch(d, request, plan, m), sdKw: Math.sqrt(profile.varianceKw2) }
  }

  it('asks a customer holding its setpoint at the edge of what it declared for up to its forecast error more', async () => {
    const { result, sdKw } = await checkpointAfter(3)
    assert.ok(sdKw > 0.15 && sdKw < 0.25, `the profile measured the ±0.2 kW error (sd ${sdKw})`)
    const next = result.plan.setpointsKw.held?.[1] as number
    assert.ok(Math.abs(next - (3 - sdKw)) < 1e-9, `asked ${next} kW: one sd below what it declared`)
    // Without history it is trusted at the prior r = 0.9: that is what the node counts on of the stretch.
    assert.ok(Math.abs((result.residualKw[1] as number) - (1 - 0.9 * sdKw)) < 1e-9, `residual ${result.residualKw[1]}`)
  })

  it('asks nothing past its declared range of a customer stopping short of its setpoint, even within tolerance', async () => {
    const { result } = await checkpointAfter(3.3)
    assert.deepEqual(result.plan.setpointsKw.held, [3, 3])
    // It showed 85 % of its change: the next interval is expected 1.3 kW short, all of it left for fellows.
    assert.ok(Math.abs((result.residualKw[1] as number) - 1.3) < 1e-9, `residual ${result.residualKw[1]}`)
  })

  it('aims 1 % of the requested change past the request, and asks fellows for none of that aim', async () => {
    // 50 kW declaring 40 down, asked 30 down and holding its 20 kW setpoint: the request is met.
    const { result } = await checkpointAfter(20, { baselineKw: 50, flexDownKw: 40, requestKw: 30 })
    // The aim is 0.3 kW further down; at r = 0.9 the customer is asked 0.3 / 0.9 of it.
    const next = result.plan.setpointsKw.held?.[1] as number
    assert.ok(Math.abs(next - (20 - 0.3 / 0.9)) < 1e-9, `asked ${next} kW`)
    assert.ok(result.residualKw.every(r => Math.abs(r) < 1e-9), `nothing is short of the request: ${result.residualKw.join(', ')}`)
  })

  it('leaves fellows nothing of an aim its customers cannot reach while the request itself is met', async () => {
    // Asked all it declared (30 of 50 kW) and holding it: only its forecast error's stretch is left to aim with.
    const { result, sdKw } = await checkpointAfter(20, { baselineKw: 50, flexDownKw: 30, requestKw: 30 })
    assert.ok(Math.abs((result.plan.setpointsKw.held?.[1] as number) - (20 - sdKw)) < 1e-9)
    assert.ok(result.residualKw.every(r => Math.abs(r) < 1e-9), `the aim's remainder is not asked of fellows: ${result.residualKw.join(', ')}`)
  })
})
