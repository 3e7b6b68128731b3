/**
 * The mesh options of a node's configuration (src/node/config.ts) as the AgentMesh's init: whether the node
 * runs on the mesh at all, its identity directory inside the data directory, the comma lists split, and the
 * private mesh key read from its file. A bad key file is a ConfigError, so `adrmesh node` says what is wrong.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, type NodeConfig } from './config.js'
import type { AgentMeshInit } from './mesh.js'

const list = (value: string | undefined): string[] => (value ?? '').split(',').map(s => s.trim()).filter(s => s !== '')

/** True when the configuration asks for the mesh (a listen address, a bootstrap peer or mDNS). */
export function meshEnabled (config: NodeConfig): boolean {
  return list(config.bootstrap).length > 0 || list(config.p2pListen).length > 0 || config.mdns === 'on'
}

/** The mesh key file's bytes, checked for the swarm-key header `@libp2p/pnet` expects. */
export async function readMeshKey (path: string, read: (path: string) => Promise<Uint8Array> = readFile): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await read(path)
  } catch (err) {
    throw new ConfigError(`mesh key ${path}: ${(err as Error).message}`)
  }
  if (!Buffer.from(bytes).toString('utf8').startsWith('/key/swarm/psk/1.0.0/')) {
    throw new ConfigError(`mesh key ${path}: not a swarm key (expected a /key/swarm/psk/1.0.0/ header)`)
  }
  return bytes
}

/**
 * The AgentMesh init for `config`, or null when the mesh is off. `customerContexts` are the market
 * contexts of the node's enrolled customers, served besides the configured ones.
 */
export async function meshInitFromConfig (config: NodeConfig, customerContexts: string[] = [],
  openadrEndpoint = ''): Promise<AgentMeshInit | null> {
  if (!meshEnabled(config)) return null
  const listen = list(config.p2pListen)
  const allow = list(config.allowPeers)
  return {
    dataDir: join(config.dataDir, 'mesh'),
    marketContexts: [...new Set([...list(config.marketContexts), ...customerContexts])],
    region: config.region ?? '',
    openadrEndpoint,
    listen: listen.length > 0 ? listen : ['/ip4/0.0.0.0/tcp/0'],
    bootstrap: list(config.bootstrap),
    mdns: config.mdns === 'on',
    ...(config.meshKey === undefined ? {} : { psk: await readMeshKey(config.meshKey) }),
    ...(allow.length > 0 ? { allowList: allow } : {})
  }
}
