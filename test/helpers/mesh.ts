/**
 * The shared multi-node harness: starts N mesh nodes on 127.0.0.1, node 0 first, the others joining through
 * node 0's address alone, each with its own temporary data directory; waits until every node sees every
 * other as an advert-topic subscriber (gossip ready). Used by the p2p tests and by the agents' mesh tests.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '@libp2p/pnet'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/p2p/identity.js'
import { MeshNode, type MeshNodeInit, type MeshNodeComponents } from '../../src/p2p/meshNode.js'
import { advertTopic } from '../../src/p2p/constants.js'
import type { MeshLog } from '../../src/p2p/log.js'

export const MARKET_CONTEXT = 'http://market.example/adrmesh/test'

export interface MeshOptions {
  n: number
  marketContexts?: string[]
  /** Extra node options (every node), e.g. psk, allowList, requestTimeoutMs. */
  init?: Partial<MeshNodeInit>
  components?: MeshNodeComponents
  /** Wait until every node sees all others on each advert topic. @default true */
  waitReady?: boolean
  /** Data directories holding keys made by `prepareIdentities` (node i uses dataDirs[i]). */
  dataDirs?: string[]
}

export interface Mesh {
  nodes: MeshNode[]
  /** Node 0's dialable address (with /p2p/<id>). */
  bootstrap: string
  dataDirs: string[]
  /** Starts one more node joining through the bootstrap, with its own options. */
  addNode: (init?: Partial<MeshNodeInit>, components?: MeshNodeComponents) => Promise<MeshNode>
  stop: () => Promise<void>
}

/** A fresh swarm key in the `@libp2p/pnet` format. */
export function makeSwarmKey (): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}

/** Data directories with a key each, so peer ids are known before nodes start (allow-lists). */
export async function prepareIdentities (n: number): Promise<Array<{ dataDir: string, peerId: string }>> {
  return await Promise.all(Array.from({ length: n }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'adrmesh-p2p-'))
    const key = await loadOrCreateIdentity(dataDir)
    return { dataDir, peerId: peerIdFromPrivateKey(key).toString() }
  }))
}

export async function waitUntil (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

/** A log that keeps what it is given, for tests that assert something was logged. */
export function recordingLog (): MeshLog & { entries: Array<{ level: string, msg: string, obj: object }> } {
  const entries: Array<{ level: string, msg: string, obj: object }> = []
  const at = (level: string) => (obj: object, msg: string) => { entries.push({ level, msg, obj }) }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export async function startMesh (options: MeshOptions): Promise<Mesh> {
  const marketContexts = options.marketContexts ?? [MARKET_CONTEXT]
  const nodes: MeshNode[] = []
  const dataDirs: string[] = []
  const make = async (extra: Partial<MeshNodeInit>, bootstrap: string[], components?: MeshNodeComponents): Promise<MeshNode> => {
    // Slot reserved before any await: nodes start in parallel, and nodes[i] must own dataDirs[i].
    const index = dataDirs.length
    dataDirs.push('')
    const dataDir = options.dataDirs?.[index] ?? await mkdtemp(join(tmpdir(), 'adrmesh-p2p-'))
    dataDirs[index] = dataDir
    const node = new MeshNode({
      dataDir,
      marketContexts,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
      region: 'test',
      openadrEndpoint: 'http://127.0.0.1:8080/OpenADR2/Simple/2.0b',
      ...options.init,
      ...extra
    }, components ?? options.components)
    nodes[index] = node
    await node.start()
    return node
  }
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await Promise.allSettled(dataDirs.filter(d => d !== '').map(async d => { await rm(d, { recursive: true, force: true }) }))
  }
  try {
    const first = await make({}, [])
    const bootstrap = first.multiaddrs[0]?.toString()
    if (bootstrap === undefined) throw new Error('node 0 has no address')
    await Promise.all(Array.from({ length: options.n - 1 }, async () => await make({}, [bootstrap])))
    if (options.waitReady ?? true) {
      const all = [...nodes]
      await waitUntil('every node subscribed to by all others', () => all.every(node => marketContexts.every(mc =>
        node.libp2p.services.pubsub.getSubscribers(advertTopic(mc)).length >= all.length - 1)), 30_000)
    }
    return {
      nodes,
      bootstrap,
      dataDirs,
      addNode: async (init = {}, components) => await make(init, [bootstrap], components),
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
