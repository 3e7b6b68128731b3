/**
 * The oadrPayload envelope: `encodePayload` writes any message inside oadrPayload/oadrSignedObject with the
 * namespaces declared once on the root; `decodePayload` parses strictly and returns the typed message. Which
 * service a message belongs to is here too (`serviceOf`), so a transport can route and a handler can refuse
 * a message sent to the wrong service.
 */
import type { MessageOf, OadrMessage, OadrMessageType } from '../model/message.js'
import type { OadrServiceName } from '../transport.js'
import { SchemaViolationError } from '../errors.js'
import { NS, rootNamespaceDeclarations } from './namespaces.js'
import { Seq, attribute, readSeq, text } from './reader.js'
import { parseXml } from './xml.js'
import type { XmlElement, XmlParseOptions } from './xml.js'
import * as ev from './event.js'
import * as reg from './registration.js'
import * as rep from './report.js'
import * as opt from './opt.js'
import { leaf } from './writer.js'

interface Codec<T extends OadrMessageType> {
  service: OadrServiceName
  encode: (m: MessageOf<T>) => string
  decode: (s: Seq) => MessageOf<T>
}

type CodecTable = { [T in OadrMessageType]: Codec<T> }

const codecs: CodecTable = {
  oadrDistributeEvent: { service: 'EiEvent', encode: ev.encodeDistributeEvent, decode: ev.decodeDistributeEvent },
  oadrCreatedEvent: { service: 'EiEvent', encode: ev.encodeCreatedEvent, decode: ev.decodeCreatedEvent },
  oadrRequestEvent: { service: 'EiEvent', encode: ev.encodeRequestEvent, decode: ev.decodeRequestEvent },
  oadrResponse: { service: 'EiEvent', encode: ev.encodeResponse, decode: ev.decodeResponse },
  oadrCancelOpt: { service: 'EiOpt', encode: opt.encodeCancelOpt, decode: opt.decodeCancelOpt },
  oadrCanceledOpt: { service: 'EiOpt', encode: opt.encodeCanceledOpt, decode: opt.decodeCanceledOpt },
  oadrCreateOpt: { service: 'EiOpt', encode: opt.encodeCreateOpt, decode: opt.decodeCreateOpt },
  oadrCreatedOpt: { service: 'EiOpt', encode: opt.encodeCreatedOpt, decode: opt.decodeCreatedOpt },
  oadrCancelReport: { service: 'EiReport', encode: rep.encodeCancelReport, decode: rep.decodeCancelReport },
  oadrCanceledReport: { service: 'EiReport', encode: rep.encodeCanceledReport, decode: rep.decodeCanceledReport },
  oadrCreateReport: { service: 'EiReport', encode: rep.encodeCreateReport, decode: rep.decodeCreateReport },
  oadrCreatedReport: { service: 'EiReport', encode: rep.encodeCreatedReport, decode: rep.decodeCreatedReport },
  oadrRegisterReport: { service: 'EiReport', encode: rep.encodeRegisterReport, decode: rep.decodeRegisterReport },
  oadrRegisteredReport: { service: 'EiReport', encode: rep.encodeRegisteredReport, decode: rep.decodeRegisteredReport },
  oadrUpdateReport: { service: 'EiReport', encode: rep.encodeUpdateReport, decode: rep.decodeUpdateReport },
  oadrUpdatedReport: { service: 'EiReport', encode: rep.encodeUpdatedReport, decode: rep.decodeUpdatedReport },
  oadrCancelPartyRegistration: { service: 'EiRegisterParty', encode: reg.encodeCancelPartyRegistration, decode: reg.decodeCancelPartyRegistration },
  oadrCanceledPartyRegistration: { service: 'EiRegisterParty', encode: reg.encodeCanceledPartyRegistration, decode: reg.decodeCanceledPartyRegistration },
  oadrCreatePartyRegistration: { service: 'EiRegisterParty', encode: reg.encodeCreatePartyRegistration, decode: reg.decodeCreatePartyRegistration },
  oadrCreatedPartyRegistration: { service: 'EiRegisterParty', encode: reg.encodeCreatedPartyRegistration, decode: reg.decodeCreatedPartyRegistration },
  oadrRequestReregistration: { service: 'EiRegisterParty', encode: reg.encodeRequestReregistration, decode: reg.decodeRequestReregistration },
  oadrQueryRegistration: { service: 'EiRegisterParty', encode: reg.encodeQueryRegistration, decode: reg.decodeQueryRegistration },
  oadrPoll: { service: 'OadrPoll', encode: m => leaf('ei:venID', m.venID), decode: s => ({ type: 'oadrPoll', venID: text(s.one(NS.ei, 'venID')) }) }
}

export const messageTypes = Object.keys(codecs) as OadrMessageType[]

/** The service a VEN sends this message to (responses travel back on the same exchange). */
export function serviceOf (type: OadrMessageType): OadrServiceName {
  return codecs[type].service
}

const prologue = `<?xml version="1.0" encoding="utf-8"?>\n<oadr:oadrPayload${rootNamespaceDeclarations}><oadr:oadrSignedObject>`
const epilogue = '</oadr:oadrSignedObject></oadr:oadrPayload>'

/** The message element alone (`<oadr:oadrPoll …>…</oadr:oadrPoll>`), for signing or embedding. */
export function encodeMessage (message: OadrMessage): string {
  const codec = codecs[message.type] as Codec<OadrMessageType>
  return `<oadr:${message.type} ei:schemaVersion="2.0b">${codec.encode(message)}</oadr:${message.type}>`
}

/** A complete oadrPayload document. */
export function encodePayload (message: OadrMessage): string {
  return prologue + encodeMessage(message) + epilogue
}

export interface DecodedPayload {
  message: OadrMessage
  /** The ds:Signature element, when the payload is signed (verification is the security layer's job). */
  signature?: XmlElement
  /** The oadrSignedObject element. */
  signedObject: XmlElement
}

/** Parses and checks a whole oadrPayload; throws an OadrError subclass carrying the response code. */
export function decodeEnvelope (xml: string, options?: XmlParseOptions): DecodedPayload {
  const root = parseXml(xml, options)
  if (root.name !== 'oadrPayload' || root.ns !== NS.oadr) {
    throw new SchemaViolationError(`root element is ${root.name}, not oadrPayload`)
  }
  return readSeq(root, s => {
    const signature = s.opt(NS.ds, 'Signature')
    const signedObject = s.one(NS.oadr, 'oadrSignedObject')
    const message = readSeq(signedObject, so => {
      const el = signedObject.children[0]
      if (el === undefined || el.ns !== NS.oadr || !(el.name in codecs)) {
        throw new SchemaViolationError(`oadrSignedObject holds ${el === undefined ? 'nothing' : el.name}, not a 2.0b message`)
      }
      so.one(NS.oadr, el.name)
      const version = attribute(el, NS.ei, 'schemaVersion')
      if (version !== undefined && version !== '2.0a' && version !== '2.0b' && !/^x-\S/.test(version)) {
        throw new SchemaViolationError(`schemaVersion '${version.slice(0, 20)}' is not allowed`)
      }
      const codec = codecs[el.name as OadrMessageType] as Codec<OadrMessageType>
      return readSeq(el, codec.decode)
    })
    return signature === undefined ? { message, signedObject } : { message, signature, signedObject }
  })
}

export function decodePayload (xml: string, options?: XmlParseOptions): OadrMessage {
  return decodeEnvelope(xml, options).message
}

/** Decodes and insists on one message type (e.g. the answer expected to a request). */
export function decodeExpected<T extends OadrMessageType> (xml: string, ...types: T[]): MessageOf<T> {
  const message = decodePayload(xml)
  if (!(types as string[]).includes(message.type)) {
    throw new SchemaViolationError(`expected ${types.join(' or ')}, got ${message.type}`)
  }
  return message as MessageOf<T>
}

