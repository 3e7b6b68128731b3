/**
 * `adrmesh node --bootstrap <multiaddr>` as a person runs it: three real node processes on loopback (the
 * TypeScript sources through tsx, polyfill first), the second and third joining through the first's mesh
 * address alone; each lists its fellows, with their directory records and reliability, on `GET /api/peers`.
 */
import { strict as assert } from 'node:assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/p2p/identity.js'
import type { PeerStatus } from '../../src/node/mesh.js'
import { waitUntil } from '../helpers/mesh.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const entry = "await import('./src/util/polyfills.ts'); const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1))"
const MC = 'http://market.example/mesh-cli'

type LogLine = Record<string, unknown>

class NodeProcess {
  readonly lines: LogLine[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<number | null>
  constructor (readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line => {
      try { this.lines.push(JSON.parse(line) as LogLine) } catch { this.lines.push({ text: line }) }
    })
    child.stderr?.on('data', (c: Buffer) => this.stderr.push(c.toString()))
    this.exited = new Promise(resolve => child.on('exit', code => { resolve(code) }))
  }

  async line (msg: string, timeoutMs = 60_000): Promise<LogLine> {
    let found: LogLine | undefined
    await waitUntil(`log line '${msg}'`, () => {
      if (this.child.exitCode !== null) throw new Error(`node exited ${this.child.exitCode}: ${this.stderr.join('')}`)
      found = this.lines.find(l => l.msg === msg)
      return found !== undefined
    }, timeoutMs, 50)
    return found as LogLine
  }

  async stop (): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    return await this.exited
  }
}

function adrmeshNode (args: string[]): NodeProcess {
  return new NodeProcess(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, 'node', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
}

describe('adrmesh node on the mesh (processes)', function () {
  this.timeout(180_000)
  const processes: NodeProcess[] = []
  const dirs: string[] = []

  after(async () => {
    await Promise.allSettled(processes.map(async p => await p.stop()))
    await Promise.allSettled(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('nodes started with one bootstrap address find each other and every directory record; /api/peers lists them with reliability', async () => {
    const start = async (name: string, extra: string[]): Promise<{ proc: NodeProcess, url: string, peerId: string, addr: string, dir: string }> => {
      const dir = await mkdtemp(join(tmpdir(), `adrmesh-cli-${name}-`))
      dirs.push(dir)
      const proc = adrmeshNode(['--node-id', name, '--data-dir', dir, '--port', '0', '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--market-contexts', MC, '--region', 'r-' + name, ...extra])
      processes.push(proc)
      const listening = await proc.line('node listening')
      const joined = await proc.line('mesh joined')
      return { proc, url: String(listening.url), peerId: String(joined.peerId), addr: String((joined.multiaddrs as string[])[0]), dir }
    }
    const first = await start('n1', [])
    const others = await Promise.all([start('n2', ['--bootstrap', first.addr]), start('n3', ['--bootstrap', first.addr])])
    const all = [first, ...others]
    for (const n of all) {
      // The peer id is the key kept in the data directory: a restarted node keeps it.
      assert.equal(n.peerId, peerIdFromPrivateKey(await loadOrCreateIdentity(join(n.dir, 'mesh'))).toString())
    }
    for (const n of all) {
      let peers: PeerStatus[] = []
      await waitUntil(`${n.peerId} lists both fellows with their records`, async () => {
        peers = await (await fetch(`${n.url}/api/peers`)).json() as PeerStatus[]
        return all.filter(o => o !== n).every(o => peers.some(p => p.peerId === o.peerId && p.record !== null))
      }, 90_000, 500)
      for (const o of all.filter(x => x !== n)) {
        const p = peers.find(x => x.peerId === o.peerId) as PeerStatus
        assert.equal(p.record?.region, `r-${o === first ? 'n1' : o === others[0] ? 'n2' : 'n3'}`)
        assert.equal(p.record?.openadrEndpoint, `${o.url}/OpenADR2/Simple/2.0b`)
        assert.ok(p.record?.marketContexts.includes(MC))
        const market = p.markets.find(m => m.marketContext === MC)
        assert.equal(market?.reliability.source, 'prior')
        assert.ok(market !== undefined && market.reliability.sd > 0)
      }
    }
    for (const n of all) assert.equal(await n.proc.stop(), 0)
  })
})
