/**
 * A dashboard served over real HTTP on loopback, in front of a view of real DR-event actors, and a DR event
 * with a deviation for it to show: customer c2 delivers 2 kW more than its setpoint from interval 1 on, so
 * the monitoring checkpoint of interval 1 violates the invariants and intra matchmaking covers it.
 */
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Dashboard, type DashboardInit } from '../../src/dashboard/dashboard.js'
import { ActorView } from './actorView.js'
import { customers5, MINUTE, request, T0 } from '../machines/harness.js'

export interface Served {
  url: string
  view: ActorView
  dashboard: Dashboard
  server: Server
  close: () => Promise<void>
}

export async function serveDashboard (init: DashboardInit = {}): Promise<Served> {
  const view = new ActorView(customers5, T0)
  const dashboard = new Dashboard(init, { view, clock: view.timers.clock })
  await dashboard.start()
  const server = http.createServer((req, res) => {
    dashboard.handle(req, res).then(served => {
      if (served) return
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'not-found', message: 'not the dashboard' }))
    }, () => { res.writeHead(500); res.end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    view,
    dashboard,
    server,
    close: async () => {
      await dashboard.stop()
      view.stop()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

export const EVENT = 'ev-dev'
export const INTERVALS = 3

/** Starts the event with c2 deviating from interval 1 on; the test advances the clock. */
export function startDeviatingEvent (view: ActorView): { endMs: number } {
  const r = request({ eventId: EVENT, amountsKw: [-5, -7.5, -5] })
  view.world.deviations.set('c2', { fromInterval: 1, kw: 2 })
  view.start(r)
  return { endMs: r.startMs + INTERVALS * r.intervalMs + MINUTE }
}
