/**
 * A mesh node: the libp2p host with its persistent identity, the directory, the advertisement board and the
 * inter-matchmaking port, started and stopped in order. The agent builds one from its config and talks to
 * `port` (the InterMatchmakingPort), `publishAdvert`, `fellows` and `peers`.
 */
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { systemClock, type Clock } from '../util/clock.js'
import {
  DIRECTORY_RECORD_TTL_MS, MAX_MESSAGE_BYTES, REQUEST_BURST, REQUEST_RATE_PER_SECOND, REQUEST_TIMEOUT_MS, advertTopic
} from './constants.js'
import { MeshNotStartedError } from './errors.js'
import { loadOrCreateIdentity } from './identity.js'
import { createHost, type MeshLibp2p } from './host.js'
import { Directory, type DirectoryRecord } from './directory.js'
import { AdvertBoard, type AdvertContent, type FlexAdvert } from './adverts.js'
import { MeshMatchmaking } from './matchmaking.js'
import { defaultMeshLog, type MeshLog } from './log.js'
import { Rejoin } from './rejoin.js'

export interface MeshNodeInit {
  /** Directory holding the node's key (`peer-key.pb`). */
  dataDir: string
  /** Market contexts this node serves: its advert topics and directory provider keys. */
  marketContexts: string[]
  /** @default '' */
  region?: string
  /** The node's OpenADR VTN URL, published in its directory record. @default '' (none) */
  openadrEndpoint?: string
  /** SHA-256 (hex) of the node's OpenADR certificate, published in its directory record. @default 64 zeros (no certificate) */
  certFingerprint?: string
  /** @default ['inter-matchmaking'] */
  capabilities?: string[]
  /** @default ['/ip4/0.0.0.0/tcp/0'] */
  listen?: string[]
  /** Multiaddrs (with /p2p/<id>) to join through. @default [] */
  bootstrap?: string[]
  /** @default false */
  mdns?: boolean
  /** Private mesh key (swarm-key file contents, `@libp2p/pnet` format). @default undefined (open mesh) */
  psk?: Uint8Array
  /** Peer ids allowed to connect. @default undefined (anyone holding the mesh key) */
  allowList?: string[]
  /** @default 2_000 */
  requestTimeoutMs?: number
  /** @default 65_536 */
  maxMessageBytes?: number
  /** @default 20 */
  requestRatePerSecond?: number
  /** @default 40 */
  requestBurst?: number
  /** @default 3_600_000 */
  recordTtlMs?: number
  /** @default 300 */
  maxConnections?: number
}

export interface MeshNodeComponents {
  /** Simulation time: advert validity, record expiry, deadlines. @default systemClock */
  clock?: Clock
  /** Real time for rate limits. @default Date.now */
  realNowMs?: () => number
  /** @default pino at level warn */
  log?: MeshLog
}

/** A fellow as the API shows it: connected or not, and its directory record when known. */
export interface PeerView {
  peerId: string
  connected: boolean
  record?: DirectoryRecord
}

interface Running {
  libp2p: MeshLibp2p
  rejoin: Rejoin
  directory: Directory
  adverts: AdvertBoard
  matchmaking: MeshMatchmaking
}

export class MeshNode {
  private running: Running | undefined
  /** Peers this node refuses (block/unblock), read by the host's connection gater. */
  private readonly blocked = new Set<string>()
  private readonly clock: Clock
  private readonly log: MeshLog

  constructor (private readonly init: MeshNodeInit, private readonly components: MeshNodeComponents = {}) {
    this.clock = components.clock ?? systemClock
    this.log = components.log ?? defaultMeshLog()
  }

  async start (): Promise<void> {
    if (this.running !== undefined) return
    const init = this.init
    const privateKey = await loadOrCreateIdentity(init.dataDir)
    const libp2p = await createHost({
      listen: init.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      bootstrap: init.bootstrap ?? [],
      mdns: init.mdns ?? false,
      psk: init.psk,
      allowList: init.allowList === undefined ? undefined : new Set(init.allowList),
      denied: this.blocked,
      maxConnections: init.maxConnections ?? 300,
      scoredTopics: init.marketContexts.map(advertTopic)
    }, privateKey, this.clock)
    const shared = { privateKey, peerId: libp2p.peerId, clock: this.clock, log: this.log }
    const directory = new Directory({ ...shared, dht: libp2p.services.dht }, {
      entry: {
        marketContexts: init.marketContexts,
        region: init.region ?? '',
        openadrEndpoint: init.openadrEndpoint ?? '',
        capabilities: init.capabilities ?? ['inter-matchmaking'],
        certFingerprint: init.certFingerprint ?? '0'.repeat(64)
      },
      recordTtlMs: init.recordTtlMs ?? DIRECTORY_RECORD_TTL_MS
    })
    const adverts = new AdvertBoard({ ...shared, pubsub: libp2p.services.pubsub }, { marketContexts: init.marketContexts })
    const matchmaking = new MeshMatchmaking({
      libp2p, adverts, clock: this.clock, log: this.log, realNowMs: this.components.realNowMs ?? (() => Date.now())
    }, {
      requestTimeoutMs: init.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      maxMessageBytes: init.maxMessageBytes ?? MAX_MESSAGE_BYTES,
      requestRatePerSecond: init.requestRatePerSecond ?? REQUEST_RATE_PER_SECOND,
      requestBurst: init.requestBurst ?? REQUEST_BURST
    })
    // Handlers and subscriptions first, so nothing that arrives right after the host starts is lost.
    await matchmaking.start()
    await adverts.start()
    await libp2p.start()
    await directory.start()
    const rejoin = new Rejoin(libp2p, this.log, {
      bootstrap: init.bootstrap ?? [], minIntervalMs: 1000, maxIntervalMs: 30_000, minPeers: 6, dialTimeoutMs: 10_000
    })
    rejoin.start()
    this.running = { libp2p, rejoin, directory, adverts, matchmaking }
  }

  async stop (): Promise<void> {
    const r = this.running
    if (r === undefined) return
    this.running = undefined
    r.rejoin.stop()
    await r.directory.stop()
    await r.adverts.stop()
    await r.matchmaking.stop()
    await r.libp2p.stop()
  }

  private get r (): Running {
    if (this.running === undefined) throw new MeshNotStartedError()
    return this.running
  }

  get peerId (): PeerId { return this.r.libp2p.peerId }
  get multiaddrs (): Multiaddr[] { return this.r.libp2p.getMultiaddrs() }
  get libp2p (): MeshLibp2p { return this.r.libp2p }
  get directory (): Directory { return this.r.directory }
  get adverts (): AdvertBoard { return this.r.adverts }
  /** The inter-matchmaking port the agent uses. */
  get port (): MeshMatchmaking { return this.r.matchmaking }

  /**
   * Cuts this node off from `peerIds` (a network partition, a fellow the operator no longer trusts): their
   * connections close and neither side can open a new one until `unblock`.
   */
  async block (peerIds: string[]): Promise<void> {
    for (const id of peerIds) this.blocked.add(id)
    const libp2p = this.r.libp2p
    await Promise.all(libp2p.getPeers().filter(p => this.blocked.has(p.toString())).map(async p => { await libp2p.hangUp(p) }))
  }

  /** Lets `peerIds` connect again; nothing redials them by itself but bootstrap peers and the rejoin below `minPeers`. */
  unblock (peerIds: string[]): void {
    for (const id of peerIds) this.blocked.delete(id)
  }

  /** Signs and gossips this node's flexibility over the coming horizon. */
  async publishAdvert (content: AdvertContent): Promise<FlexAdvert> {
    return await this.r.adverts.publish(content)
  }

  /** Publishes the directory record now (it is also published at start and refreshed before expiry). */
  async publishRecord (signal?: AbortSignal): Promise<DirectoryRecord> {
    return await this.r.directory.publish(signal)
  }

  /** Fellows serving `marketContext`, found through the DHT, each with its verified record. */
  async fellows (marketContext: string, signal?: AbortSignal): Promise<DirectoryRecord[]> {
    return await this.r.directory.findFellows(marketContext, signal)
  }

  /** Connected peers and every fellow with a known record. */
  peers (): PeerView[] {
    const { libp2p, directory } = this.r
    const views = new Map<string, PeerView>()
    for (const record of directory.knownRecords()) {
      if (record.peerId !== libp2p.peerId.toString()) views.set(record.peerId, { peerId: record.peerId, connected: false, record })
    }
    for (const peer of libp2p.getPeers()) {
      const id = peer.toString()
      views.set(id, { ...(views.get(id) ?? { peerId: id }), connected: true })
    }
    return [...views.values()]
  }
}
