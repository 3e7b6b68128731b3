/** EiOpt payloads. */
import type { OadrCancelOpt, OadrCanceledOpt, OadrCreatedOpt, OadrCreateOpt, OptReason } from '../model/opt.js'
import { optReasons } from '../model/opt.js'
import type { OptType } from '../model/event.js'
import { optTypes } from '../model/event.js'
import { NS } from './namespaces.js'
import { Seq, dateTime, enumeration, readSeq, text } from './reader.js'
import { decodeEiResponse, decodeEiTarget, decodeProperties, encodeEiResponse, encodeEiTarget, encodeProperties } from './common.js'
import { decodeQualifiedEventID, marketContextText } from './event.js'
import { each, el, leaf, optLeaf } from './writer.js'
import { formatDateTime } from './time.js'

export function encodeCreateOpt (m: OadrCreateOpt): string {
  return leaf('ei:optID', m.optID) + leaf('ei:optType', m.optType) + leaf('ei:optReason', m.optReason) +
    optLeaf('emix:marketContext', m.marketContext) + leaf('ei:venID', m.venID) +
    (m.availability === undefined
      ? ''
      : el('xcal:vavailability', el('xcal:components', each(m.availability, a => el('xcal:available', encodeProperties(a)))))) +
    leaf('ei:createdDateTime', formatDateTime(m.createdDateTimeMs)) + leaf('pyld:requestID', m.requestID) +
    (m.qualifiedEventID === undefined
      ? ''
      : el('ei:qualifiedEventID', leaf('ei:eventID', m.qualifiedEventID.eventID) + leaf('ei:modificationNumber', String(m.qualifiedEventID.modificationNumber)))) +
    encodeEiTarget(m.eiTarget) + (m.oadrDeviceClass === undefined ? '' : encodeEiTarget(m.oadrDeviceClass, 'oadr:oadrDeviceClass'))
}

export function decodeCreateOpt (s: Seq): OadrCreateOpt {
  const optID = text(s.one(NS.ei, 'optID'))
  const optType = enumeration<OptType>(s.one(NS.ei, 'optType'), optTypes)
  const optReason = enumeration<OptReason>(s.one(NS.ei, 'optReason'), optReasons, true)
  const market = s.opt(NS.emix, 'marketContext')
  const venID = text(s.one(NS.ei, 'venID'))
  const vav = s.opt(NS.xcal, 'vavailability')
  const m: OadrCreateOpt = {
    type: 'oadrCreateOpt',
    optID,
    optType,
    optReason,
    venID,
    createdDateTimeMs: dateTime(s.one(NS.ei, 'createdDateTime')),
    requestID: text(s.one(NS.pyld, 'requestID')),
    eiTarget: {}
  }
  if (market !== undefined) m.marketContext = marketContextText(market)
  if (vav !== undefined) {
    m.availability = readSeq(vav, v => readSeq(v.one(NS.xcal, 'components'), c => c.many(NS.xcal, 'available')
      .map(a => readSeq(a, p => {
        const props = decodeProperties(p.one(NS.xcal, 'properties'))
        return { dtstartMs: props.dtstartMs, durationMs: props.durationMs }
      }))))
  }
  const q = s.opt(NS.ei, 'qualifiedEventID')
  if (q !== undefined) m.qualifiedEventID = decodeQualifiedEventID(q)
  m.eiTarget = decodeEiTarget(s.one(NS.ei, 'eiTarget'))
  const dc = s.opt(NS.oadr, 'oadrDeviceClass')
  if (dc !== undefined) m.oadrDeviceClass = decodeEiTarget(dc)
  return m
}

export function encodeCreatedOpt (m: OadrCreatedOpt): string {
  return encodeEiResponse(m.eiResponse) + leaf('ei:optID', m.optID)
}

export function decodeCreatedOpt (s: Seq): OadrCreatedOpt {
  return { type: 'oadrCreatedOpt', eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')), optID: text(s.one(NS.ei, 'optID')) }
}

export function encodeCancelOpt (m: OadrCancelOpt): string {
  return leaf('pyld:requestID', m.requestID) + leaf('ei:optID', m.optID) + leaf('ei:venID', m.venID)
}

export function decodeCancelOpt (s: Seq): OadrCancelOpt {
  return { type: 'oadrCancelOpt', requestID: text(s.one(NS.pyld, 'requestID')), optID: text(s.one(NS.ei, 'optID')), venID: text(s.one(NS.ei, 'venID')) }
}

export function encodeCanceledOpt (m: OadrCanceledOpt): string {
  return encodeEiResponse(m.eiResponse) + optLeaf('ei:optID', m.optID)
}

export function decodeCanceledOpt (s: Seq): OadrCanceledOpt {
  const m: OadrCanceledOpt = { type: 'oadrCanceledOpt', eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')) }
  const optID = s.opt(NS.ei, 'optID')
  if (optID !== undefined) m.optID = text(optID)
  return m
}
