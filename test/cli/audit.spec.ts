import { strict as assert } from 'node:assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../../src/cli/audit.js'
import { Store } from '../../src/store/index.js'
import { AuditTrail } from '../../src/node/audit.js'
import { loadOrCreateNodeKey, nodeKeyFile } from '../../src/node/nodeKey.js'
import { ManualClock } from '../../src/util/clock.js'

/** Runs the command, capturing what it prints. */
async function cli (argv: string[]): Promise<{ code: number, out: string }> {
  const out: string[] = []
  const log = console.log
  const error = console.error
  console.log = (...args: unknown[]) => { out.push(args.join(' ')) }
  console.error = (...args: unknown[]) => { out.push(args.join(' ')) }
  try {
    return { code: await run(argv), out: out.join('\n') }
  } finally {
    console.log = log
    console.error = error
  }
}

describe('cli/audit verify', () => {
  let dir: string
  let lines: string[]
  let publicKey: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adrmesh-cli-audit-'))
    const store = new Store({ dataDir: dir })
    await store.start()
    const key = await loadOrCreateNodeKey(dir)
    publicKey = key.publicKey
    const trail = new AuditTrail({ store, clock: new ManualClock(1_000), key })
    await trail.append('E1', { event: 'oadrDistributeEvent', stateBefore: 'idle', stateAfter: 'optDecision', decision: { optIn: true } })
    await trail.append('E1', { event: 'dispatch', stateBefore: 'optDecision', stateAfter: 'scheduled', decision: { setpointsKw: { v1: -3 } } })
    lines = await trail.export('E1')
    await trail.stop()
    await store.stop()
  })

  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('exits 0 on an untouched trail, pinned by key string or by the node key file', async () => {
    const file = join(dir, 'ok.jsonl')
    await writeFile(file, lines.join('\n') + '\n')
    const plain = await cli(['verify', file])
    assert.equal(plain.code, 0)
    assert.match(plain.out, /valid: event E1, 2 entries/)
    assert.equal((await cli(['verify', file, '--public-key', publicKey])).code, 0)
    assert.equal((await cli(['verify', file, '--public-key', join(dir, nodeKeyFile)])).code, 0)
  })

  it('exits 1 naming the line of a changed entry', async () => {
    const file = join(dir, 'changed.jsonl')
    await writeFile(file, [lines[0], (lines[1] as string).replace('-3', '-30'), lines[2]].join('\n'))
    const result = await cli(['verify', file])
    assert.equal(result.code, 1)
    assert.match(result.out, /invalid: line 2, event E1, seq 2: hash does not match/)
  })

  it('exits 1 on a truncated trail and 2 on usage errors', async () => {
    const file = join(dir, 'truncated.jsonl')
    await writeFile(file, lines.slice(0, 2).join('\n'))
    assert.equal((await cli(['verify', file])).code, 1)
    assert.equal((await cli(['verify'])).code, 2)
    assert.equal((await cli(['verify', join(dir, 'missing.jsonl')])).code, 2)
    assert.equal((await cli(['verify', file, '--public-key', 'not-a-key'])).code, 2)
    assert.equal((await cli(['check', file])).code, 2)
  })
})
