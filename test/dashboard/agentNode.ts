/**
 * A real node for the dashboard: the agent (LevelDB, durable scheduler, real decisions) with its JSON API,
 * simulated customers posting readings over HTTP (test/node/agentFixtures.ts), and the dashboard over an
 * `AgentDashboardView`, served on its own loopback port. A delta event of three 60 s intervals runs on a
 * ScaledClock (25 simulated ms per real ms), with one customer ignoring its setpoint from interval 1.
 */
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Dashboard, type DashboardInit } from '../../src/dashboard/dashboard.js'
import { AgentDashboardView } from '../../src/dashboard/agentView.js'
import { ScaledClock } from '../../src/util/clock.js'
import { Community, enrol, MARKET, post, removeDir, simCustomers, startNode, tempDir, waitFor, type Running } from '../node/agentFixtures.js'

export const SCALE = 25
export const INTERVAL = 60_000

export interface AgentDashboard {
  node: Running
  view: AgentDashboardView
  dashboard: Dashboard
  url: string
  close: () => Promise<void>
}

export async function startAgentDashboard (init: DashboardInit = {}): Promise<AgentDashboard> {
  const dir = await tempDir()
  const clock = new ScaledClock(Date.UTC(2026, 0, 1, 12), SCALE)
  const customers = simCustomers(8)
  const community = new Community(customers, clock)
  const node = await startNode(dir, community, clock)
  await enrol(node.url, customers)
  community.startReporting(node.url, 80)
  const view = new AgentDashboardView(node.agent, { pollMs: 50 })
  const dashboard = new Dashboard(init, { view, clock })
  await dashboard.start()
  const server: Server = http.createServer((req, res) => {
    dashboard.handle(req, res).then(served => {
      if (served) return
      res.writeHead(404)
      res.end()
    }, () => { res.writeHead(500); res.end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    node,
    view,
    dashboard,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await dashboard.stop()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      await node.stop()
      await removeDir(dir)
    }
  }
}

/** Submits the event; once dispatched, the first customer dispatched ignores its setpoint from interval 1. */
export async function runDeviatingEvent (a: AgentDashboard, eventId: string, startInMs = 4_000): Promise<{ startMs: number }> {
  const body = { eventId, marketContext: MARKET, startMs: a.node.clock.now() + startInMs, intervalMs: INTERVAL, amountsKw: [-6, -6, -6], signalType: 'delta' }
  const submitted = await post(a.node.url, '/api/events', body)
  if (submitted.status !== 200) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.json)}`)
  await waitFor('dispatch', () => a.node.community.dispatches.size > 0 ? true : undefined)
  const deviator = [...a.node.community.dispatches.keys()][0] as string
  a.node.community.deviations.set(deviator, { fromMs: body.startMs + INTERVAL, kw: 0, ignoreSetpoint: true })
  return { startMs: body.startMs }
}

export async function finished (a: AgentDashboard, eventId: string): Promise<void> {
  await waitFor(`event ${eventId} to finish`, () => a.node.agent.event(eventId)?.status === 'done' ? true : undefined, 30_000)
}
