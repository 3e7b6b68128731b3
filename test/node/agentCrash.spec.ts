import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { verifyTrail } from '../../src/node/auditChain.js'
import { get, MARKET, post, removeDir, tempDir, TOKEN, waitFor } from './agentFixtures.js'

// `adrmesh node` as a real process, in real time (intervals of 2 s), killed with SIGKILL mid-event.
function startProcess (dataDir: string): { child: ChildProcess, url: Promise<string> } {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--import', './src/util/polyfills.ts', '--input-type=module', '-e',
    "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1))",
    'node', '--data-dir', dataDir, '--port', '0', '--admin-token', TOKEN, '--checks-per-interval', '2',
    '--report-grace-ms', '1500', '--node-id', 'crash-node'
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
})
