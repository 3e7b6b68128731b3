/**
 * The node's configuration: defaults, then a JSON file (`--config FILE` or `ADRMESH_CONFIG`), then the
 * environment (`ADRMESH_*`), then command-line flags; a later source wins. Owns the option table that
 * drives all three sources and `adrmesh node --help`, so an option cannot exist in one and not the others.
 */
import { readFile } from 'node:fs/promises'

export type Matchmaking = 'none' | 'intra' | 'full'
export type IntraStrategyName = 'paper' | 'corrected'

export interface NodeConfig {
  /** Node id used in the mesh and the audit trail. @default 'node' */
  nodeId: string
  /** Directory of the LevelDB store and the node key. @default './adrmesh-data' */
  dataDir: string
  /** Host of the HTTP server (customer-facing VTN and JSON API). @default '127.0.0.1' */
  host: string
  /** Port of the HTTP server; 0 picks a free one. @default 8080 */
  port: number
  /** Upstream VTN base URL; absent, the node takes DR requests only from the JSON API. */
  upstreamUrl?: string
  /** This node's VEN name toward the upstream VTN. @default the node id */
  venName: string
  /** How the node reaches its upstream VTN: simple HTTP (`upstreamUrl`) or XMPP (`upstreamJid`). @default 'http' */
  upstreamTransport: 'http' | 'xmpp'
  /** XMPP: the upstream VTN's full JID; with upstreamTransport xmpp, the node registers upward over XMPP. */
  upstreamJid?: string
  /** XMPP server, `xmpps://host:port` (direct TLS). */
  xmppService?: string
  /** XMPP domain of the node's JID (also the TLS server name). */
  xmppDomain?: string
  /** XMPP account (JID localpart) of the node. */
  xmppUsername?: string
  /** XMPP password (SASL PLAIN inside TLS); absent, the client certificate authenticates (SASL EXTERNAL). */
  xmppPassword?: string
  /** PEM client certificate file for XMPP (SASL EXTERNAL). */
  xmppCert?: string
  /** PEM private key file of xmppCert. */
  xmppKey?: string
  /** PEM CA file the XMPP server's certificate must chain to; absent, the system CAs. */
  xmppCa?: string
  /** Resource of the node's full JID. @default 'openadr' */
  xmppResource?: string
  tlsCert?: string
  tlsKey?: string
  tlsCa?: string
  /** pino level. @default 'info' */
  logLevel: string
  /** @default 'full' */
  matchmaking: Matchmaking
  /** `corrected` is the strategy in kW (see src/actors/intra.ts); `paper` reproduces the paper's equations. @default 'corrected' */
  intraStrategy: IntraStrategyName
  /** Token for `POST` on the JSON API; absent, writes are refused. */
  adminToken?: string
  /** Token the dashboard's pages and every GET under `/api/` require (bearer header, or `?token=` once); absent, both are open to read. */
  dashboardToken?: string
  /** `on`: `/metrics` answers loopback clients only. @default 'on' */
  metricsLoopback: 'on' | 'off'
  /** |deviation| above this (kW) violates a monitoring invariant. @default 0.5 */
  toleranceKw: number
  /** Monitoring checkpoints per interval (customers are asked to poll at least this often). @default 4 */
  checksPerInterval: number
  /**
   * Poll period asked of customer VENs (ms of the node's clock). Keep it at most the shortest event
   * interval / checksPerInterval, so that a re-dispatch reaches customers within the interval. @default 60000
   */
  customerPollMs: number
  /**
   * How often customers send their forecast report (ms); 0: every forecast step, the period they sample it at.
   * Each forecast carries every step to its horizon, so a longer period costs the node little. @default 0
   */
  forecastReportMs: number
  /** How often customers send their capabilities report (ms); 0: every period they sample it at. @default 0 */
  capabilitiesReportMs: number
  /** A customer without a report for this long (ms) is lapsed and counts as deviating. @default 900000 */
  reportGraceMs: number
  /** Simulated ms per real ms (1 in deployment). @default 1 */
  timeScale: number
  /** Clock ms between two runs of the "Customer Clustering" timer. @default 21600000 (6 h) */
  clusterEveryMs: number
  /** Clusters at most (capped at the number of customers). @default 8 */
  clusterK: number
  /** Clock ms between two runs of the "Model Training" timer (per-customer baseline forecasters). @default 86400000 (24 h) */
  trainEveryMs: number
  /** Mesh peers to join through, comma-separated multiaddrs with /p2p/<id>; the mesh runs when set. */
  bootstrap?: string
  /** Mesh listen multiaddrs, comma-separated; the mesh runs when set. */
  p2pListen?: string
  /** File holding the private mesh key (`@libp2p/pnet` swarm-key format); absent: an open mesh. */
  meshKey?: string
  /** Peer ids allowed to connect, comma-separated; absent: anyone with the mesh key. */
  allowPeers?: string
  /** Region published in the node's directory record. @default '' */
  region?: string
  /** Discover fellows on the LAN by multicast DNS (the mesh runs when on). @default 'off' */
  mdns: 'on' | 'off'
  /** Market contexts the node serves on the mesh, comma-separated, besides its customers' ones. */
  marketContexts?: string
}

type Kind = 'string' | 'number' | 'enum'

interface Option {
  key: keyof NodeConfig
  flag: string
  env: string
  kind: Kind
  values?: readonly string[]
  /** Given more than once, the values are joined with commas. */
  repeatable?: boolean
  help: string
}

const options: Option[] = [
  { key: 'nodeId', flag: '--node-id', env: 'ADRMESH_NODE_ID', kind: 'string', help: 'node id (mesh, audit trail)' },
  { key: 'dataDir', flag: '--data-dir', env: 'ADRMESH_DATA_DIR', kind: 'string', help: 'data directory (store, node key)' },
  { key: 'host', flag: '--host', env: 'ADRMESH_HOST', kind: 'string', help: 'HTTP host for the VTN and the JSON API' },
  { key: 'port', flag: '--port', env: 'ADRMESH_PORT', kind: 'number', help: 'HTTP port (0: any free port)' },
  { key: 'upstreamUrl', flag: '--upstream-url', env: 'ADRMESH_UPSTREAM_URL', kind: 'string', help: 'upstream VTN base URL' },
  { key: 'venName', flag: '--ven-name', env: 'ADRMESH_VEN_NAME', kind: 'string', help: 'VEN name toward the upstream VTN' },
  { key: 'upstreamTransport', flag: '--upstream-transport', env: 'ADRMESH_UPSTREAM_TRANSPORT', kind: 'enum', values: ['http', 'xmpp'], help: 'transport toward the upstream VTN' },
  { key: 'upstreamJid', flag: '--upstream-jid', env: 'ADRMESH_UPSTREAM_JID', kind: 'string', help: 'upstream VTN full JID (XMPP)' },
  { key: 'xmppService', flag: '--xmpp-service', env: 'ADRMESH_XMPP_SERVICE', kind: 'string', help: 'XMPP server, xmpps://host:port' },
  { key: 'xmppDomain', flag: '--xmpp-domain', env: 'ADRMESH_XMPP_DOMAIN', kind: 'string', help: 'XMPP domain of the node JID' },
  { key: 'xmppUsername', flag: '--xmpp-username', env: 'ADRMESH_XMPP_USERNAME', kind: 'string', help: 'XMPP account of the node' },
  { key: 'xmppPassword', flag: '--xmpp-password', env: 'ADRMESH_XMPP_PASSWORD', kind: 'string', help: 'XMPP password (prefer the env or file)' },
  { key: 'xmppCert', flag: '--xmpp-cert', env: 'ADRMESH_XMPP_CERT', kind: 'string', help: 'PEM client certificate for XMPP SASL EXTERNAL' },
  { key: 'xmppKey', flag: '--xmpp-key', env: 'ADRMESH_XMPP_KEY', kind: 'string', help: 'PEM key of --xmpp-cert' },
  { key: 'xmppCa', flag: '--xmpp-ca', env: 'ADRMESH_XMPP_CA', kind: 'string', help: 'PEM CA of the XMPP server' },
  { key: 'xmppResource', flag: '--xmpp-resource', env: 'ADRMESH_XMPP_RESOURCE', kind: 'string', help: 'resource of the node JID' },
  { key: 'tlsCert', flag: '--tls-cert', env: 'ADRMESH_TLS_CERT', kind: 'string', help: 'PEM certificate (enables HTTPS)' },
  { key: 'tlsKey', flag: '--tls-key', env: 'ADRMESH_TLS_KEY', kind: 'string', help: 'PEM private key' },
  { key: 'tlsCa', flag: '--tls-ca', env: 'ADRMESH_TLS_CA', kind: 'string', help: 'PEM CA bundle for client certificates' },
  { key: 'logLevel', flag: '--log-level', env: 'ADRMESH_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'matchmaking', flag: '--matchmaking', env: 'ADRMESH_MATCHMAKING', kind: 'enum', values: ['none', 'intra', 'full'], help: 'deviation cover: none, intra only, or intra then inter' },
  { key: 'intraStrategy', flag: '--intra-strategy', env: 'ADRMESH_INTRA_STRATEGY', kind: 'enum', values: ['paper', 'corrected'], help: 'intra matchmaking strategy' },
  { key: 'adminToken', flag: '--admin-token', env: 'ADRMESH_ADMIN_TOKEN', kind: 'string', help: 'bearer token for POST on the JSON API' },
  { key: 'dashboardToken', flag: '--dashboard-token', env: 'ADRMESH_DASHBOARD_TOKEN', kind: 'string', help: 'token for the dashboard and every GET under /api/ (absent: open to read)' },
  { key: 'metricsLoopback', flag: '--metrics-loopback', env: 'ADRMESH_METRICS_LOOPBACK', kind: 'enum', values: ['on', 'off'], help: '/metrics for loopback clients only' },
  { key: 'toleranceKw', flag: '--tolerance-kw', env: 'ADRMESH_TOLERANCE_KW', kind: 'number', help: 'monitoring tolerance, kW' },
  { key: 'checksPerInterval', flag: '--checks-per-interval', env: 'ADRMESH_CHECKS_PER_INTERVAL', kind: 'number', help: 'monitoring checkpoints per interval' },
  { key: 'customerPollMs', flag: '--customer-poll-ms', env: 'ADRMESH_CUSTOMER_POLL_MS', kind: 'number', help: 'poll period asked of customer VENs, ms' },
  { key: 'forecastReportMs', flag: '--forecast-report-ms', env: 'ADRMESH_FORECAST_REPORT_MS', kind: 'number', help: 'ms between a customer\'s forecast reports (0: every forecast step)' },
  { key: 'capabilitiesReportMs', flag: '--capabilities-report-ms', env: 'ADRMESH_CAPABILITIES_REPORT_MS', kind: 'number', help: 'ms between a customer\'s capabilities reports (0: as sampled)' },
  { key: 'reportGraceMs', flag: '--report-grace-ms', env: 'ADRMESH_REPORT_GRACE_MS', kind: 'number', help: 'ms without a report before a customer lapses' },
  { key: 'clusterEveryMs', flag: '--cluster-every-ms', env: 'ADRMESH_CLUSTER_EVERY_MS', kind: 'number', help: 'ms between customer clustering runs' },
  { key: 'clusterK', flag: '--cluster-k', env: 'ADRMESH_CLUSTER_K', kind: 'number', help: 'clusters at most' },
  { key: 'trainEveryMs', flag: '--train-every-ms', env: 'ADRMESH_TRAIN_EVERY_MS', kind: 'number', help: 'ms between forecaster training runs' },
  { key: 'timeScale', flag: '--time-scale', env: 'ADRMESH_TIME_SCALE', kind: 'number', help: 'simulated ms per real ms (1: real time)' },
  { key: 'bootstrap', flag: '--bootstrap', env: 'ADRMESH_BOOTSTRAP', kind: 'string', repeatable: true, help: 'mesh multiaddr to join through (repeatable or comma list)' },
  { key: 'p2pListen', flag: '--p2p-listen', env: 'ADRMESH_P2P_LISTEN', kind: 'string', repeatable: true, help: 'mesh listen multiaddr (repeatable or comma list)' },
  { key: 'meshKey', flag: '--mesh-key', env: 'ADRMESH_MESH_KEY', kind: 'string', help: 'private mesh key file (libp2p pnet swarm key)' },
  { key: 'allowPeers', flag: '--allow-peers', env: 'ADRMESH_ALLOW_PEERS', kind: 'string', repeatable: true, help: 'peer ids allowed to connect (comma list)' },
  { key: 'region', flag: '--region', env: 'ADRMESH_REGION', kind: 'string', help: 'region in the mesh directory record' },
  { key: 'mdns', flag: '--mdns', env: 'ADRMESH_MDNS', kind: 'enum', values: ['on', 'off'], help: 'LAN discovery by multicast DNS' },
  { key: 'marketContexts', flag: '--market-contexts', env: 'ADRMESH_MARKET_CONTEXTS', kind: 'string', repeatable: true, help: 'market contexts served on the mesh (comma list)' }
]

export const defaultConfig: NodeConfig = {
  nodeId: 'node',
  dataDir: './adrmesh-data',
  host: '127.0.0.1',
  port: 8080,
  venName: 'node',
  upstreamTransport: 'http',
  logLevel: 'info',
  matchmaking: 'full',
  intraStrategy: 'corrected',
  toleranceKw: 0.5,
  checksPerInterval: 4,
  customerPollMs: 60_000,
  forecastReportMs: 0,
  capabilitiesReportMs: 0,
  reportGraceMs: 900_000,
  timeScale: 1,
  clusterEveryMs: 21_600_000,
  clusterK: 8,
  trainEveryMs: 86_400_000,
  metricsLoopback: 'on',
  mdns: 'off'
}

export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export interface ConfigSources {
  argv: string[]
  env: Record<string, string | undefined>
  /** Reads the config file; injectable for tests. @default fs.readFile */
  readFile?: (path: string) => Promise<string>
}

export interface LoadedConfig {
  config: NodeConfig
  help: boolean
}

export async function loadConfig (sources: ConfigSources): Promise<LoadedConfig> {
  const flags = parseFlags(sources.argv)
  if (flags.help) return { config: { ...defaultConfig }, help: true }
  const file = flags.values.get('--config') ?? sources.env.ADRMESH_CONFIG
  const merged: Record<string, unknown> = { ...defaultConfig }
  if (file !== undefined) Object.assign(merged, await fromFile(file, sources.readFile ?? (async p => await readFile(p, 'utf8'))))
  for (const o of options) {
    const raw = sources.env[o.env]
    if (raw !== undefined && raw !== '') merged[o.key] = coerce(o, raw, o.env)
  }
  for (const o of options) {
    const raw = flags.values.get(o.flag)
    if (raw !== undefined) merged[o.key] = coerce(o, raw, o.flag)
  }
  if (flags.values.get('--ven-name') === undefined && sources.env.ADRMESH_VEN_NAME === undefined && (merged.venName === defaultConfig.venName)) {
    merged.venName = merged.nodeId
  }
  return { config: validate(merged), help: false }
}

function parseFlags (argv: string[]): { values: Map<string, string>, help: boolean } {
  const values = new Map<string, string>()
  const known = new Set([...options.map(o => o.flag), '--config'])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return { values, help: true }
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    if (!known.has(flag)) throw new ConfigError(`unknown option '${flag}' (see --help)`)
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`)
    const previous = values.get(flag)
    values.set(flag, previous !== undefined && options.some(o => o.flag === flag && o.repeatable === true) ? `${previous},${value}` : value)
  }
  return { values, help: false }
}

async function fromFile (path: string, read: (path: string) => Promise<string>): Promise<Record<string, unknown>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await read(path))
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path}: expected a JSON object`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed)) {
    const o = options.find(x => x.key === key)
    if (o === undefined) throw new ConfigError(`config file ${path}: unknown key '${key}'`)
    out[key] = typeof value === 'string' ? coerce(o, value, `${path}: ${key}`) : value
  }
  return out
}

function coerce (o: Option, raw: string, source: string): string | number {
  if (o.kind === 'number') {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${source}: '${raw}' is not a number`)
    return n
  }
  if (o.kind === 'enum' && o.values?.includes(raw) !== true) {
    throw new ConfigError(`${source}: '${raw}' is not one of ${o.values?.join(', ') ?? ''}`)
  }
  return raw
}

function validate (c: Record<string, unknown>): NodeConfig {
  for (const o of options) {
    const v = c[o.key]
    if (v === undefined) continue
    if (o.kind === 'number' && typeof v !== 'number') throw new ConfigError(`${o.key} must be a number`)
    if (o.kind !== 'number' && typeof v !== 'string') throw new ConfigError(`${o.key} must be a string`)
    if (o.kind === 'enum' && o.values?.includes(v as string) !== true) throw new ConfigError(`${o.key}: '${String(v)}' is not one of ${o.values?.join(', ') ?? ''}`)
  }
  const config = c as unknown as NodeConfig
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new ConfigError(`port must be an integer in 0..65535, got ${config.port}`)
  if (!(config.timeScale > 0)) throw new ConfigError(`timeScale must be > 0, got ${config.timeScale}`)
  if (!Number.isInteger(config.checksPerInterval) || config.checksPerInterval < 1) throw new ConfigError('checksPerInterval must be a positive integer')
  if (!(config.toleranceKw >= 0)) throw new ConfigError('toleranceKw must be ≥ 0')
  if (!(config.customerPollMs > 0)) throw new ConfigError('customerPollMs must be > 0')
  if (!(config.forecastReportMs >= 0) || !(config.capabilitiesReportMs >= 0)) throw new ConfigError('forecastReportMs and capabilitiesReportMs must be ≥ 0')
  if (!(config.reportGraceMs > 0)) throw new ConfigError('reportGraceMs must be > 0')
  if (!(config.clusterEveryMs > 0) || !(config.trainEveryMs > 0)) throw new ConfigError('clusterEveryMs and trainEveryMs must be > 0')
  if (!Number.isInteger(config.clusterK) || config.clusterK < 1) throw new ConfigError('clusterK must be a positive integer')
  return config
}

export function configHelp (): string {
  const width = Math.max(...options.map(o => o.flag.length)) + 8
  const lines = options.map(o => {
    const def = (defaultConfig as unknown as Record<string, unknown>)[o.key]
    const values = o.values !== undefined ? ` (${o.values.join('|')})` : ''
    const suffix = def !== undefined ? ` [default: ${String(def)}]` : ''
    return `  ${(o.flag + ' VALUE').padEnd(width)} ${o.help}${values}${suffix}  env ${o.env}`
  })
  return [
    'Usage: adrmesh node [options]',
    '',
    'Runs a virtual node: a VEN toward its upstream VTN, a VTN for its customers, a JSON API on the same server.',
    'Sources, later ones winning: defaults, the JSON file of --config FILE (or ADRMESH_CONFIG), environment, flags.',
    '',
    'Options:',
    `  ${'--config FILE'.padEnd(width)} JSON file whose keys are the option names (nodeId, dataDir, port, …)`,
    ...lines,
    `  ${'--help'.padEnd(width)} this text`
  ].join('\n')
}
