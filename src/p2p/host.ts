/**
 * The libp2p host of a mesh node: TCP, Noise, Yamux, identify, ping, a Kademlia DHT on our own protocol
 * (server mode, loopback and LAN addresses kept), gossipsub tuned for many peers on one address, bootstrap
 * peers kept alive, mDNS only when asked, and the private-mesh guards (pre-shared key, allow-list gater).
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { bootstrap } from '@libp2p/bootstrap'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import type { RPC } from '@libp2p/gossipsub/message'
import { toString } from 'uint8arrays'
import { KEEP_ALIVE, type ComponentLogger, type ConnectionGater, type Logger, type PeerDiscovery, type PrivateKey, type PeerId } from '@libp2p/interface'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { Clock } from '../util/clock.js'
import { DHT_PROTOCOL, DIRECTORY_NAMESPACE, MAX_ADVERT_BYTES } from './constants.js'
import { directoryDhtHooks } from './directory.js'

export interface MeshServices extends Record<string, unknown> {
  dht: KadDHT
  pubsub: GossipSub
  identify: Identify
  ping: Ping
}

export type MeshLibp2p = Libp2p<MeshServices>

export interface HostInit {
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Multiaddrs (with /p2p/<id>) of peers to join through. */
  bootstrap: string[]
  /** Discover peers on the LAN by multicast DNS. */
  mdns: boolean
  /** Private mesh key, in the swarm-key format of `@libp2p/pnet`; absent: an open mesh. */
  psk?: Uint8Array
  /** Peer ids allowed to connect (both ways); absent: anyone with the mesh key. */
  allowList?: Set<string>
  /** Peer ids refused while in the set (it is read at every dial and connection, so it may change). @default none */
  denied?: Set<string>
  /** Upper bound on open connections. */
  maxConnections: number
  /** Gossip topics whose invalid messages score their sender down. */
  scoredTopics: string[]
}

/**
 * Scoring of an advertisement topic: only invalid messages count (squared, so a few forged adverts push the
 * sender below the graylist threshold). Adverts are rare, so the delivery-rate penalties are off: they would
 * punish honest quiet peers.
 */
const advertTopicScore = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 10,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9
})

const NONE = new Uint8Array(0)

/**
 * Gossipsub's duplicate check before signature verification. Without it every copy a node receives (one per
 * mesh neighbour, ~7 at N = 50) is Ed25519-verified before being found a duplicate: at N = 50 in one process
 * that was 85 % of the verifications. Sender and sequence number are what StrictSign's message id is made of;
 * gossipsub caches this id only once the signature verified, so a forged copy cannot shadow the real one.
 */
export function fastMessageId (msg: RPC.Message): string {
  return `${toString(msg.from ?? NONE, 'base64')}/${toString(msg.seqno ?? NONE, 'base16')}`
}

/**
 * Denies every peer not on the allow-list (when there is one) or in `denied`, before any stream can be opened
 * on its connection.
 */
export function allowListGater (allowList: Set<string> | undefined, denied: Set<string> = new Set()): ConnectionGater {
  const refused = (peer: PeerId): boolean => denied.has(peer.toString()) || (allowList !== undefined && !allowList.has(peer.toString()))
  return {
    denyDialPeer: refused,
    denyInboundEncryptedConnection: refused,
    denyOutboundEncryptedConnection: refused
  }
}

/**
 * libp2p's own logs are `debug` loggers, and libp2p makes one per connection, stream and muxer whether or not
 * `DEBUG` enables them: a closure, its property accessors and a scope chain each. At 50 nodes in one process
 * (~3,000 connections) they were about 15 MB and 150,000 objects of the heap that every major collection marks.
 * The node logs through pino; libp2p's logs are only for debugging libp2p itself, so they exist only when `DEBUG`
 * asks for them.
 */
export function libp2pLogger (env: Record<string, string | undefined> = process.env): ComponentLogger | undefined {
  if (env.DEBUG !== undefined && env.DEBUG !== '') return undefined
  const silent: Logger = Object.assign(() => {}, {
    error: () => {},
    trace: () => {},
    enabled: false,
    newScope: () => silent
  })
  return { forComponent: () => silent }
}

/** Idle time after which TCP keepalive starts probing a connection (the kernel's probes then tell a vanished host). */
const TCP_KEEPALIVE_DELAY_MS = 60_000

export async function createHost (init: HostInit, privateKey: PrivateKey, clock: Clock): Promise<MeshLibp2p> {
  const hooks = directoryDhtHooks(clock)
  const discovery: Array<(components: any) => PeerDiscovery> = []
  if (init.bootstrap.length > 0) {
    // Bootstrap dials once and never again; KEEP_ALIVE makes the connection manager redial a dropped one.
    discovery.push(bootstrap({ list: init.bootstrap, tagName: KEEP_ALIVE, timeout: 0 }))
  }
  // mDNS and the pre-shared key are loaded only when asked for: a node without them does not carry their code.
  if (init.mdns) discovery.push((await import('@libp2p/mdns')).mdns())
  const connectionProtector = init.psk === undefined ? undefined : (await import('@libp2p/pnet')).preSharedKey({ psk: init.psk })
  return await createLibp2p<MeshServices>({
    privateKey,
    logger: libp2pLogger(),
    addresses: { listen: init.listen },
    transports: [tcp({
      inboundSocketInactivityTimeout: 0,
      outboundSocketInactivityTimeout: 0,
      dialOpts: { keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS },
      listenOpts: { keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS }
    })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector,
    connectionGater: init.allowList === undefined && init.denied === undefined ? {} : allowListGater(init.allowList, init.denied),
    connectionManager: {
      maxConnections: init.maxConnections,
      // Many nodes join through one bootstrap at once: the defaults left most of 50 nodes isolated.
      inboundConnectionThreshold: init.maxConnections,
      maxIncomingPendingConnections: init.maxConnections
    },
    // libp2p's connection monitor pings every connection on a new stream, all of a node's connections at once
    // every interval, and aborting on a failed ping cut healthy connections (at 50 nodes in one loaded process
    // 35 nodes ended isolated: a ping's deadline times this node's own event loop). Without aborting, its pings
    // only kept idle connections from @libp2p/tcp's 2-minute inactivity close, and at 50 nodes their waves of
    // ~3,000 streams took the whole CPU for 4-5 s each minute. So no monitor and no inactivity close: TCP
    // keepalive probes an idle connection after a minute, a peer that exits closes its connections (FIN/RST),
    // and a hung one fails the request timeout, the requester moving to the next peer.
    connectionMonitor: { enabled: false },
    peerDiscovery: discovery,
    services: {
      identify: identify(),
      // The DHT pings old routing-table contacts on it.
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        // kad-dht's defaults (10 parallel requests on 10 disjoint paths) are sized for the public IPFS DHT; in a
        // mesh of tens of nodes every lookup asks nearly every node at once.
        alpha: 3,
        disjointPaths: 3,
        validators: { [DIRECTORY_NAMESPACE]: hooks.validator },
        selectors: { [DIRECTORY_NAMESPACE]: hooks.selector }
      }),
      pubsub: gossipsub({
        emitSelf: false,
        allowPublishToZeroTopicPeers: true,
        globalSignaturePolicy: 'StrictSign',
        fastMsgIdFn: fastMessageId,
        // A market's mesh is tens to a hundred nodes, nearly all connected to each other, and an advert is flood
        // published to every topic peer. Each mesh peer forwarding it again mostly makes duplicates that every
        // receiver still decrypts and decodes (at N = 50 the default degree of 6 to 12 was ~6 copies a node); a
        // degree of 4 to 8 keeps paths to nodes the publisher is not connected to and halves that work, and
        // gossip to 3 lazy peers a heartbeat is enough to repair a miss at this size.
        D: 4,
        Dlo: 3,
        Dhi: 8,
        Dscore: 2,
        Dout: 2,
        Dlazy: 3,
        gossipFactor: 0,
        // Flood publishing to every topic peer encodes the message once instead of once per peer.
        batchPublish: true,
        // An IDONTWANT is a frame to every mesh peer, costing about what the duplicate it might spare costs for
        // messages as small as adverts (and on a fast link it rarely arrives before the duplicate is sent).
        idontwantMinDataSize: MAX_ADVERT_BYTES,
        // Nodes of one host or one NAT share an address; the colocation penalty would starve them all.
        scoreParams: {
          IPColocationFactorWeight: 0,
          topics: Object.fromEntries(init.scoredTopics.map(topic => [topic, advertTopicScore]))
        }
      })
    }
  })
}
