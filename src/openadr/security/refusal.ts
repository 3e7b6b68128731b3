/**
 * The oadrResponse that refuses a payload before the service has seen it (a bad signature, a replayed
 * nonce). It carries the requestID and venID when the payload can still be read, so the sender can match
 * the refusal to its request.
 */
import { decodePayload, encodePayload } from '../codec/index.js'
import type { OadrError } from '../errors.js'
import type { OadrMessage } from '../model/message.js'
import type { OadrServiceName } from '../transport.js'

export function oadrRefusal (_service: OadrServiceName, xml: string, error: OadrError): string {
  let message: OadrMessage | undefined
  try {
    message = decodePayload(xml)
  } catch {
    message = undefined
  }
  const requestID = message === undefined ? '' : 'requestID' in message ? message.requestID : ('eiResponse' in message && message.eiResponse !== undefined ? message.eiResponse.requestID : '')
  const venID = message !== undefined && 'venID' in message ? message.venID : undefined
  return encodePayload({
    type: 'oadrResponse',
    eiResponse: { responseCode: error.responseCode, responseDescription: xmlSafe(error.message.slice(0, 300)), requestID },
    ...(venID === undefined ? {} : { venID })
  })
}

/** The message may quote the refused input: characters XML 1.0 cannot carry would make the answer unreadable. */
function xmlSafe (text: string): string {
  return text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
}
