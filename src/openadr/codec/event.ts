/**
 * EiEvent payloads: oadrDistributeEvent (the event with its descriptor, active period, signals, baseline and
 * target), oadrRequestEvent, oadrCreatedEvent and oadrResponse.
 */
import type { EiEvent, EventBaseline, EventResponse, EventSignal, OadrCreatedEvent, OadrDistributeEvent, OadrEvent, OadrRequestEvent, OadrResponse, SignalInterval, SignalName, SignalType, EventStatus, OptType, ResponseRequired } from '../model/event.js'
import { eventStatuses, optTypes, signalNames, signalTypes } from '../model/event.js'
import { NS } from './namespaces.js'
import { Seq, dateTime, enumeration, readSeq, text, unsignedInt } from './reader.js'
import type { XmlElement } from './xml.js'
import { decodeDtstart, decodeDurationProp, decodeEiResponse, decodeEiTarget, decodeIntervalHead, decodePayloadFloat, decodeProperties, encodeEiResponse, encodeEiTarget, encodeIntervalHead, encodeItemBase, encodePayloadFloat, encodeProperties, optItemBase, responseCodeText } from './common.js'
import { dtstart, durationProp, each, el, leaf, optLeaf } from './writer.js'
import { formatDateTime } from './time.js'
import { SchemaViolationError } from '../errors.js'

// ---- intervals of signals and baselines ----

function encodeSignalIntervals (intervals: SignalInterval[]): string {
  return el('strm:intervals', each(intervals, i => el('ei:interval', encodeIntervalHead(i) +
    each(i.values, v => el('ei:signalPayload', encodePayloadFloat(v))))))
}

function decodeSignalIntervals (e: XmlElement): SignalInterval[] {
  return readSeq(e, s => s.many(NS.ei, 'interval', 1).map(ie => readSeq(ie, i => {
    const interval: SignalInterval = { ...decodeIntervalHead(i), values: [] }
    for (const p of i.many(NS.ei, 'signalPayload', 1)) {
      interval.values.push(readSeq(p, ps => decodePayloadFloat(ps.one(NS.ei, 'payloadFloat'))))
    }
    return interval
  })))
}

// ---- eiEvent ----

function encodeSignal (sig: EventSignal): string {
  return el('ei:eiEventSignal', encodeSignalIntervals(sig.intervals) +
    (sig.eiTarget === undefined ? '' : encodeEiTarget(sig.eiTarget)) +
    leaf('ei:signalName', sig.signalName) + leaf('ei:signalType', sig.signalType) + leaf('ei:signalID', sig.signalID) +
    (sig.itemBase === undefined ? '' : encodeItemBase(sig.itemBase)) +
    (sig.currentValue === undefined ? '' : el('ei:currentValue', encodePayloadFloat(sig.currentValue))))
}

function decodeSignal (e: XmlElement): EventSignal {
  return readSeq(e, s => {
    const intervals = decodeSignalIntervals(s.one(NS.strm, 'intervals'))
    const target = s.opt(NS.ei, 'eiTarget')
    const signal: EventSignal = {
      intervals,
      signalName: enumeration<SignalName>(s.one(NS.ei, 'signalName'), signalNames, true),
      signalType: enumeration<SignalType>(s.one(NS.ei, 'signalType'), signalTypes),
      signalID: text(s.one(NS.ei, 'signalID'))
    }
    if (target !== undefined) signal.eiTarget = decodeEiTarget(target)
    const item = optItemBase(s)
    if (item !== undefined) signal.itemBase = item
    const current = s.opt(NS.ei, 'currentValue')
    if (current !== undefined) signal.currentValue = readSeq(current, c => decodePayloadFloat(c.one(NS.ei, 'payloadFloat')))
    return signal
  })
}

function encodeBaseline (b: EventBaseline): string {
  return el('ei:eiEventBaseline', dtstart(b.dtstartMs) + durationProp('xcal:duration', b.durationMs) +
    encodeSignalIntervals(b.intervals) + leaf('ei:baselineID', b.baselineID) + each(b.resourceID, r => leaf('ei:resourceID', r)) +
    leaf('ei:baselineName', b.baselineName) + (b.itemBase === undefined ? '' : encodeItemBase(b.itemBase)))
}

function decodeBaseline (e: XmlElement): EventBaseline {
  return readSeq(e, s => {
    const b: EventBaseline = {
      dtstartMs: decodeDtstart(s.one(NS.xcal, 'dtstart')),
      durationMs: decodeDurationProp(s.one(NS.xcal, 'duration')),
      intervals: decodeSignalIntervals(s.one(NS.strm, 'intervals')),
      baselineID: text(s.one(NS.ei, 'baselineID')),
      baselineName: ''
    }
    const resources = s.many(NS.ei, 'resourceID').map(text)
    if (resources.length > 0) b.resourceID = resources
    b.baselineName = text(s.one(NS.ei, 'baselineName'))
    const item = optItemBase(s)
    if (item !== undefined) b.itemBase = item
    return b
  })
}

export function encodeEiEvent (ev: EiEvent): string {
  const d = ev.eventDescriptor
  const descriptor = leaf('ei:eventID', d.eventID) + leaf('ei:modificationNumber', String(d.modificationNumber)) +
    (d.modificationDateTimeMs === undefined ? '' : leaf('ei:modificationDateTime', formatDateTime(d.modificationDateTimeMs))) +
    optLeaf('ei:modificationReason', d.modificationReason) +
    (d.priority === undefined ? '' : leaf('ei:priority', String(d.priority))) +
    el('ei:eiMarketContext', leaf('emix:marketContext', d.marketContext)) +
    leaf('ei:createdDateTime', formatDateTime(d.createdDateTimeMs)) + leaf('ei:eventStatus', d.eventStatus) +
    optLeaf('ei:testEvent', d.testEvent) + optLeaf('ei:vtnComment', d.vtnComment)
  return el('ei:eiEvent', el('ei:eventDescriptor', descriptor) +
    el('ei:eiActivePeriod', encodeProperties(ev.eiActivePeriod) + '<xcal:components/>') +
    el('ei:eiEventSignals', each(ev.eiEventSignals, encodeSignal) + (ev.eiEventBaseline === undefined ? '' : encodeBaseline(ev.eiEventBaseline))) +
    encodeEiTarget(ev.eiTarget))
}

export function decodeEiEvent (e: XmlElement): EiEvent {
  return readSeq(e, s => {
    const eventDescriptor = readSeq(s.one(NS.ei, 'eventDescriptor'), d => {
      const eventID = text(d.one(NS.ei, 'eventID'))
      const modificationNumber = unsignedInt(d.one(NS.ei, 'modificationNumber'))
      const modified = d.opt(NS.ei, 'modificationDateTime')
      const reason = d.opt(NS.ei, 'modificationReason')
      const priority = d.opt(NS.ei, 'priority')
      const marketContext = readSeq(d.one(NS.ei, 'eiMarketContext'), m => marketContextText(m.one(NS.emix, 'marketContext')))
      const createdDateTimeMs = dateTime(d.one(NS.ei, 'createdDateTime'))
      const eventStatus = enumeration<EventStatus>(d.one(NS.ei, 'eventStatus'), eventStatuses)
      const testEvent = d.opt(NS.ei, 'testEvent')
      const vtnComment = d.opt(NS.ei, 'vtnComment')
      return {
        eventID,
        modificationNumber,
        ...(modified === undefined ? {} : { modificationDateTimeMs: dateTime(modified) }),
        ...(reason === undefined ? {} : { modificationReason: text(reason) }),
        ...(priority === undefined ? {} : { priority: unsignedInt(priority) }),
        marketContext,
        createdDateTimeMs,
        eventStatus,
        ...(testEvent === undefined ? {} : { testEvent: text(testEvent) }),
        ...(vtnComment === undefined ? {} : { vtnComment: text(vtnComment) })
      }
    })
    // xcal:components is nillable and untyped: anything inside it is allowed and ignored.
    const eiActivePeriod = readSeq(s.one(NS.ei, 'eiActivePeriod'), a => {
      const p = decodeProperties(a.one(NS.xcal, 'properties'))
      a.one(NS.xcal, 'components')
      return p
    })
    const { signals, baseline } = readSeq(s.one(NS.ei, 'eiEventSignals'), g => ({
      signals: g.many(NS.ei, 'eiEventSignal', 1).map(decodeSignal),
      baseline: g.opt(NS.ei, 'eiEventBaseline')
    }))
    const eiTarget = decodeEiTarget(s.one(NS.ei, 'eiTarget'))
    const ev: EiEvent = { eventDescriptor, eiActivePeriod, eiEventSignals: signals, eiTarget }
    if (baseline !== undefined) ev.eiEventBaseline = decodeBaseline(baseline)
    return ev
  })
}

/** emix:marketContext is an xs:anyURI: no white space inside. */
export function marketContextText (e: XmlElement): string {
  const value = text(e).trim()
  if (/\s/.test(value)) throw new SchemaViolationError(`marketContext '${value.slice(0, 60)}' is not a URI`)
  return value
}

// ---- messages ----

export function encodeDistributeEvent (m: OadrDistributeEvent): string {
  return (m.eiResponse === undefined ? '' : encodeEiResponse(m.eiResponse)) + leaf('pyld:requestID', m.requestID) +
    leaf('ei:vtnID', m.vtnID) +
    each(m.oadrEvents, (e: OadrEvent) => el('oadr:oadrEvent', encodeEiEvent(e.eiEvent) + leaf('oadr:oadrResponseRequired', e.oadrResponseRequired)))
}

export function decodeDistributeEvent (s: Seq): OadrDistributeEvent {
  const response = s.opt(NS.ei, 'eiResponse')
  const m: OadrDistributeEvent = {
    type: 'oadrDistributeEvent',
    requestID: text(s.one(NS.pyld, 'requestID')),
    vtnID: text(s.one(NS.ei, 'vtnID')),
    oadrEvents: s.many(NS.oadr, 'oadrEvent').map(oe => readSeq(oe, o => ({
      eiEvent: decodeEiEvent(o.one(NS.ei, 'eiEvent')),
      oadrResponseRequired: enumeration<ResponseRequired>(o.one(NS.oadr, 'oadrResponseRequired'), ['always', 'never'])
    })))
  }
  if (response !== undefined) m.eiResponse = decodeEiResponse(response)
  return m
}

export function encodeRequestEvent (m: OadrRequestEvent): string {
  return el('pyld:eiRequestEvent', leaf('pyld:requestID', m.requestID) + leaf('ei:venID', m.venID) +
    (m.replyLimit === undefined ? '' : leaf('pyld:replyLimit', String(m.replyLimit))))
}

export function decodeRequestEvent (s: Seq): OadrRequestEvent {
  return readSeq(s.one(NS.pyld, 'eiRequestEvent'), r => {
    const m: OadrRequestEvent = { type: 'oadrRequestEvent', requestID: text(r.one(NS.pyld, 'requestID')), venID: text(r.one(NS.ei, 'venID')) }
    const limit = r.opt(NS.pyld, 'replyLimit')
    if (limit !== undefined) m.replyLimit = unsignedInt(limit)
    return m
  })
}

function encodeEventResponse (r: EventResponse): string {
  return el('ei:eventResponse', leaf('ei:responseCode', r.responseCode) + optLeaf('ei:responseDescription', r.responseDescription) +
    leaf('pyld:requestID', r.requestID) +
    el('ei:qualifiedEventID', leaf('ei:eventID', r.qualifiedEventID.eventID) + leaf('ei:modificationNumber', String(r.qualifiedEventID.modificationNumber))) +
    leaf('ei:optType', r.optType))
}

export function decodeQualifiedEventID (e: XmlElement): { eventID: string, modificationNumber: number } {
  return readSeq(e, q => ({ eventID: text(q.one(NS.ei, 'eventID')), modificationNumber: unsignedInt(q.one(NS.ei, 'modificationNumber')) }))
}

export function encodeCreatedEvent (m: OadrCreatedEvent): string {
  return el('pyld:eiCreatedEvent', encodeEiResponse(m.eiResponse) +
    (m.eventResponses === undefined ? '' : el('ei:eventResponses', each(m.eventResponses, encodeEventResponse))) +
    leaf('ei:venID', m.venID))
}

export function decodeCreatedEvent (s: Seq): OadrCreatedEvent {
  return readSeq(s.one(NS.pyld, 'eiCreatedEvent'), c => {
    const eiResponse = decodeEiResponse(c.one(NS.ei, 'eiResponse'))
    const responses = c.opt(NS.ei, 'eventResponses')
    const m: OadrCreatedEvent = { type: 'oadrCreatedEvent', eiResponse, venID: '' }
    if (responses !== undefined) {
      m.eventResponses = readSeq(responses, rs => rs.many(NS.ei, 'eventResponse').map(re => readSeq(re, r => {
        const responseCode = responseCodeText(r.one(NS.ei, 'responseCode'))
        const description = r.opt(NS.ei, 'responseDescription')
        const out: EventResponse = {
          responseCode,
          requestID: text(r.one(NS.pyld, 'requestID')),
          qualifiedEventID: decodeQualifiedEventID(r.one(NS.ei, 'qualifiedEventID')),
          optType: enumeration<OptType>(r.one(NS.ei, 'optType'), optTypes)
        }
        if (description !== undefined) out.responseDescription = text(description)
        return out
      })))
    }
    m.venID = text(c.one(NS.ei, 'venID'))
    return m
  })
}

export function encodeResponse (m: OadrResponse): string {
  return encodeEiResponse(m.eiResponse) + optLeaf('ei:venID', m.venID)
}

export function decodeResponse (s: Seq): OadrResponse {
  const m: OadrResponse = { type: 'oadrResponse', eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')) }
  const venID = s.opt(NS.ei, 'venID')
  if (venID !== undefined) m.venID = text(venID)
  return m
}

