import { strict as assert } from 'node:assert'
import { startMesh, MARKET_CONTEXT, waitUntil, type Mesh } from '../helpers/mesh.js'

describe('p2p mesh: discovery and directory', function () {
  this.timeout(60_000)
  let mesh: Mesh

  before(async () => { mesh = await startMesh({ n: 4 }) })
  after(async () => { await mesh?.stop() })

  it('nodes joined through one bootstrap address see each other', async () => {
    await waitUntil('full connectivity', () => mesh.nodes.every(n => n.libp2p.getPeers().length >= 3))
  })

  it('every node finds every other node\'s signed directory record by market context', async () => {
    await Promise.all(mesh.nodes.map(async n => await n.publishRecord(AbortSignal.timeout(10_000))))
    for (const node of mesh.nodes) {
      const fellows = await node.fellows(MARKET_CONTEXT, AbortSignal.timeout(10_000))
      const expected = mesh.nodes.filter(o => o !== node).map(o => o.peerId.toString()).sort()
      assert.deepEqual(fellows.map(f => f.peerId).sort(), expected)
      for (const f of fellows) {
        assert.equal(f.openadrEndpoint, 'http://127.0.0.1:8080/OpenADR2/Simple/2.0b')
        assert.ok(f.marketContexts.includes(MARKET_CONTEXT))
      }
    }
  })
})
