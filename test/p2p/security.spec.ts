import { strict as assert } from 'node:assert'
import { rm } from 'node:fs/promises'
import { COVER_PROTOCOL } from '../../src/p2p/constants.js'
import { startMesh, makeSwarmKey, prepareIdentities, waitUntil, type Mesh } from '../helpers/mesh.js'

describe('p2p mesh security', function () {
  this.timeout(60_000)

  describe('private mesh (pre-shared key)', () => {
    let mesh: Mesh
    const psk = makeSwarmKey()
    before(async () => { mesh = await startMesh({ n: 2, init: { psk } }) })
    after(async () => { await mesh?.stop() })

    it('members holding the key connect', () => {
      assert.equal(mesh.nodes[0]!.libp2p.getPeers().length, 1)
    })

    it('a node without the key, or with another key, cannot connect or send a request', async () => {
      for (const outsiderPsk of [undefined, makeSwarmKey()]) {
        const outsider = await mesh.addNode({ psk: outsiderPsk, bootstrap: [] })
        await assert.rejects(outsider.libp2p.dial(mesh.nodes[0]!.multiaddrs[0]!, { signal: AbortSignal.timeout(1500) }))
        await assert.rejects(outsider.libp2p.dialProtocol(mesh.nodes[0]!.multiaddrs[0]!, COVER_PROTOCOL, { signal: AbortSignal.timeout(1500) }))
        assert.ok(!mesh.nodes[0]!.libp2p.getPeers().some(p => p.equals(outsider.peerId)))
        await outsider.stop()
      }
    })
  })

  describe('allow-list', () => {
    let mesh: Mesh
    let dirs: Array<{ dataDir: string, peerId: string }>
    before(async () => {
      dirs = await prepareIdentities(3)
      // Nodes 0 and 1 allow each other; node 2 holds a key but is not on their list.
      mesh = await startMesh({ n: 2, dataDirs: dirs.map(d => d.dataDir), init: { allowList: dirs.slice(0, 2).map(d => d.peerId) } })
    })
    after(async () => {
      await mesh?.stop()
      await rm(dirs[2]!.dataDir, { recursive: true, force: true })
    })

    it('listed peers connect', () => {
      assert.equal(mesh.nodes[1]!.libp2p.getPeers()[0]?.toString(), dirs[0]!.peerId)
    })

    it('a peer off the list cannot connect or inject a request', async () => {
      const outsider = await mesh.addNode({ allowList: undefined })
      assert.equal(outsider.peerId.toString(), dirs[2]!.peerId)
      await assert.rejects(outsider.libp2p.dialProtocol(mesh.nodes[0]!.multiaddrs[0]!, COVER_PROTOCOL, { signal: AbortSignal.timeout(1500) }))
      // Its bootstrap dial keeps being refused: sampled for a second, no member ever holds a connection to it.
      // (The outsider's own side may briefly count one: the members refuse it only once Noise has finished.)
      for (let i = 0; i < 10; i++) {
        await new Promise(resolve => setTimeout(resolve, 100))
        assert.ok(!mesh.nodes.some(n => n.libp2p.getConnections().some(c => c.remotePeer.equals(outsider.peerId))))
      }
      await waitUntil('members unaffected', () => mesh.nodes.every(n => n.libp2p.getPeers().length === 1))
      assert.ok(!mesh.nodes.some(n => n.peers().some(p => p.peerId === dirs[2]!.peerId)))
    })
  })
})
