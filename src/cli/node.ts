/**
 * `adrmesh node`: runs one virtual node (an OpenADR VTN for its customers and the JSON API on one port, and
 * a VEN toward `--upstream-url` when given, or over XMPP toward `--upstream-jid` with `--upstream-transport
 * xmpp`) until SIGINT/SIGTERM, then drains it (live events persisted, transports stopped, store closed).
 * Configuration from file, environment and flags (src/node/config.ts); structured logs (pino) on stdout, the
 * first line after start giving the API URL.
 */
import { randomInt } from 'node:crypto'
import { pino } from 'pino'
import { Agent } from '../node/agent.js'
import { ApiServer } from '../node/apiServer.js'
import { CustomerVtn, customerVtnInitOf } from '../node/customerVtn.js'
import { UpstreamVen } from '../node/upstreamVen.js'
import { WorkerPool } from '../node/workerPool.js'
import { AgentDashboardView, Dashboard } from '../dashboard/index.js'
import { AgentMesh } from '../node/mesh.js'
import { HeapCollector } from '../p2p/nodeProcess.js'
import { meshInitFromConfig } from '../node/meshConfig.js'
import { UpstreamXmppConfigError, upstreamXmppOf } from '../node/upstreamXmpp.js'
import { configHelp, ConfigError, loadConfig } from '../node/config.js'
import { ScaledClock, systemClock, type Clock } from '../util/clock.js'
import { seededRandom } from '../util/random.js'

export async function run (argv: string[]): Promise<number> {
  let loaded
  try {
    loaded = await loadConfig({ argv, env: process.env })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`adrmesh node: ${err.message}`)
    return 2
  }
  if (loaded.help) {
    console.log(configHelp())
    return 0
  }
  const config = loaded.config
  let meshInit
  try {
    meshInit = await meshInitFromConfig(config)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`adrmesh node: ${err.message}`)
    return 2
  }
  const log = pino({ level: config.logLevel, base: { nodeId: config.nodeId } })
  // The only place the wall clock enters: everything below reads this clock.
  const clock: Clock = config.timeScale === 1 ? systemClock : new ScaledClock(systemClock.now(), config.timeScale)
  const customers = new CustomerVtn(customerVtnInitOf(config), { clock, logger: log })
  let upstream: UpstreamVen | undefined
  try {
    upstream = config.upstreamTransport === 'xmpp'
      ? await upstreamXmppOf(config, { clock, logger: log, random: seededRandom(randomInt(2 ** 31)) })
      : config.upstreamUrl === undefined ? undefined : new UpstreamVen({ upstreamUrl: config.upstreamUrl, venName: config.venName }, { clock, logger: log })
  } catch (err) {
    if (!(err instanceof UpstreamXmppConfigError)) throw err
    console.error(`adrmesh node: ${err.message}`)
    return 2
  }
  // Dispatch solves run on a worker thread: the VTN's polls and the interval timers never wait on one.
  const pool = new WorkerPool({ size: 1 }, { logger: log })
  const mesh = meshInit === null ? undefined : new AgentMesh(meshInit, { clock, log: log.child({ module: 'mesh' }) })
  const agent = new Agent(config, { clock, customers, pool, logger: log, ...(upstream === undefined ? {} : { upstream }), ...(mesh === undefined ? {} : { port: mesh.port }) })
  mesh?.bind(agent)
  customers.bind(agent)
  upstream?.bind(agent)
  // The dashboard's pages and read-only exports, in front of the JSON API on the same port: with a dashboard
  // token it guards them and every GET under /api/ (it answers those before the API sees them).
  const dashboard = new Dashboard({ token: config.dashboardToken, metricsLoopbackOnly: config.metricsLoopback === 'on' }, { view: new AgentDashboardView(agent), clock })
  const server = new ApiServer({ host: config.host, port: config.port }, { agent, pull: customers, oadr: customers.handler, front: async (req, res) => await dashboard.handle(req, res), ...(mesh === undefined ? {} : { peers: mesh }) })
  try {
    await pool.start()
    await customers.start()
    await agent.start()
    await dashboard.start()
    await server.start()
    await mesh?.start({ openadrEndpoint: `${server.url}/OpenADR2/Simple/2.0b` })
    await upstream?.start()
  } catch (err) {
    log.error({ err }, 'node failed to start')
    await upstream?.stop().catch(() => {})
    await mesh?.stop().catch(() => {})
    await server.stop().catch(() => {})
    await dashboard.stop().catch(() => {})
    await agent.stop().catch(() => {})
    await customers.stop().catch(() => {})
    await pool.stop().catch(() => {})
    return 1
  }
  // Active when bin/node started this process with src/p2p/nodeProcess.ts's flags (always, unless run otherwise).
  const heap = new HeapCollector()
  heap.start()
  log.info({ url: server.url, dataDir: config.dataDir, restored: agent.liveEventIds(), upstream: config.upstreamTransport === 'xmpp' ? config.upstreamJid : config.upstreamUrl }, 'node listening')
  if (mesh !== undefined) log.info({ peerId: mesh.peerId, multiaddrs: mesh.node.multiaddrs.map(String) }, 'mesh joined')
  const signal = await new Promise<string>(resolve => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
  log.info({ signal }, 'shutting down')
  heap.stop()
  await upstream?.stop()
  await mesh?.stop()
  await server.stop()
  await dashboard.stop()
  await agent.stop()
  await customers.stop()
  await pool.stop()
  return 0
}
