/**
 * A node as a VEN over XMPP: the node (CustomerVtn, Agent, the upstream built from its configuration, API on
 * one port) registers with a utility's `Vtn` served over a real Prosody, takes a LOAD_DISPATCH event,
 * answers optIn, dispatches its customer sites (A's Ven over HTTP) and reports its aggregate upward; the
 * server is restarted mid-session and an event created while it is down and every report still arrive,
 * once each. Also: pushes from another account are refused, a half-given XMPP configuration is an error, and
 * `adrmesh node --upstream-transport xmpp` as a real process registers and answers an event. The first
 * describe is one scenario in steps: its tests run in order on shared state.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { Agent } from '../../src/node/agent.js'
import { ApiServer } from '../../src/node/apiServer.js'
import { defaultConfig, loadConfig, type NodeConfig } from '../../src/node/config.js'
import { CustomerVtn } from '../../src/node/customerVtn.js'
import { UpstreamXmppConfigError, upstreamXmppOf, type UpstreamXmpp } from '../../src/node/upstreamXmpp.js'
import { decodePayload, encodePayload } from '../../src/openadr/codec/index.js'
import { powerRealKw } from '../../src/openadr/model/common.js'
import type { StoredReport } from '../../src/openadr/vtn/types.js'
import { Vtn } from '../../src/openadr/vtn/vtn.js'
import { ScaledClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { XmppEndpoint } from '../../src/xmpp/xmppEndpoint.js'
import { startProsody, type ProsodyServer } from '../helpers/prosody.js'
import { MARKET, post, removeDir, tempDir, TOKEN, waitFor } from './agentFixtures.js'
import { finished, INTERVAL, POLL, SCALE, Site } from './agentOpenadrRig.js'

const silent = pino({ level: 'silent' })
const fast = { ackTimeoutMs: 3_000, reconnect: { initialDelayMs: 50, maxDelayMs: 400 }, resend: { initialDelayMs: 50, maxDelayMs: 400 } }

describe('node as a VEN over XMPP toward an upstream VTN', function () {
  this.timeout(90_000)
  let server: ProsodyServer
  let dir = ''
  let clock: ScaledClock
  let utilityEndpoint: XmppEndpoint
  let utility: Vtn
  let upstream: UpstreamXmpp
  let customers: CustomerVtn
  let agent: Agent
  let api: ApiServer
  let sites: Site[] = []
  let config: NodeConfig

  before(async () => {
    server = await startProsody({ users: { utility: 'utility-pw', 'node-a': 'node-a-pw', mallory: 'mallory-pw' } })
    dir = await tempDir()
    clock = new ScaledClock(Date.UTC(2026, 0, 1, 12), SCALE)
    utilityEndpoint = new XmppEndpoint({ service: server.service, domain: server.domain, username: 'utility', password: 'utility-pw', ca: server.caPem, ...fast },
      { random: seededRandom(1), handler: async (s, x, p) => await utility.handler(s, x, p) })
    utility = new Vtn({ vtnID: 'utility', pollFreqMs: POLL, transports: ['xmpp'] }, { clock, senderFor: jid => utilityEndpoint.senderTo(jid) })
    await utilityEndpoint.start()
    await utility.start()

    const caPath = join(dir, 'xmpp-ca.pem')
    await writeFile(caPath, server.caPem)
    // The node's configuration as `adrmesh node --upstream-transport xmpp …` reads it.
    const loaded = await loadConfig({
      argv: ['--node-id', 'node-a', '--upstream-transport', 'xmpp', '--upstream-jid', utilityEndpoint.jid, '--xmpp-service', server.service,
        '--xmpp-domain', server.domain, '--xmpp-username', 'node-a', '--xmpp-ca', caPath],
      env: { ADRMESH_XMPP_PASSWORD: 'node-a-pw' }
    })
    config = { ...loaded.config, dataDir: dir, port: 0, adminToken: TOKEN, checksPerInterval: 2, customerPollMs: POLL, reportGraceMs: 25_000 }
    customers = new CustomerVtn({ vtnID: 'node-a', dataDir: dir, pollFreqMs: POLL }, { clock, logger: silent })
    upstream = await upstreamXmppOf(config, { clock, logger: silent, random: seededRandom(2) }, { telemetryPeriodMs: POLL, delays: fast })
    agent = new Agent(config, { clock, customers, upstream })
    customers.bind(agent)
    upstream.bind(agent)
    await customers.start()
    await agent.start()
    api = new ApiServer({ host: '127.0.0.1', port: 0 }, { agent, pull: customers, oadr: customers.handler })
    await api.start()
    await upstream.start()
  })

  after(async () => {
    await Promise.allSettled(sites.map(async s => { await s.ven.stop() }))
    await upstream?.stop()
    await api?.stop()
    await agent?.stop()
    await customers?.stop()
    await utility?.stop()
    await utilityEndpoint?.stop()
    await server?.dispose()
    await removeDir(dir)
  })

  const dispatch = (eventID: string, setpointsKw: number[], startInMs = 30_000): Parameters<Vtn['createEvent']>[0] => ({
    eventID,
    marketContext: MARKET,
    dtstartMs: clock.now() + startInMs,
    signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'agg', itemBase: powerRealKw(), intervals: setpointsKw.map((v, i) => ({ durationMs: INTERVAL, uid: String(i), values: [v] })) }],
    targets: { venIDs: [upstream.ven.venID as string] }
  })

  it('registers over XMPP in the push model with its JID, takes a LOAD_DISPATCH event, answers optIn, follows it and reports upward', async () => {
    const venID = upstream.ven.venID as string
    const registration = utility.registration(venID)
    assert.equal(registration?.httpPullModel, false)
    assert.equal(registration?.transportAddress, upstream.endpoint.jid)
    assert.equal(upstream.endpoint.jid, `node-a@${server.domain}/openadr`)

    sites = Array.from({ length: 6 }, (_, i) => new Site({
      venName: `site-${i}`, baselineKw: 5 + (i % 3), flexDownKw: 2, flexUpKw: 1, cost: 0.1 + i * 0.01, pvKw: 0
    }, api.url, clock))
    await Promise.all(sites.map(async s => { await s.ven.start() }))
    await waitFor('customers to report capabilities', () => {
      const all = agent.book.all()
      return all.length === 6 && all.every(c => c.capabilities !== null && c.marketContexts.includes(MARKET)) ? true : undefined
    })
    await waitFor('the utility to have its report requests confirmed', () => utility.reportRequests(venID).some(r => r.confirmed) ? true : undefined)

    // Σ baselines = 2·5 + 2·6 + 2·7 = 36 kW; each site can shed 2 kW.
    await utility.createEvent(dispatch('ev-x1', [30, 33]))
    const answer = await waitFor('the node to answer upstream', () => utility.eventResponses('ev-x1')[0])
    assert.equal(answer.optType, 'optIn')
    assert.equal(answer.venID, venID)
    const e = await finished(api.url, 'ev-x1')
    assert.equal(e.state, 'completed')
    for (const i of e.intervals) assert.ok(Math.abs(i.deviationKw) <= 0.5, `interval ${i.index}: delivered ${i.deliveredKw}, requested ${i.requestedKw}`)
    assert.ok(customers.vtn.events().some(ev => ev.eventDescriptor.eventID.startsWith('ev-x1#')), 'the event reached the customers over OpenADR')

    const usage = (await utility.readReports(venID)).flatMap(s => s.report.intervals ?? []).flatMap(i => i.payloads).filter(p => p.rID === 'usage').map(p => p.value as number)
    assert.ok(usage.some(v => v <= 33.5) && usage.some(v => v >= 35.5), `the aggregate went down during the event and back: ${usage.join(', ')}`)
  })

  it('the XMPP server restarts mid-session: the node reconnects; an event created while it was down and every report arrive, once each', async () => {
    const venID = upstream.ven.venID as string
    const reports: StoredReport[] = []
    utility.on('report', r => { reports.push(r) })
    await waitFor('reports to flow', () => reports.length >= 2 ? true : undefined)
    const sessions = upstream.endpoint.sessions

    await server.stop()
    await waitFor('the node to notice', () => upstream.endpoint.isOnline ? undefined : true)
    const before = reports.length
    await utility.createEvent(dispatch('ev-x2', [31, 31], 60_000))
    await new Promise(resolve => setTimeout(resolve, 800))
    assert.equal(utility.eventResponses('ev-x2').length, 0, 'nothing answered while the server is down')
    await server.start()

    const answer = await waitFor('the node to answer the event sent during the outage', () => utility.eventResponses('ev-x2')[0], 30_000)
    assert.equal(answer.optType, 'optIn')
    assert.ok(upstream.endpoint.sessions > sessions, 'the node reconnected')
    const e = await finished(api.url, 'ev-x2')
    assert.equal(e.state, 'completed')
    await waitFor('reports after the outage', () => reports.length >= before + 6 ? true : undefined, 30_000)

    // eiReportID is `<reportRequestID>-<n>` per request: each request's numbers run 0..k without a gap or repeat.
    const stored = await utility.readReports(venID)
    const byRequest = new Map<string, number[]>()
    for (const s of stored) {
      const id = s.report.eiReportID ?? ''
      const cut = id.lastIndexOf('-')
      const list = byRequest.get(id.slice(0, cut)) ?? []
      list.push(Number(id.slice(cut + 1)))
      byRequest.set(id.slice(0, cut), list)
    }
    assert.ok(byRequest.size > 0)
    for (const [request, numbers] of byRequest) {
      const sorted = [...numbers].sort((a, b) => a - b)
      assert.deepEqual(sorted, sorted.map((_, i) => i), `request ${request}: reports ${sorted.join(',')}`)
    }
    assert.equal(utility.eventResponses('ev-x1').length, 1, 'ev-x1 answered once')
    assert.equal(utility.eventResponses('ev-x2').length, 1, 'ev-x2 answered once')
  })

  it('refuses a push from an account that is not its VTN (463) and does not take the event', async () => {
    const mallory = new XmppEndpoint({ service: server.service, domain: server.domain, username: 'mallory', password: 'mallory-pw', ca: server.caPem, ...fast }, { random: seededRandom(3) })
    await mallory.start()
    try {
      const forged = utility.event('ev-x1')
      assert.ok(forged !== undefined)
      const document = encodePayload({
        type: 'oadrDistributeEvent', requestID: 'forged-1', vtnID: 'utility',
        oadrEvents: [{ eiEvent: { ...forged, eventDescriptor: { ...forged.eventDescriptor, eventID: 'ev-forged' } }, oadrResponseRequired: 'always' }]
      })
      const answer = decodePayload(await mallory.senderTo(upstream.endpoint.jid).send('EiEvent', document))
      assert.equal(answer.type, 'oadrResponse')
      assert.equal(answer.type === 'oadrResponse' ? answer.eiResponse.responseCode : '', '463')
      assert.ok(!upstream.ven.events().some(h => h.event.eventDescriptor.eventID === 'ev-forged'))
      assert.equal(agent.event('ev-forged'), undefined)
    } finally {
      await mallory.stop()
    }
  })

  it('names what an XMPP upstream configuration lacks', async () => {
    const base: NodeConfig = { ...defaultConfig, upstreamTransport: 'xmpp' }
    await assert.rejects(upstreamXmppOf(base, { clock, logger: silent, random: seededRandom(4) }),
      (err: Error) => err instanceof UpstreamXmppConfigError && /xmppService, xmppDomain, xmppUsername, upstreamJid/.test(err.message))
    await assert.rejects(upstreamXmppOf({ ...base, xmppService: server.service, xmppDomain: 'localhost', xmppUsername: 'node-a', upstreamJid: 'utility@localhost/openadr' },
      { clock, logger: silent, random: seededRandom(4) }), /xmppPassword, or xmppCert and xmppKey/)
    await assert.rejects(loadConfig({ argv: ['--upstream-transport', 'carrier-pigeon'], env: {} }), /not one of http, xmpp/)
  })
})

/** `adrmesh node` as a real process (through tsx), its logs as JSON lines. */
function adrmeshNode (args: string[], env: Record<string, string>): { child: ChildProcess, lines: Array<Record<string, unknown>>, stderr: () => string, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--import', './src/util/polyfills.ts', '--input-type=module', '-e',
    "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1))",
    'node', ...args
  ], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const lines: Array<Record<string, unknown>> = []
  let buffer = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    const complete = buffer.split('\n')
    buffer = complete.pop() ?? ''
    for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  return { child, lines, stderr: () => stderr, exited }
}

describe('adrmesh node --upstream-transport xmpp (a real process)', function () {
  this.timeout(90_000)
  let server: ProsodyServer
  let dir = ''
  let utilityEndpoint: XmppEndpoint
  let utility: Vtn
  const children: ChildProcess[] = []

  before(async () => {
    server = await startProsody({ users: { utility: 'utility-pw', 'proc-node': 'proc-node-pw' } })
    dir = await tempDir()
    utilityEndpoint = new XmppEndpoint({ service: server.service, domain: server.domain, username: 'utility', password: 'utility-pw', ca: server.caPem, ...fast },
      { random: seededRandom(5), handler: async (s, x, p) => await utility.handler(s, x, p) })
    utility = new Vtn({ vtnID: 'utility', pollFreqMs: POLL, transports: ['xmpp'] }, { senderFor: jid => utilityEndpoint.senderTo(jid) })
    await utilityEndpoint.start()
    await utility.start()
  })
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await utility?.stop()
    await utilityEndpoint?.stop()
    await server?.dispose()
    await removeDir(dir)
  })

  it('registers over XMPP from its configuration and answers a LOAD_DISPATCH event optIn; exits 0 on SIGTERM', async () => {
    const caPath = join(dir, 'xmpp-ca.pem')
    await writeFile(caPath, server.caPem)
    const node = adrmeshNode(['--node-id', 'proc-node', '--data-dir', join(dir, 'data'), '--port', '0', '--admin-token', TOKEN, '--log-level', 'info'], {
      ADRMESH_UPSTREAM_TRANSPORT: 'xmpp', ADRMESH_UPSTREAM_JID: utilityEndpoint.jid, ADRMESH_XMPP_SERVICE: server.service, ADRMESH_XMPP_DOMAIN: server.domain,
      ADRMESH_XMPP_USERNAME: 'proc-node', ADRMESH_XMPP_PASSWORD: 'proc-node-pw', ADRMESH_XMPP_CA: caPath
    })
    children.push(node.child)
    const listening = await waitFor('node listening', () => node.child.exitCode !== null ? Promise.reject(new Error(node.stderr())) : node.lines.find(l => l.msg === 'node listening'), 60_000)
    assert.equal(listening.upstream, utilityEndpoint.jid)
    const registration = await waitFor('the node registered at the utility', () => utility.registrations().find(r => r.venName === 'proc-node'))
    assert.equal(registration.httpPullModel, false)
    assert.equal(registration.transportAddress, `proc-node@${server.domain}/openadr`)

    const url = listening.url as string
    for (let i = 0; i < 4; i++) {
      const r = await post(url, '/api/customers', { venId: `c${i}`, marketContexts: [MARKET], capabilities: { baselineKw: [4], flexDownKw: [2], flexUpKw: [1] } })
      assert.equal(r.status, 200)
    }
    // New market contexts make the node register again under the same venID before the event is sent.
    await waitFor('re-registration with the customers\' contexts', () => node.lines.filter(l => l.msg === 'registered upstream').length >= 2 ? true : undefined)
    await utility.createEvent({
      eventID: 'ev-proc', marketContext: MARKET, dtstartMs: Date.now() + 60_000, targets: { venIDs: [registration.venID] },
      signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', signalID: 'agg', itemBase: powerRealKw(), intervals: [{ durationMs: INTERVAL, uid: '0', values: [13] }] }]
    })
    const answer = await waitFor('the node to answer the event', () => utility.eventResponses('ev-proc')[0], 30_000)
    assert.equal(answer.optType, 'optIn')
    assert.equal(answer.venID, registration.venID)
    node.child.kill('SIGTERM')
    assert.equal(await node.exited, 0)
  })

  it('exits 2 naming what a half-given XMPP configuration lacks', async () => {
    const node = adrmeshNode(['--upstream-transport', 'xmpp', '--upstream-jid', utilityEndpoint.jid, '--data-dir', join(dir, 'half'), '--port', '0'], {})
    children.push(node.child)
    assert.equal(await node.exited, 2)
    assert.match(node.stderr(), /upstreamTransport xmpp needs xmppService, xmppDomain, xmppUsername/)
  })
})
