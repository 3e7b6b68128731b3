/** The libp2p mesh between adrmesh nodes. */
export { MeshNode, type MeshNodeInit, type MeshNodeComponents, type PeerView } from './meshNode.js'
export { MeshMatchmaking, forwardRequest, offerFromAdvert, type FlexQueryHandler } from './matchmaking.js'
export { askPeersInOrder, type CoverWalk } from './askInOrder.js'
export { type DirectoryRecord, type DirectoryEntry, isPeerId } from './directory.js'
export { type FlexAdvert, type AdvertContent } from './adverts.js'
export { loadOrCreateIdentity } from './identity.js'
export { MeshRequestTimeoutError, MeshProtocolError, InvalidSignedMessageError, MeshNotStartedError } from './errors.js'
export type { MeshLog } from './log.js'
