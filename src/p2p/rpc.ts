/**
 * Request/response over libp2p streams: one stream per request, one length-prefixed JSON frame each way.
 * The client side bounds every call by a real-time timeout (dial included) and the caller's signal; the
 * server side enforces the frame size limit and the per-peer rate limit, and drops (logs, resets the stream)
 * anything malformed: a bad peer costs a log line, never a crash.
 */
import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId, Stream, Connection } from '@libp2p/interface'
import { fromString, toString } from 'uint8arrays'
import { MeshProtocolError, MeshRequestTimeoutError } from './errors.js'
import type { RateLimiter } from './rateLimiter.js'
import type { MeshLog } from './log.js'

export interface RequestOptions {
  timeoutMs: number
  maxBytes: number
  signal?: AbortSignal
}

/** Sends `request` to `peer` on `protocol` and resolves to the parsed JSON answer. */
export async function request (libp2p: Libp2p, peer: PeerId, protocol: string, body: unknown, options: RequestOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  let stream: Stream | undefined
  try {
    stream = await libp2p.dialProtocol(peer, protocol, { signal })
    const lp = lpStream(stream, { maxDataLength: options.maxBytes })
    await lp.write(fromString(JSON.stringify(body)), { signal })
    const answer = await lp.read({ signal })
    await stream.close({ signal }).catch(() => {})
    try {
      return JSON.parse(toString(answer.subarray()))
    } catch {
      throw new MeshProtocolError(`${protocol}: answer from ${peer.toString()} is not JSON`)
    }
  } catch (err) {
    stream?.abort(err as Error)
    if (timeout.aborted && options.signal?.aborted !== true) {
      throw new MeshRequestTimeoutError(`${protocol}: no answer from ${peer.toString()} within ${options.timeoutMs} ms`)
    }
    throw err
  }
}

export interface ServeOptions {
  maxBytes: number
  /** Real time a peer has to send its request and we have to answer. */
  timeoutMs: number
  limiter: RateLimiter
  log: MeshLog
}

/**
 * Registers `handler` for `protocol`. The handler gets the parsed JSON and returns the answer; when it throws
 * MeshProtocolError (a malformed request) the stream is reset and the event logged.
 */
export async function serve (libp2p: Libp2p, protocol: string, handler: (body: unknown, from: string) => Promise<unknown>, options: ServeOptions): Promise<void> {
  await libp2p.handle(protocol, async (stream: Stream, connection: Connection) => {
    const from = connection.remotePeer.toString()
    const signal = AbortSignal.timeout(options.timeoutMs)
    try {
      if (!options.limiter.take(from)) {
        options.log.warn({ peerId: from, protocol }, 'request rate limit exceeded, stream reset')
        stream.abort(new MeshProtocolError('rate limit exceeded'))
        return
      }
      const lp = lpStream(stream, { maxDataLength: options.maxBytes })
      const frame = await lp.read({ signal })
      let body: unknown
      try {
        body = JSON.parse(toString(frame.subarray()))
      } catch {
        throw new MeshProtocolError('request is not JSON')
      }
      const answer = await raceAbort(handler(body, from), signal)
      await lp.write(fromString(JSON.stringify(answer)), { signal })
      await stream.close({ signal })
    } catch (err) {
      options.log.warn({ peerId: from, protocol, err: (err as Error).message }, 'inbound request dropped')
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 64, maxOutboundStreams: 64 })
}

/** `promise`, or a rejection once `signal` aborts: a hung handler must not hold the stream open forever. */
async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new MeshRequestTimeoutError('no answer in time from the local handler')) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
