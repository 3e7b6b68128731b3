/**
 * oadrPayload documents as XMPP stanza children: text → element (the IQ's single child) and back, and which
 * OpenADR service an incoming payload is for. The XMPP binding routes by JID, not by URL, so the service
 * is read off the message inside oadrSignedObject.
 * XMPP servers re-serialise stanzas (see prefixes.ts), so names are matched by local name here.
 */
import { SaxesParser } from 'saxes'
import { xml, type XmlElement } from '@xmpp/client'
import { messageTypes, serviceOf } from '../openadr/codec/payload.js'
import type { OadrMessageType } from '../openadr/model/message.js'
import type { OadrServiceName } from '../openadr/transport.js'
import { oadrPayloadNs } from './constants.js'
import { withConventionalPrefixes } from './prefixes.js'
import { XmppPayloadError } from './errors.js'

const knownMessages: ReadonlySet<string> = new Set(messageTypes)

/** Parses an oadrPayload document into a stanza element, keeping its names and namespace declarations. */
export function payloadElementOf (document: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true })
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let rootIsPayload = false
  parser.on('doctype', () => { throw new XmppPayloadError('DOCTYPE is not allowed in an oadrPayload') })
  parser.on('opentag', tag => {
    const attrs: Record<string, string> = {}
    for (const [name, attr] of Object.entries(tag.attributes)) attrs[name] = attr.value
    const element = new xml.Element(tag.name, attrs)
    const parent = stack.at(-1)
    if (parent === undefined) {
      root = element
      rootIsPayload = tag.local === 'oadrPayload' && tag.uri === oadrPayloadNs
    } else {
      parent.append(element)
    }
    stack.push(element)
  })
  parser.on('closetag', () => { stack.pop() })
  const onText = (text: string): void => { stack.at(-1)?.append(text) }
  parser.on('text', onText)
  parser.on('cdata', onText)
  try {
    parser.write(document).close()
  } catch (err) {
    if (err instanceof XmppPayloadError) throw err
    throw new XmppPayloadError(`not well-formed XML: ${(err as Error).message}`)
  }
  if (root === undefined || !rootIsPayload) throw new XmppPayloadError(`the root element is not {${oadrPayloadNs}}oadrPayload`)
  return root
}

/**
 * A received stanza child as a standalone document, with the conventional prefixes restored (so a signature
 * made over the sender's document still verifies) and every namespace it uses declared.
 */
export function documentOf (element: XmlElement): string {
  return withConventionalPrefixes(element).toString()
}

/** The OpenADR service an incoming oadrPayload element is for, or undefined when it holds no 2.0b message. */
export function serviceOfPayload (payload: XmlElement): OadrServiceName | undefined {
  const signedObject = payload.getChildElements().find(child => localName(child.name) === 'oadrSignedObject')
  const message = signedObject?.getChildElements()[0]
  if (message === undefined) return undefined
  const type = localName(message.name)
  return knownMessages.has(type) ? serviceOf(type as OadrMessageType) : undefined
}

function localName (qualified: string): string {
  const colon = qualified.indexOf(':')
  return colon === -1 ? qualified : qualified.slice(colon + 1)
}
