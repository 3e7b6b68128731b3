import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { verifyTrail } from '../../src/node/auditChain.js'
import { customerReportOffer, parseCustomerReport } from '../../src/node/reportNames.js'
import { Ven } from '../../src/openadr/ven/ven.js'
import { HttpPayloadSender } from '../../src/openadr/http/sender.js'
import { get, MARKET, post, removeDir, tempDir, TOKEN, waitFor } from './agentFixtures.js'

// `adrmesh node` as a real process, in real time (intervals of 2 s), killed with SIGKILL mid-event.
function startProcess (dataDir: string, extra: string[] = []): { child: ChildProcess, url: Promise<string> } {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--import', './src/util/polyfills.ts', '--input-type=module', '-e',
    "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1))",
    'node', '--data-dir', dataDir, '--port', '0', '--admin-token', TOKEN, '--checks-per-interval', '2',
    '--report-grace-ms', '1500', '--node-id', 'crash-node', ...extra
  ], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
  const url = new Promise<string>((resolve, reject) => {
    let buffer = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      for (const line of buffer.split('\n')) {
        if (!line.includes('node listening')) continue
        resolve((JSON.parse(line) as { url: string }).url)
      }
    })
    child.once('exit', code => { reject(new Error(`node exited with ${String(code)}`)) })
  })
  return { child, url }
}

interface Setpoints { modificationNumber: number, revision: number, startMs: number, intervalMs: number, setpointsKw: number[] }

describe('agent: SIGKILL mid-event and restart on the same data directory', function () {
  this.timeout(60_000)
  let dir = ''
  const children: ChildProcess[] = []
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await removeDir(dir)
  })

  it('resumes and completes the event; reports acknowledged before the kill are kept; nothing runs twice', async () => {
    dir = await tempDir()
    let node = startProcess(dir)
    children.push(node.child)
    let url = await node.url
    const customers = Array.from({ length: 6 }, (_, i) => ({ venId: `v${i}`, baselineKw: 4, flexDownKw: 2 }))
    for (const c of customers) {
      const r = await post(url, '/api/customers', { venId: c.venId, marketContexts: [MARKET], capabilities: { baselineKw: [c.baselineKw], flexDownKw: [c.flexDownKw], flexUpKw: [1] } })
      assert.equal(r.status, 200)
    }
    // Customers keep the setpoints they were last given (as a VEN keeps its event schedule) and report every 200 ms.
    const known = new Map<string, Setpoints>()
    const acknowledged: Array<{ venId: string, atMs: number }> = []
    let reporting = true
    const reporter = (async () => {
      while (reporting) {
        await Promise.all(customers.map(async c => {
          try {
            const d = await get(url, `/api/customers/${c.venId}/dispatch`)
            const latest = (d.json as Setpoints[])[0]
            if (latest !== undefined) known.set(c.venId, latest)
            const now = Date.now()
            const s = known.get(c.venId)
            const t = s === undefined ? -1 : Math.floor((now - s.startMs) / s.intervalMs)
            const kw = s?.setpointsKw[t] ?? c.baselineKw
            const r = await post(url, `/api/customers/${c.venId}/reports`, { readings: [{ atMs: now, kw }] })
            if (r.status === 200) acknowledged.push({ venId: c.venId, atMs: now })
          } catch { /* the node is down: try again on the next round */ }
        }))
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    })()

    const startMs = Date.now() + 1_500
    const submitted = await post(url, '/api/events', { eventId: 'ev-crash', marketContext: MARKET, startMs, intervalMs: 2_000, amountsKw: [-6, -6, -6] })
    assert.equal(submitted.status, 200, JSON.stringify(submitted.json))
    await waitFor('mid interval 1', () => Date.now() > startMs + 2_600 ? true : undefined)
    const before = (await get(url, '/api/events/ev-crash')).json
    assert.equal(before.status, 'active')
    assert.notEqual(before.intervals[0].deliveredKw, null)
    node.child.kill('SIGKILL')
    await new Promise(resolve => node.child.once('exit', resolve))
    const ackedBeforeKill = [...acknowledged]

    node = startProcess(dir)
    children.push(node.child)
    url = await node.url
    const e = await waitFor('completion after restart', async () => {
      const r = await get(url, '/api/events/ev-crash')
      return r.json.status === 'done' ? r.json : undefined
    }, 30_000)
    reporting = false
    await reporter
    assert.equal(e.state, 'completed')
    assert.equal(e.intervals[0].deliveredKw, before.intervals[0].deliveredKw)
    for (const r of e.intervals) assert.notEqual(r.deliveredKw, null, `interval ${r.index} measured`)
    // Every reading acknowledged before the kill is in the store after it.
    for (const c of customers) {
      const stored = (await get(url, `/api/customers/${c.venId}/readings`)).json as Array<{ atMs: number }>
      const mine = ackedBeforeKill.filter(a => a.venId === c.venId)
      for (const a of mine) assert.ok(stored.some(s => s.atMs === a.atMs), `${c.venId} reading at ${a.atMs} kept`)
    }
    // The trail verifies, and one-shot steps happened once: the opt answer and the customers' notification.
    const lines = (await get(url, '/api/events/ev-crash/audit')).json.lines as string[]
    assert.equal(verifyTrail(lines).valid, true)
    const entries = lines.slice(0, -1).map(l => JSON.parse(l) as { stateBefore: string, stateAfter: string })
    assert.equal(entries.filter(x => x.stateBefore === 'deciding').length, 1)
    assert.equal(entries.filter(x => x.stateBefore === 'scheduled.notifying').length, 1)
    assert.equal(entries.filter(x => x.stateAfter === 'completed').length, 1)
    node.child.kill('SIGTERM')
    assert.equal(await new Promise(resolve => node.child.once('exit', resolve)), 0)
  })

  it('with real VENs: every report acknowledged over OpenADR before the kill reaches the book, and no customer gets an event twice', async () => {
    dir = await tempDir()
    // The VENs keep one URL across the restart: the node listens on the same port both times.
    const port = await freePort()
    const flags = ['--port', String(port), '--customer-poll-ms', '250']
    let node = startProcess(dir, flags)
    children.push(node.child)
    const url = await node.url
    const sites = Array.from({ length: 6 }, (_, i) => new CrashSite(`site-${i}`, url))
    try {
      await Promise.all(sites.map(async s => { await s.ven.start() }))
      await waitFor('customers known with capabilities', async () => {
        const list = (await get(url, '/api/customers')).json as Array<{ capabilities: unknown, marketContexts: string[] }>
        return list.length === 6 && list.every(c => c.capabilities !== null && c.marketContexts.includes(MARKET)) ? true : undefined
      })
      const startMs = Date.now() + 2_500
      const submitted = await post(url, '/api/events', { eventId: 'ev-oadr', marketContext: MARKET, startMs, intervalMs: 2_000, amountsKw: [-6, -6, -6] })
      assert.equal(submitted.status, 200, JSON.stringify(submitted.json))
      await waitFor('mid interval 1', () => Date.now() > startMs + 2_600 ? true : undefined, 20_000)
      const before = (await get(url, '/api/events/ev-oadr')).json
      assert.equal(before.status, 'active')
      node.child.kill('SIGKILL')
      await new Promise(resolve => node.child.once('exit', resolve))
      const ackedBeforeKill = sites.map(s => [...s.acknowledged])

      node = startProcess(dir, flags)
      children.push(node.child)
      assert.equal(await node.url, url)
      const e = await waitFor('completion after restart', async () => {
        const r = await get(url, '/api/events/ev-oadr')
        return r.json.status === 'done' ? r.json : undefined
      }, 30_000)
      assert.equal(e.state, 'completed')
      for (const r of e.intervals) assert.notEqual(r.deliveredKw, null, `interval ${r.index} measured`)
      for (const [i, s] of sites.entries()) {
        const venId = s.ven.venID as string
        const stored = (await get(url, `/api/customers/${encodeURIComponent(venId)}/readings`)).json as Array<{ atMs: number, kw: number }>
        const acked = ackedBeforeKill[i] ?? []
        assert.ok(acked.length > 0, `${s.name} reported before the kill`)
        for (const a of acked) assert.ok(stored.some(x => x.atMs === a.atMs && x.kw === a.kw), `${s.name}: reading at ${a.atMs} acknowledged before the kill is kept`)
        // Each modification of the customer's eiEvent reached it once: the restart re-sent nothing as new.
        const mods = s.received.get(`ev-oadr#${venId}`) ?? []
        assert.deepEqual(mods, [...new Set(mods)].sort((x, y) => x - y), `${s.name} received modifications ${mods.join(',')}`)
      }
      assert.ok(sites.some(s => (s.received.get(`ev-oadr#${s.ven.venID as string}`) ?? []).length > 0), 'customers were dispatched over OpenADR')
      // The dashboard is served on the node's port, in front of the JSON API.
      const page = await fetch(`${url}/events/ev-oadr`)
      assert.equal(page.status, 200)
      assert.match(page.headers.get('content-type') ?? '', /text\/html/)
      assert.match(await page.text(), /ev-oadr/)
      const lines = (await get(url, '/api/events/ev-oadr/audit')).json.lines as string[]
      assert.equal(verifyTrail(lines).valid, true)
      const entries = lines.slice(0, -1).map(l => JSON.parse(l) as { stateBefore: string, stateAfter: string })
      assert.equal(entries.filter(x => x.stateBefore === 'deciding').length, 1)
      assert.equal(entries.filter(x => x.stateBefore === 'scheduled.notifying').length, 1)
      assert.equal(entries.filter(x => x.stateAfter === 'completed').length, 1)
    } finally {
      await Promise.all(sites.map(async s => { await s.ven.stop() }))
    }
    node.child.kill('SIGTERM')
    assert.equal(await new Promise(resolve => node.child.once('exit', resolve)), 0)
  })
})

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise(resolve => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A customer site in real time: A's Ven over HTTP polling every 250 ms, following its setpoints, reporting every second. */
class CrashSite {
  readonly ven: Ven
  /** Telemetry the node acknowledged (oadrUpdatedReport received). */
  readonly acknowledged: Array<{ atMs: number, kw: number }> = []
  /** eventID → modificationNumbers received, in order. */
  readonly received = new Map<string, number[]>()

  constructor (readonly name: string, url: string) {
    this.ven = new Ven({
      venName: name,
      reports: customerReportOffer({ marketContexts: [MARKET], telemetryPeriodMs: 1_000, forecastStepMs: 2_000, capabilitiesPeriodMs: 1_000 }),
      defaultPollFreqMs: 250
    }, { sender: new HttpPayloadSender({ baseUrl: url }), readReport: rID => this.read(rID), readProjection: rID => this.forecast(rID) })
    // While the node is down polls and reports fail; the VEN keeps polling.
    this.ven.on('error', () => {})
    this.ven.on('reportSent', report => {
      const parsed = parseCustomerReport(report)
      if (parsed.kind === 'telemetry') this.acknowledged.push(...parsed.readings)
    })
    this.ven.on('event', event => {
      const id = event.eventDescriptor.eventID
      this.received.set(id, [...(this.received.get(id) ?? []), event.eventDescriptor.modificationNumber])
    })
  }

  private flowKw (nowMs: number): number {
    let kw = 4
    for (const { event, optType } of this.ven.events()) {
      if (optType !== 'optIn' || event.eventDescriptor.eventStatus === 'cancelled') continue
      const signal = event.eiEventSignals.find(s => s.signalName === 'LOAD_DISPATCH')
      const t = Math.floor((nowMs - event.eiActivePeriod.dtstartMs) / (signal?.intervals[0]?.durationMs ?? 1))
      const setpoint = signal?.intervals[t]?.values[0]
      if (t >= 0 && setpoint !== undefined) kw = setpoint
    }
    return kw
  }

  /** A flat forecast of two steps. */
  private forecast (rID: string): number[] | undefined {
    const kw = { baselineKw: 4, flexDownKw: 2, flexUpKw: 1 }[rID]
    return kw === undefined ? undefined : [kw, kw]
  }

  private read (rID: string): number | undefined {
    if (rID === 'usage') return this.flowKw(Date.now())
    if (rID === 'costUpPerKwh' || rID === 'costDownPerKwh') return 0.1
    return 0
  }
}
