import { startMesh, waitUntil, type Mesh } from '../helpers/mesh.js'

describe('p2p rejoin: a node keeps enough fellows', function () {
  this.timeout(60_000)
  let mesh: Mesh

  before(async () => { mesh = await startMesh({ n: 4 }) })
  after(async () => { await mesh?.stop() })

  it('a node below its minimum of peers redials a fellow the DHT knows after the connection drops', async () => {
    const [, b, c] = mesh.nodes
    await waitUntil('full connectivity', () => mesh.nodes.every(n => n.libp2p.getPeers().length >= 3))
    // c is not a bootstrap peer (no KEEP_ALIVE tag): only the DHT-driven fill brings it back.
    await b!.libp2p.hangUp(c!.peerId)
    await waitUntil('b and c reconnected', () => b!.libp2p.getPeers().some(p => p.equals(c!.peerId)), 15_000)
  })
})
