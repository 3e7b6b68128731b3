/**
 * `adrmesh vtn` and `adrmesh ven` as a person runs them: real processes (`node bin/node …`, the compiled
 * dist/ that `npm run build` makes), talking over loopback. The VEN registers, receives the event from the
 * VTN's --event-file, opts in, gets the modification made through the operator API, and sends reports;
 * then the same over HTTPS with client certificates and signatures, the VTN pushing to the VEN.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { testPki } from '../../helpers/certs.js'
import { oadrFingerprintOfPem } from '../../../src/openadr/security/fingerprint.js'

const root = resolve(fileURLToPath(import.meta.url), '../../../..')
const bin = join(root, 'bin/node')

type LogLine = Record<string, unknown> & { msg?: string }

/** A running CLI process and every JSON log line it printed so far. */
class Cli {
  readonly lines: LogLine[] = []
  readonly stderr: string[] = []
  private readonly waiters: Array<() => void> = []
  readonly exited: Promise<number | null>

  constructor (readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line => {
      try { this.lines.push(JSON.parse(line) as LogLine) } catch { this.lines.push({ text: line }) }
      for (const w of this.waiters.splice(0)) w()
    })
    child.stderr?.on('data', (c: Buffer) => this.stderr.push(c.toString()))
    this.exited = new Promise(resolve => child.on('exit', code => { for (const w of this.waiters.splice(0)) w(); resolve(code) }))
  }

  /** The first log line that satisfies `match`, waiting up to `timeoutMs` for it. */
  async waitFor (match: (line: LogLine) => boolean, what: string, timeoutMs = 15_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.find(match)
      if (found !== undefined) return found
      if (this.child.exitCode !== null) throw new Error(`${what}: process exited ${this.child.exitCode}\n${this.stderr.join('')}\n${JSON.stringify(this.lines.slice(-5))}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${what}: not seen within ${timeoutMs} ms; last lines ${JSON.stringify(this.lines.slice(-5))}\n${this.stderr.join('')}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async stop (): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    return await this.exited
  }
}

function adrmesh (args: string[]): Cli {
  return new Cli(spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
}

async function run (args: string[]): Promise<{ code: number | null, out: string, err: string }> {
  const cli = adrmesh(args)
  const out: string[] = []
  cli.child.stdout?.on('data', (c: Buffer) => out.push(c.toString()))
  const code = await cli.exited
  return { code, out: out.join('') + cli.lines.map(l => String(l.text ?? '')).join('\n'), err: cli.stderr.join('') }
}

async function post (url: string, body: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

const intervalsOf = (line: LogLine): unknown => (line.signals as Array<{ intervals: unknown }>)[0]?.intervals

describe('adrmesh vtn and adrmesh ven as processes', function () {
  this.timeout(60_000)
  const dir = mkdtempSync(join(tmpdir(), 'adrmesh-cli-'))
  const running: Cli[] = []

  before(function () {
    if (!existsSync(join(root, 'dist/src/cli/vtn.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  })
  afterEach(async () => { await Promise.all(running.splice(0).map(async c => await c.stop())) })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('--help prints each command\'s options and exits 0; an unknown flag exits 2', async () => {
    const vtnHelp = await run(['vtn', '--help'])
    assert.equal(vtnHelp.code, 0)
    assert.match(vtnHelp.out, /--port P/)
    assert.match(vtnHelp.out, /--tls-cert FILE/)
    const venHelp = await run(['ven', '--help'])
    assert.equal(venHelp.code, 0)
    assert.match(venHelp.out, /--vtn-url URL/)
    assert.match(venHelp.out, /--listen/)
    const bad = await run(['ven', '--vtn-url', 'http://127.0.0.1:1', '--bogus'])
    assert.equal(bad.code, 2)
    assert.match(bad.err, /bogus/)
    const missing = await run(['ven', '--ven-name', 'x'])
    assert.equal(missing.code, 2)
    assert.match(missing.err, /--vtn-url and --ven-name are required/)
  })

  it('plain HTTP, pull: the VEN waits for the VTN, registers, receives the --event-file event, opts in, gets its modification, reports, and is still served after the VTN restarts', async () => {
    const eventFile = join(dir, 'event.json')
    writeFileSync(eventFile, JSON.stringify({
      eventID: 'dr-1', startInSeconds: 3600, venIDs: ['ven-1'],
      signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', intervals: [{ minutes: 15, value: 120 }, { minutes: 15, value: 90 }, { minutes: 30, value: 60 }] }]
    }))
    // The VEN starts first, toward a VTN that is not up yet: it keeps asking until it is.
    const port = await freePort()
    const ven = adrmesh(['ven', '--vtn-url', `http://127.0.0.1:${port}`, '--ven-name', 'site-1', '--ven-id', 'ven-1', '--poll-freq', '0.3', '--report-interval', '0.5', '--report-value', '42.5'])
    running.push(ven)
    await ven.waitFor(l => l.msg === 'registration failed', 'VEN retries while the VTN is down')
    const vtn = adrmesh(['vtn', '--port', String(port), '--admin-port', '0', '--poll-freq', '0.2', '--event-file', eventFile, '--data-dir', join(dir, 'vtn-data')])
    running.push(vtn)
    const listening = await vtn.waitFor(l => l.msg === 'VTN listening', 'VTN listening')

    const registered = await vtn.waitFor(l => l.msg === 'VEN registered', 'VTN logs the registration')
    assert.equal(registered.venID, 'ven-1')
    assert.equal(registered.venName, 'site-1')
    const event = await ven.waitFor(l => l.msg === 'event', 'VEN logs the event')
    assert.equal(event.eventID, 'dr-1')
    assert.equal(event.optType, 'optIn')
    assert.deepEqual(intervalsOf(event), [[15, 120], [15, 90], [30, 60]])
    const answer = await vtn.waitFor(l => l.msg === 'event response', 'VTN logs the opt answer')
    assert.deepEqual([answer.venID, answer.eventID, answer.optType], ['ven-1', 'dr-1', 'optIn'])

    const modified = await post(`${String(listening.adminUrl)}/events/dr-1/modify`, { signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'setpoint', intervals: [{ minutes: 60, value: 50 }] }] })
    assert.equal(modified.status, 200)
    const change = await ven.waitFor(l => l.msg === 'event' && l.modificationNumber === 1, 'VEN logs the modification')
    assert.deepEqual(intervalsOf(change), [[60, 50]])

    const report = await vtn.waitFor(l => l.msg === 'report', 'VTN logs a TELEMETRY_USAGE report')
    assert.equal(report.reportName, 'TELEMETRY_USAGE')
    assert.deepEqual((report.values as unknown[][])[0], [['power', 42.5]])

    const badEvent = await post(`${String(listening.adminUrl)}/events`, { startInSeconds: 10, signals: [] })
    assert.equal(badEvent.status, 400)

    // A restart on the same --data-dir: the registration, the modified event and the report request are
    // still there, and the VEN goes on being served without registering again.
    assert.equal(await vtn.stop(), 0)
    const again = adrmesh(['vtn', '--port', String(port), '--admin-port', '0', '--poll-freq', '0.2', '--data-dir', join(dir, 'vtn-data')])
    running.push(again)
    const relistening = await again.waitFor(l => l.msg === 'VTN listening', 'VTN listening again')
    const vens = await (await fetch(`${String(relistening.adminUrl)}/vens`)).json() as Array<{ venID: string }>
    assert.deepEqual(vens.map(v => v.venID), ['ven-1'])
    const events = await (await fetch(`${String(relistening.adminUrl)}/events`)).json() as Array<{ eventDescriptor: { eventID: string, modificationNumber: number } }>
    assert.deepEqual(events.map(e => [e.eventDescriptor.eventID, e.eventDescriptor.modificationNumber]), [['dr-1', 1]])
    await again.waitFor(l => l.msg === 'report', 'the restarted VTN takes the VEN\'s reports')
    assert.equal(again.lines.filter(l => l.msg === 'VEN registered').length, 0)
    assert.equal(await ven.stop(), 0)
    assert.equal(await again.stop(), 0)
  })

  it('HTTPS with client certificates and signatures, push: the VTN pushes an event for every VEN and one made through the operator API', async () => {
    const pki = testPki('rsa')
    const venCert = pki.client('cli-ven')
    // An event without targets, made before any VEN registered, is for every VEN, later ones included.
    const eventFile = join(dir, 'everyone.json')
    writeFileSync(eventFile, JSON.stringify({ eventID: 'dr-everyone', startInSeconds: 900, signals: [{ signalName: 'SIMPLE', signalType: 'level', intervals: [{ minutes: 30, value: 2 }] }] }))
    const vtn = adrmesh(['vtn', '--port', '0', '--admin-port', '0', '--event-file', eventFile,
      '--tls-cert', pki.server.certPath, '--tls-key', pki.server.keyPath, '--tls-ca', pki.ca.certPath, '--sign', '--require-signature'])
    running.push(vtn)
    const listening = await vtn.waitFor(l => l.msg === 'VTN listening', 'VTN listening')
    assert.match(String(listening.url), /^https:/)
    assert.equal(listening.requireSignature, true)
    assert.equal(listening.fingerprint, oadrFingerprintOfPem(pki.server.cert))
    const ven = adrmesh(['ven', '--vtn-url', String(listening.url), '--ven-name', 'pushed', '--listen', '127.0.0.1:0',
      '--tls-cert', venCert.certPath, '--tls-key', venCert.keyPath, '--tls-ca', pki.ca.certPath, '--sign', '--require-signature'])
    running.push(ven)
    const registered = await vtn.waitFor(l => l.msg === 'VEN registered', 'VTN logs the registration')
    assert.equal(registered.pull, false)
    assert.match(String(registered.transportAddress), /^https:\/\/127\.0\.0\.1:/)
    assert.equal(registered.fingerprint, oadrFingerprintOfPem(venCert.cert), 'the VTN binds the venID to the certificate the VEN logs')
    const venRunning = await ven.waitFor(l => l.msg === 'VEN running', 'VEN running')
    assert.equal(venRunning.fingerprint, registered.fingerprint)
    const everyone = await ven.waitFor(l => l.msg === 'event' && l.eventID === 'dr-everyone', 'VEN logs the event made for every VEN')
    assert.deepEqual(intervalsOf(everyone), [[30, 2]])

    const created = await post(`${String(listening.adminUrl)}/events`, { eventID: 'dr-push', startInSeconds: 600, signals: [{ signalName: 'LOAD_DISPATCH', signalType: 'delta', intervals: [{ minutes: 10, value: -5 }, { minutes: 10, value: -8 }] }] })
    assert.equal(created.status, 201)
    const event = await ven.waitFor(l => l.msg === 'event' && l.eventID === 'dr-push', 'VEN logs the pushed event')
    assert.equal(event.eventID, 'dr-push')
    assert.deepEqual(intervalsOf(event), [[10, -5], [10, -8]])
    const answer = await vtn.waitFor(l => l.msg === 'event response' && l.eventID === 'dr-push', 'VTN logs the opt answer')
    assert.equal(answer.optType, 'optIn')
    assert.equal(await ven.stop(), 0)
    assert.equal(await vtn.stop(), 0)
  })
})
