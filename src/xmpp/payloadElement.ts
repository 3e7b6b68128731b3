/**
 * oadrPayload documents as XMPP stanza children: text → element (the IQ's single child) and back, and which
 * OpenADR service an incoming payload is for. The XMPP binding routes by JID, not by URL, so the service
 * is read off the message inside oadrSignedObject.
 *
 * XMPP servers re-serialise stanzas: Prosody turns `ei:venID` into `<venID xmlns="…energyinterop…">` and
 * renames attribute prefixes (`ns1:schemaVersion`). The document stays namespace-equivalent, so a reader
 * must resolve namespaces, never match on prefixes.
 */
import { SaxesParser } from 'saxes'
import { xml, type XmlElement } from '@xmpp/client'
import { messageTypes, serviceOf } from '../openadr/codec/payload.js'
import type { OadrMessageType } from '../openadr/model/message.js'
import type { OadrServiceName } from '../openadr/transport.js'
import { oadrPayloadNs } from './constants.js'
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

/** The element as a standalone document, with the namespace declarations it inherited from the stanza. */
export function documentOf (element: XmlElement): string {
  const inherited: Record<string, string> = {}
  for (let ancestor = element.parent; ancestor !== null && ancestor !== undefined; ancestor = ancestor.parent) {
    for (const [name, value] of Object.entries(ancestor.attrs)) {
      if (name.startsWith('xmlns:') && value !== undefined && !(name in inherited)) inherited[name] = value
    }
  }
  const missing = Object.entries(inherited).filter(([name]) => element.attrs[name] === undefined)
  if (missing.length === 0) return element.toString()
  const copy = new xml.Element(element.name, { ...Object.fromEntries(missing), ...definedAttrs(element) })
  copy.append(...element.children)
  const text = copy.toString()
  // Appending re-parented the children: give them back.
  for (const child of element.children) if (typeof child !== 'string') child.parent = element
  return text
}

function definedAttrs (element: XmlElement): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(element.attrs)) if (value !== undefined) out[name] = value
  return out
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
