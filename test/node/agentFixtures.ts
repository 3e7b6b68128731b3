/**
 * A community for agent tests: N simulated customers that follow the setpoints the node sends them (or
 * deviate as told) and post their readings to the node's JSON API over real HTTP on loopback. Either on a
 * ScaledClock (readings every few real ms), or stepped on a ManualClock (`Stepper`): time moves only when
 * every reading of the step is stored and every live event waits on a future timer, so what a test sees
 * does not depend on how loaded the machine is.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, type AgentComponents } from '../../src/node/agent.js'
import { ApiServer } from '../../src/node/apiServer.js'
import type { CustomerChannel, CustomerDispatch } from '../../src/node/agentChannels.js'
import { defaultConfig, type NodeConfig } from '../../src/node/config.js'
import { ManualClock, ScaledClock, type Clock } from '../../src/util/clock.js'
import type { CoverRequest, InterMatchmakingPort, PeerOffer } from '../../src/node/interMatchmaking.js'

export const MARKET = 'http://market.example/ctx'
export const TOKEN = 'test-admin-token'

export interface SimCustomer { venId: string, baselineKw: number, flexDownKw: number, flexUpKw: number, cost: number }

export function simCustomers (n: number): SimCustomer[] {
  return Array.from({ length: n }, (_, i) => ({ venId: `ven-${String(i).padStart(2, '0')}`, baselineKw: 5 + (i % 3), flexDownKw: 2, flexUpKw: 1, cost: 0.1 + i * 0.01 }))
}

/** The customers' side: the setpoints they were sent, and what they actually do. */
export class Community implements CustomerChannel {
  readonly dispatches = new Map<string, Map<string, CustomerDispatch>>()
  /** venId → kW added to what the customer should do, from a clock time on. */
  readonly deviations = new Map<string, { fromMs: number, kw: number, ignoreSetpoint?: boolean }>()
  readonly silent = new Set<string>()
  readonly optOut = new Set<string>()
  readonly cancelled: Array<{ venId: string, eventId: string }> = []
  private timer: NodeJS.Timeout | undefined

  constructor (readonly customers: SimCustomer[], readonly clock: Clock) {}

  async distribute (venId: string, dispatch: CustomerDispatch): Promise<'optIn' | 'optOut'> {
    if (this.optOut.has(venId)) return 'optOut'
    const mine = this.dispatches.get(venId) ?? new Map<string, CustomerDispatch>()
    const had = mine.get(dispatch.eventId)
    if (had === undefined || had.modificationNumber < dispatch.modificationNumber || (had.modificationNumber === dispatch.modificationNumber && had.revision <= dispatch.revision)) {
      mine.set(dispatch.eventId, dispatch)
    }
    this.dispatches.set(venId, mine)
    return 'optIn'
  }

  async cancel (venId: string, eventId: string): Promise<void> {
    this.cancelled.push({ venId, eventId })
    this.dispatches.get(venId)?.delete(eventId)
  }

  /** What the customer draws now: baseline plus every active event's change, plus its deviation. */
  flowKw (c: SimCustomer, nowMs: number): number {
    let kw = c.baselineKw
    const d = this.deviations.get(c.venId)
    const ignore = d !== undefined && nowMs >= d.fromMs && d.ignoreSetpoint === true
    if (!ignore) {
      for (const dispatch of this.dispatches.get(c.venId)?.values() ?? []) {
        const t = Math.floor((nowMs - dispatch.startMs) / dispatch.intervalMs)
        const setpoint = dispatch.setpointsKw[t]
        if (t >= 0 && setpoint !== undefined) kw += setpoint - c.baselineKw
      }
    }
    if (d !== undefined && nowMs >= d.fromMs) kw += d.kw
    return kw
  }

  /** Posts every customer's reading at the clock's time; `strict` fails on a refused post. */
  async reportOnce (baseUrl: string, strict = false): Promise<void> {
    const now = this.clock.now()
    await Promise.all(this.customers.filter(c => !this.silent.has(c.venId)).map(async c => {
      const r = await post(baseUrl, `/api/customers/${c.venId}/reports`, { readings: [{ atMs: now, kw: this.flowKw(c, now) }] })
        .catch(err => { if (strict) throw err as Error })
      if (strict && r !== undefined && r.status !== 200) throw new Error(`report of ${c.venId}: ${r.status}`)
    }))
  }

  /** Posts every customer's reading every `everyRealMs` to the node's API. */
  startReporting (baseUrl: string, everyRealMs: number): void {
    this.timer = setInterval(() => { void this.reportOnce(baseUrl) }, everyRealMs)
  }

  stopReporting (): void { clearInterval(this.timer) }
}

export async function post (baseUrl: string, path: string, body: unknown, token: string | null = TOKEN): Promise<{ status: number, json: any }> {
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.status, json: await res.json() }
}

export async function get (baseUrl: string, path: string): Promise<{ status: number, json: any }> {
  const res = await fetch(baseUrl + path)
  return { status: res.status, json: await res.json() }
}

export interface Running {
  agent: Agent
  server: ApiServer
  url: string
  community: Community
  clock: ScaledClock | ManualClock
  dataDir: string
  stop: () => Promise<void>
}

export async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'adrmesh-agent-'))
}

/** Starts an agent on `dataDir` with its API on a free loopback port. */
export async function startNode (dataDir: string, community: Community, clock: ScaledClock | ManualClock, overrides: Partial<NodeConfig> = {},
  components: Partial<AgentComponents> = {}): Promise<Running> {
  // The community's customers take a new setpoint at once (no poll): a short pickup is what the node should plan for.
  const config: NodeConfig = {
    ...defaultConfig, nodeId: 'node-a', venName: 'node-a', dataDir, port: 0, adminToken: TOKEN, checksPerInterval: 2, reportGraceMs: 20_000, toleranceKw: 0.5, customerPollMs: 1_000, ...overrides
  }
  const agent = new Agent(config, { ...components, clock, customers: community })
  await agent.start()
  const server = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent })
  await server.start()
  return {
    agent, server, url: server.url, community, clock, dataDir,
    stop: async () => { community.stopReporting(); await server.stop(); await agent.stop() }
  }
}

export async function enrol (url: string, customers: SimCustomer[]): Promise<void> {
  for (const c of customers) {
    const r = await post(url, '/api/customers', {
      venId: c.venId, venName: c.venId, marketContexts: [MARKET],
      capabilities: { baselineKw: [c.baselineKw], flexDownKw: [c.flexDownKw], flexUpKw: [c.flexUpKw], costDownPerKwh: c.cost, costUpPerKwh: c.cost }
    })
    if (r.status !== 200) throw new Error(`enrol ${c.venId}: ${r.status} ${JSON.stringify(r.json)}`)
  }
}

export async function waitFor<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** States in which a DR-event actor waits on a durable timer and nothing else. */
const waitingStates = new Set(['declined', 'scheduled.waitingStart', 'active.monitoring.waiting'])

/**
 * Drives a node on a ManualClock: each step first fires the timers due at the new time (so a checkpoint
 * sees the readings taken before it), lets every live event run until it waits on a timer in the future,
 * then has the customers report at that time.
 */
export class Stepper {
  constructor (readonly node: Running, readonly clock: ManualClock, readonly stepMs: number) {}

  /** Resolves once every live event is finished or waits on a timer due after now, with its transitions stored. */
  async quiescent (): Promise<void> {
    const agent = this.node.agent
    await waitFor('the node to settle', async () => {
      for (const id of agent.liveEventIds()) {
        await agent.settled(id)
        const state = agent.event(id)?.state ?? ''
        if (!agent.liveEventIds().includes(id)) continue
        if (!waitingStates.has(state)) return undefined
        const armed = agent.scheduler.pending().some(t => t.kind === 'dr-wait' && t.id.startsWith(`dr-wait:${id}:`) && t.dueMs > this.clock.now())
        if (!armed) return undefined
      }
      return true
    }, 30_000)
  }

  async step (): Promise<void> {
    this.clock.advance(this.stepMs)
    await this.node.agent.scheduler.runDue()
    await this.quiescent()
    await this.node.community.reportOnce(this.node.url, true)
  }

  /** Steps until `done` holds (checked after each step), at most `maxSteps` times. */
  async until<T> (what: string, done: () => Promise<T | undefined> | T | undefined, maxSteps = 1_000): Promise<T> {
    for (let i = 0; i < maxSteps; i++) {
      const v = await done()
      if (v !== undefined) return v
      await this.step()
    }
    throw new Error(`${what} did not happen within ${maxSteps} steps of ${this.stepMs} ms`)
  }
}

/**
 * Fellow nodes for tests of the agent's own inter-matchmaking decisions (the libp2p side is tested in
 * mesh.spec.ts): each advertises room and accepts everything asked; every request is recorded.
 */
export function acceptingFellows (peerIds: string[]): InterMatchmakingPort & { asked: Array<{ peerId: string, request: CoverRequest }> } {
  const asked: Array<{ peerId: string, request: CoverRequest }> = []
  const offer = (peerId: string): PeerOffer => ({ peerId, flexUpKw: new Array<number>(24).fill(10), flexDownKw: new Array<number>(24).fill(10), expiresAtMs: Number.MAX_SAFE_INTEGER })
  return {
    asked,
    queryFlexibility: async () => peerIds.map(offer),
    requestCover: async (peerId, request) => {
      asked.push({ peerId, request })
      return { requestId: request.requestId, peerId, accepted: true, committedKw: request.amountsKw }
    },
    reportOutcome: async () => {},
    advertisedOffers: () => peerIds.map(offer),
    onCoverRequest: () => {},
    onOutcome: () => {}
  }
}
