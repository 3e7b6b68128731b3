/**
 * Errors of the HTTP transport. The server never throws them at a caller: they are what a
 * `PayloadSender` rejects with when the other end answers with something other than an oadrPayload.
 */

/** The other end answered with an HTTP status other than 200. */
export class HttpStatusError extends Error {
  constructor (readonly url: string, readonly status: number, readonly body: string) {
    super(`${url} answered HTTP ${status}${body === '' ? '' : `: ${body.slice(0, 200)}`}`)
    this.name = 'HttpStatusError'
  }
}

/** The other end's answer exceeded the size limit. */
export class HttpBodyTooLargeError extends Error {
  constructor (readonly url: string, readonly limitBytes: number) {
    super(`${url} answered more than ${limitBytes} bytes`)
    this.name = 'HttpBodyTooLargeError'
  }
}

/** No complete answer within the timeout. */
export class HttpTimeoutError extends Error {
  constructor (readonly url: string, readonly timeoutMs: number) {
    super(`${url} did not answer within ${timeoutMs} ms`)
    this.name = 'HttpTimeoutError'
  }
}
