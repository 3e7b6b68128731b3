/**
 * `adrmesh node` as an operator starts it, from the compiled CLI (`bin/node`; `npm test` builds first): with a
 * dashboard token, the dashboard and every GET under /api/ need it, and /metrics still answers on loopback.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../../..')

describe('adrmesh node (compiled CLI)', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'adrmesh-cli-node-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('puts the dashboard and the JSON API behind --dashboard-token, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'node'), 'node', '--port', '0', '--data-dir', dir, '--dashboard-token', 'sesame', '--log-level', 'info'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.on('exit', code => { reject(new Error(`node exited ${code}: ${stderr}`)) })
        createInterface({ input: child.stdout }).on('line', line => {
          try {
            const entry = JSON.parse(line) as { msg?: string, url?: string }
            if (entry.msg === 'node listening' && entry.url !== undefined) resolve(entry.url)
          } catch { /* not a log line */ }
        })
      })
      const get = async (path: string, token?: string): Promise<number> =>
        (await fetch(url + path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })).status
      assert.equal(await get('/api/events'), 401)
      assert.equal(await get('/api/events', 'wrong'), 401)
      assert.equal(await get('/api/events', 'sesame'), 200)
      assert.equal(await get('/'), 401)
      assert.equal(await get('/', 'sesame'), 200)
      assert.equal(await get('/metrics'), 200, '/metrics answers loopback clients')
    } finally {
      child.kill('SIGTERM')
    }
    assert.equal(await exited, 0)
  })
})
