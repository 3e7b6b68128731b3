/**
 * Names and limits of the adrmesh mesh: protocol ids (versioned, so a node can speak two versions while a
 * mesh upgrades), the DHT namespace, and the default sizes and durations the `…Init` options fall back to.
 */

/** Milliseconds in a second, a minute, an hour. */
export const second = 1000
export const minute = 60 * second
export const hour = 60 * minute

/** Prefix of every adrmesh protocol, the Kademlia one included: adrmesh nodes never join the public IPFS DHT. */
export const PROTOCOL_PREFIX = '/adrmesh'
export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`
export const FLEX_QUERY_PROTOCOL = `${PROTOCOL_PREFIX}/flex-query/1.0.0`
export const COVER_PROTOCOL = `${PROTOCOL_PREFIX}/cover/1.0.0`
export const OUTCOME_PROTOCOL = `${PROTOCOL_PREFIX}/outcome/1.0.0`

/** DHT key namespace of directory records (`/adrmesh-dir/<peerId>`); kad-dht picks the validator by it. */
export const DIRECTORY_NAMESPACE = 'adrmesh-dir'

/** Gossipsub topic of the flexibility advertisements of one market context. */
export function advertTopic (marketContext: string): string {
  return `${PROTOCOL_PREFIX}/flex/1/${marketContext}`
}

/** Largest request or response on a request/response stream; a larger frame aborts the stream. */
export const MAX_MESSAGE_BYTES = 64 * 1024
/** Largest advertisement accepted from gossip. */
export const MAX_ADVERT_BYTES = 16 * 1024
/** Most intervals an advertisement or request may carry (a day of 5-minute intervals). */
export const MAX_INTERVALS = 288
/** Real time a request may take, dial included, before the caller gets a timeout. */
export const REQUEST_TIMEOUT_MS = 2 * second
/** Requests per second a peer may send us (sustained), and the burst it may use up at once. */
export const REQUEST_RATE_PER_SECOND = 20
export const REQUEST_BURST = 40
/** How long a directory record is valid; it is republished at half this. */
export const DIRECTORY_RECORD_TTL_MS = hour
/** Tolerated clock difference between nodes when checking `issuedAtMs`. */
export const CLOCK_SKEW_MS = 30 * second
/** Longest validity an advertisement may claim. */
export const MAX_ADVERT_VALIDITY_MS = 24 * hour
