import { strict as assert } from 'node:assert'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MeshNode } from '../../src/p2p/meshNode.js'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../src/p2p/identity.js'
import { MARKET_CONTEXT } from '../helpers/mesh.js'

describe('p2p identity', function () {
  this.timeout(20_000)
  let dataDir: string
  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-id-')) })
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

  it('a restarted node keeps its peer id (Ed25519 key persisted in the data directory)', async () => {
    const init = { dataDir, marketContexts: [MARKET_CONTEXT], listen: ['/ip4/127.0.0.1/tcp/0'] }
    const first = new MeshNode(init)
    await first.start()
    const id = first.peerId.toString()
    assert.equal(first.peerId.type, 'Ed25519')
    await first.stop()
    const second = new MeshNode(init)
    await second.start()
    try {
      assert.equal(second.peerId.toString(), id)
    } finally {
      await second.stop()
    }
  })

  it('the key file is private to its owner', async () => {
    await loadOrCreateIdentity(dataDir)
    const mode = (await stat(join(dataDir, IDENTITY_FILE))).mode & 0o777
    assert.equal(mode, 0o600)
  })

  it('different data directories give different peer ids', async () => {
    const other = await mkdtemp(join(tmpdir(), 'adrmesh-id-'))
    try {
      const a = await loadOrCreateIdentity(dataDir)
      const b = await loadOrCreateIdentity(other)
      assert.notDeepEqual(a.publicKey.raw, b.publicKey.raw)
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })
})
