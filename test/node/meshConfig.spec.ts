/**
 * The mesh options of `adrmesh node` as they reach the libp2p host: flags parsed by the node's config, the
 * mesh key read from its file, the allow-list; real mesh nodes on loopback show who can connect.
 */
import { strict as assert } from 'node:assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ConfigError, loadConfig } from '../../src/node/config.js'
import { meshEnabled, meshInitFromConfig } from '../../src/node/meshConfig.js'
import { MeshNode } from '../../src/p2p/meshNode.js'
import { loadOrCreateIdentity } from '../../src/p2p/identity.js'
import { makeSwarmKey, recordingLog, waitUntil } from '../helpers/mesh.js'

async function configOf (argv: string[]) {
  return (await loadConfig({ argv, env: {} })).config
}

describe('node mesh: configuration', function () {
  this.timeout(60_000)
  let root: string
  const nodes: MeshNode[] = []

  before(async () => { root = await mkdtemp(join(tmpdir(), 'adrmesh-meshcfg-')) })
  after(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(root, { recursive: true, force: true })
  })

  it('--bootstrap and --allow-peers repeat or take comma lists; the mesh is off unless asked for', async () => {
    const c = await configOf(['--data-dir', '/d', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/A', '--bootstrap', '/ip4/127.0.0.1/tcp/2/p2p/B,/ip4/127.0.0.1/tcp/3/p2p/C',
      '--allow-peers', 'P1, P2', '--region', 'north', '--market-contexts', 'http://mc/1'])
    const init = await meshInitFromConfig(c, ['http://mc/2'])
    assert.deepEqual(init?.bootstrap, ['/ip4/127.0.0.1/tcp/1/p2p/A', '/ip4/127.0.0.1/tcp/2/p2p/B', '/ip4/127.0.0.1/tcp/3/p2p/C'])
    assert.deepEqual(init?.allowList, ['P1', 'P2'])
    assert.deepEqual(init?.marketContexts, ['http://mc/1', 'http://mc/2'])
    assert.equal(init?.dataDir, join('/d', 'mesh'))
    assert.equal(init?.region, 'north')
    assert.equal(meshEnabled(await configOf([])), false)
    assert.equal(await meshInitFromConfig(await configOf([])), null)
    assert.equal(meshEnabled(await configOf(['--mdns', 'on'])), true)
    await assert.rejects(configOf(['--mdns', 'yes']), ConfigError)
  })

  it('a mesh key file that is missing or not a swarm key is a ConfigError naming the file', async () => {
    const bad = join(root, 'bad.key')
    await writeFile(bad, 'not a key')
    await assert.rejects(meshInitFromConfig(await configOf(['--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--mesh-key', bad])), (err: Error) => err instanceof ConfigError && err.message.includes(bad))
    await assert.rejects(meshInitFromConfig(await configOf(['--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--mesh-key', join(root, 'missing.key')])), ConfigError)
  })

  it('a node without the mesh key, or not on the allow-list, cannot connect; one with both can', async () => {
    const key = join(root, 'swarm.key')
    const otherKey = join(root, 'other.key')
    await writeFile(key, makeSwarmKey())
    await writeFile(otherKey, makeSwarmKey())
    const dir = (name: string): string => join(root, name)
    const peerIdOf = async (name: string): Promise<string> => peerIdFromPrivateKey(await loadOrCreateIdentity(join(dir(name), 'mesh'))).toString()
    const member = await peerIdOf('member')
    const start = async (name: string, argv: string[]): Promise<MeshNode> => {
      const init = await meshInitFromConfig(await configOf(['--data-dir', dir(name), '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--market-contexts', 'http://mc/1', ...argv]))
      assert.ok(init !== null)
      const node = new MeshNode(init, { log: recordingLog() })
      nodes.push(node)
      await node.start()
      return node
    }
    const hub = await start('hub', ['--mesh-key', key, '--allow-peers', member])
    const hubAddr = hub.multiaddrs[0]?.toString() as string
    const [ok, outsider, stranger, open] = await Promise.all([
      start('member', ['--mesh-key', key, '--bootstrap', hubAddr, '--allow-peers', hub.peerId.toString()]),
      start('outsider', ['--mesh-key', otherKey, '--bootstrap', hubAddr]),
      start('stranger', ['--mesh-key', key, '--bootstrap', hubAddr]),
      start('open', ['--bootstrap', hubAddr])
    ])
    assert.equal(ok.peerId.toString(), member, 'the identity is the one kept in the data directory')
    await waitUntil('the member connects', () => hub.libp2p.getPeers().some(p => p.equals(ok.peerId)), 20_000)
    // The others have had the same time, and more, to connect: give them a further margin, then check.
    await new Promise(resolve => setTimeout(resolve, 2000))
    const connected = hub.libp2p.getPeers().map(p => p.toString())
    assert.deepEqual(connected, [member])
    // Their own side may hold a half-made connection between two redials: what counts is that none gets through.
    for (const n of [outsider, stranger, open]) {
      await assert.rejects(n.libp2p.services.ping.ping(hub.multiaddrs[0] as Multiaddr, { signal: AbortSignal.timeout(5000) }), `${n.peerId.toString()} reached the hub`)
    }
    assert.deepEqual(hub.libp2p.getPeers().map(p => p.toString()), [member])
  })
})
