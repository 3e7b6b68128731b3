/** EiReport payloads: report metadata, report requests, report data, and their acknowledgements. */
import type { DataQuality, OadrCancelReport, OadrCanceledReport, OadrCreatedReport, OadrCreateReport, OadrRegisteredReport, OadrRegisterReport, OadrReport, OadrReportRequest, OadrUpdatedReport, OadrUpdateReport, ReadingType, ReportDescription, ReportInterval, ReportName, ReportPayload, ReportSpecifier, ReportType, ResourceStatus, SpecifierPayload } from '../model/report.js'
import { dataQualities, readingTypes, reportNames, reportTypes } from '../model/report.js'
import { NS } from './namespaces.js'
import { Seq, bool, dateTime, duration, enumeration, float, readSeq, text, unsignedInt } from './reader.js'
import type { XmlElement } from './xml.js'
import { decodeDtstart, decodeDurationProp, decodeEiResponse, decodeEiTarget, decodeIntervalHead, decodePayloadFloat, decodeProperties, encodeEiResponse, encodeEiTarget, encodeIntervalHead, encodeItemBase, encodePayloadFloat, encodeProperties, optItemBase } from './common.js'
import { marketContextText } from './event.js'
import { boolText, dtstart, durationProp, each, el, floatText, leaf, optLeaf } from './writer.js'
import { formatDateTime, formatDuration } from './time.js'
import { SchemaViolationError } from '../errors.js'

// ---- report payloads ----

const controlStates = [['capacity', 'oadrCapacity'], ['levelOffset', 'oadrLevelOffset'], ['percentOffset', 'oadrPercentOffset'], ['setPoint', 'oadrSetPoint']] as const

function encodeResourceStatus (r: ResourceStatus): string {
  let body = leaf('oadr:oadrOnline', boolText(r.online)) + leaf('oadr:oadrManualOverride', boolText(r.manualOverride))
  if (r.loadControlState !== undefined) {
    let state = ''
    for (const [key, name] of controlStates) {
      const v = r.loadControlState[key]
      if (v === undefined) continue
      state += el(`oadr:${name}`, (v.min === undefined ? '' : leaf('oadr:oadrMin', floatText(v.min))) +
        (v.max === undefined ? '' : leaf('oadr:oadrMax', floatText(v.max))) + leaf('oadr:oadrCurrent', floatText(v.current)) +
        (v.normal === undefined ? '' : leaf('oadr:oadrNormal', floatText(v.normal))))
    }
    body += el('oadr:oadrLoadControlState', state)
  }
  return el('oadr:oadrPayloadResourceStatus', body)
}

function decodeResourceStatus (e: XmlElement): ResourceStatus {
  return readSeq(e, s => {
    const r: ResourceStatus = { online: bool(s.one(NS.oadr, 'oadrOnline')), manualOverride: bool(s.one(NS.oadr, 'oadrManualOverride')) }
    const lcs = s.opt(NS.oadr, 'oadrLoadControlState')
    if (lcs !== undefined) {
      r.loadControlState = readSeq(lcs, l => {
        const out: NonNullable<ResourceStatus['loadControlState']> = {}
        for (const [key, name] of controlStates) {
          const v = l.opt(NS.oadr, name)
          if (v === undefined) continue
          out[key] = readSeq(v, x => {
            const min = x.opt(NS.oadr, 'oadrMin')
            const max = x.opt(NS.oadr, 'oadrMax')
            const current = float(x.one(NS.oadr, 'oadrCurrent'))
            const normal = x.opt(NS.oadr, 'oadrNormal')
            return {
              current,
              ...(min === undefined ? {} : { min: float(min) }),
              ...(max === undefined ? {} : { max: float(max) }),
              ...(normal === undefined ? {} : { normal: float(normal) })
            }
          })
        }
        return out
      })
    }
    return r
  })
}

function encodeReportPayload (p: ReportPayload): string {
  return el('oadr:oadrReportPayload', leaf('ei:rID', p.rID) +
    (p.confidence === undefined ? '' : leaf('ei:confidence', String(p.confidence))) +
    (p.accuracy === undefined ? '' : leaf('ei:accuracy', floatText(p.accuracy))) +
    (typeof p.value === 'number' ? encodePayloadFloat(p.value) : encodeResourceStatus(p.value)) +
    optLeaf('oadr:oadrDataQuality', p.dataQuality))
}

function decodeReportPayload (e: XmlElement): ReportPayload {
  return readSeq(e, s => {
    const rID = text(s.one(NS.ei, 'rID'))
    const confidence = s.opt(NS.ei, 'confidence')
    const accuracy = s.opt(NS.ei, 'accuracy')
    const pf = s.opt(NS.ei, 'payloadFloat')
    const value = pf !== undefined ? decodePayloadFloat(pf) : decodeResourceStatus(s.one(NS.oadr, 'oadrPayloadResourceStatus'))
    const p: ReportPayload = { rID, value }
    if (confidence !== undefined) {
      p.confidence = unsignedInt(confidence)
      if (p.confidence > 100) throw new SchemaViolationError('confidence above 100')
    }
    if (accuracy !== undefined) p.accuracy = float(accuracy)
    const quality = s.opt(NS.oadr, 'oadrDataQuality')
    if (quality !== undefined) p.dataQuality = enumeration<DataQuality>(quality, dataQualities, true)
    return p
  })
}

function encodeReportIntervals (intervals: ReportInterval[]): string {
  return el('strm:intervals', each(intervals, i => el('ei:interval', encodeIntervalHead(i) + each(i.payloads, encodeReportPayload))))
}

function decodeReportIntervals (e: XmlElement): ReportInterval[] {
  return readSeq(e, s => s.many(NS.ei, 'interval', 1).map(ie => readSeq(ie, i => ({
    ...decodeIntervalHead(i),
    payloads: i.many(NS.oadr, 'oadrReportPayload', 1).map(decodeReportPayload)
  }))))
}

// ---- oadrReport ----

function encodeDescription (d: ReportDescription): string {
  return el('oadr:oadrReportDescription', leaf('ei:rID', d.rID) +
    (d.reportSubject === undefined ? '' : encodeEiTarget(d.reportSubject, 'ei:reportSubject')) +
    (d.reportDataSource === undefined ? '' : encodeEiTarget(d.reportDataSource, 'ei:reportDataSource')) +
    leaf('ei:reportType', d.reportType) + (d.itemBase === undefined ? '' : encodeItemBase(d.itemBase)) +
    leaf('ei:readingType', d.readingType) + optLeaf('emix:marketContext', d.marketContext) +
    (d.samplingRate === undefined
      ? ''
      : el('oadr:oadrSamplingRate', leaf('oadr:oadrMinPeriod', formatDuration(d.samplingRate.minPeriodMs)) +
        leaf('oadr:oadrMaxPeriod', formatDuration(d.samplingRate.maxPeriodMs)) + leaf('oadr:oadrOnChange', boolText(d.samplingRate.onChange)))))
}

function decodeDescription (e: XmlElement): ReportDescription {
  return readSeq(e, s => {
    const rID = text(s.one(NS.ei, 'rID'))
    const subject = s.opt(NS.ei, 'reportSubject')
    const source = s.opt(NS.ei, 'reportDataSource')
    const reportType = enumeration<ReportType>(s.one(NS.ei, 'reportType'), reportTypes, true)
    const itemBase = optItemBase(s)
    const d: ReportDescription = { rID, reportType, readingType: enumeration<ReadingType>(s.one(NS.ei, 'readingType'), readingTypes, true) }
    if (subject !== undefined) d.reportSubject = decodeEiTarget(subject)
    if (source !== undefined) d.reportDataSource = decodeEiTarget(source)
    if (itemBase !== undefined) d.itemBase = itemBase
    const market = s.opt(NS.emix, 'marketContext')
    if (market !== undefined) d.marketContext = marketContextText(market)
    const rate = s.opt(NS.oadr, 'oadrSamplingRate')
    if (rate !== undefined) {
      d.samplingRate = readSeq(rate, r => ({
        minPeriodMs: duration(r.one(NS.oadr, 'oadrMinPeriod')),
        maxPeriodMs: duration(r.one(NS.oadr, 'oadrMaxPeriod')),
        onChange: bool(r.one(NS.oadr, 'oadrOnChange'))
      }))
    }
    return d
  })
}

export function encodeReport (r: OadrReport): string {
  return el('oadr:oadrReport', (r.dtstartMs === undefined ? '' : dtstart(r.dtstartMs)) +
    (r.durationMs === undefined ? '' : durationProp('xcal:duration', r.durationMs)) +
    (r.intervals === undefined ? '' : encodeReportIntervals(r.intervals)) +
    optLeaf('ei:eiReportID', r.eiReportID) + each(r.oadrReportDescriptions, encodeDescription) +
    leaf('ei:reportRequestID', r.reportRequestID) + leaf('ei:reportSpecifierID', r.reportSpecifierID) +
    optLeaf('ei:reportName', r.reportName) + leaf('ei:createdDateTime', formatDateTime(r.createdDateTimeMs)))
}

export function decodeReport (e: XmlElement): OadrReport {
  return readSeq(e, s => {
    const start = s.opt(NS.xcal, 'dtstart')
    const dur = s.opt(NS.xcal, 'duration')
    const intervals = s.opt(NS.strm, 'intervals')
    const reportID = s.opt(NS.ei, 'eiReportID')
    const descriptions = s.many(NS.oadr, 'oadrReportDescription').map(decodeDescription)
    const r: OadrReport = {
      reportRequestID: text(s.one(NS.ei, 'reportRequestID')),
      reportSpecifierID: text(s.one(NS.ei, 'reportSpecifierID')),
      createdDateTimeMs: 0
    }
    const name = s.opt(NS.ei, 'reportName')
    if (name !== undefined) r.reportName = enumeration<ReportName>(name, reportNames, true)
    r.createdDateTimeMs = dateTime(s.one(NS.ei, 'createdDateTime'))
    if (start !== undefined) r.dtstartMs = decodeDtstart(start)
    if (dur !== undefined) r.durationMs = decodeDurationProp(dur)
    if (intervals !== undefined) r.intervals = decodeReportIntervals(intervals)
    if (reportID !== undefined) r.eiReportID = text(reportID)
    if (descriptions.length > 0) r.oadrReportDescriptions = descriptions
    return r
  })
}

// ---- report requests ----

function encodeSpecifier (sp: ReportSpecifier): string {
  return el('ei:reportSpecifier', leaf('ei:reportSpecifierID', sp.reportSpecifierID) + durationProp('xcal:granularity', sp.granularityMs) +
    durationProp('ei:reportBackDuration', sp.reportBackDurationMs) +
    (sp.reportInterval === undefined ? '' : el('ei:reportInterval', encodeProperties(sp.reportInterval))) +
    each(sp.specifierPayloads, (p: SpecifierPayload) => el('ei:specifierPayload', leaf('ei:rID', p.rID) +
      (p.itemBase === undefined ? '' : encodeItemBase(p.itemBase)) + leaf('ei:readingType', p.readingType))))
}

function decodeSpecifier (e: XmlElement): ReportSpecifier {
  return readSeq(e, s => {
    const sp: ReportSpecifier = {
      reportSpecifierID: text(s.one(NS.ei, 'reportSpecifierID')),
      granularityMs: decodeDurationProp(s.one(NS.xcal, 'granularity')),
      reportBackDurationMs: decodeDurationProp(s.one(NS.ei, 'reportBackDuration')),
      specifierPayloads: []
    }
    const interval = s.opt(NS.ei, 'reportInterval')
    if (interval !== undefined) {
      const p = readSeq(interval, i => decodeProperties(i.one(NS.xcal, 'properties')))
      sp.reportInterval = { dtstartMs: p.dtstartMs, durationMs: p.durationMs }
    }
    sp.specifierPayloads = s.many(NS.ei, 'specifierPayload', 1).map(pe => readSeq(pe, p => {
      const rID = text(p.one(NS.ei, 'rID'))
      const itemBase = optItemBase(p)
      const out: SpecifierPayload = { rID, readingType: enumeration<ReadingType>(p.one(NS.ei, 'readingType'), readingTypes, true) }
      if (itemBase !== undefined) out.itemBase = itemBase
      return out
    }))
    return sp
  })
}

function encodeReportRequest (r: OadrReportRequest): string {
  return el('oadr:oadrReportRequest', leaf('ei:reportRequestID', r.reportRequestID) + encodeSpecifier(r.reportSpecifier))
}

function decodeReportRequest (e: XmlElement): OadrReportRequest {
  return readSeq(e, s => ({ reportRequestID: text(s.one(NS.ei, 'reportRequestID')), reportSpecifier: decodeSpecifier(s.one(NS.ei, 'reportSpecifier')) }))
}

function optVenID (s: Seq): { venID?: string } {
  const v = s.opt(NS.ei, 'venID')
  return v === undefined ? {} : { venID: text(v) }
}

function encodePending (ids: string[]): string {
  return el('oadr:oadrPendingReports', each(ids, id => leaf('ei:reportRequestID', id)))
}

function decodePending (e: XmlElement): string[] {
  return readSeq(e, s => s.many(NS.ei, 'reportRequestID').map(text))
}

// ---- messages ----

export function encodeRegisterReport (m: OadrRegisterReport): string {
  return leaf('pyld:requestID', m.requestID) + each(m.oadrReports, encodeReport) + optLeaf('ei:venID', m.venID) +
    optLeaf('ei:reportRequestID', m.reportRequestID)
}

export function decodeRegisterReport (s: Seq): OadrRegisterReport {
  const m: OadrRegisterReport = {
    type: 'oadrRegisterReport',
    requestID: text(s.one(NS.pyld, 'requestID')),
    oadrReports: s.many(NS.oadr, 'oadrReport').map(decodeReport),
    ...optVenID(s)
  }
  const rr = s.opt(NS.ei, 'reportRequestID')
  if (rr !== undefined) m.reportRequestID = text(rr)
  return m
}

export function encodeRegisteredReport (m: OadrRegisteredReport): string {
  return encodeEiResponse(m.eiResponse) + each(m.oadrReportRequests, encodeReportRequest) + optLeaf('ei:venID', m.venID)
}

export function decodeRegisteredReport (s: Seq): OadrRegisteredReport {
  return {
    type: 'oadrRegisteredReport',
    eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')),
    oadrReportRequests: s.many(NS.oadr, 'oadrReportRequest').map(decodeReportRequest),
    ...optVenID(s)
  }
}

export function encodeCreateReport (m: OadrCreateReport): string {
  return leaf('pyld:requestID', m.requestID) + each(m.oadrReportRequests, encodeReportRequest) + optLeaf('ei:venID', m.venID)
}

export function decodeCreateReport (s: Seq): OadrCreateReport {
  return {
    type: 'oadrCreateReport',
    requestID: text(s.one(NS.pyld, 'requestID')),
    oadrReportRequests: s.many(NS.oadr, 'oadrReportRequest', 1).map(decodeReportRequest),
    ...optVenID(s)
  }
}

export function encodeCreatedReport (m: OadrCreatedReport): string {
  return encodeEiResponse(m.eiResponse) + encodePending(m.oadrPendingReports) + optLeaf('ei:venID', m.venID)
}

export function decodeCreatedReport (s: Seq): OadrCreatedReport {
  return {
    type: 'oadrCreatedReport',
    eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')),
    oadrPendingReports: decodePending(s.one(NS.oadr, 'oadrPendingReports')),
    ...optVenID(s)
  }
}

export function encodeUpdateReport (m: OadrUpdateReport): string {
  return leaf('pyld:requestID', m.requestID) + each(m.oadrReports, encodeReport) + optLeaf('ei:venID', m.venID)
}

export function decodeUpdateReport (s: Seq): OadrUpdateReport {
  return {
    type: 'oadrUpdateReport',
    requestID: text(s.one(NS.pyld, 'requestID')),
    oadrReports: s.many(NS.oadr, 'oadrReport').map(decodeReport),
    ...optVenID(s)
  }
}

function encodeCancelReportBody (m: Omit<OadrCancelReport, 'type'>): string {
  return leaf('pyld:requestID', m.requestID) + each(m.reportRequestIDs, id => leaf('ei:reportRequestID', id)) +
    leaf('pyld:reportToFollow', boolText(m.reportToFollow)) + optLeaf('ei:venID', m.venID)
}

export function encodeCancelReport (m: OadrCancelReport): string {
  return encodeCancelReportBody(m)
}

export function decodeCancelReport (s: Seq): OadrCancelReport {
  return {
    type: 'oadrCancelReport',
    requestID: text(s.one(NS.pyld, 'requestID')),
    reportRequestIDs: s.many(NS.ei, 'reportRequestID', 1).map(text),
    reportToFollow: bool(s.one(NS.pyld, 'reportToFollow')),
    ...optVenID(s)
  }
}

export function encodeUpdatedReport (m: OadrUpdatedReport): string {
  return encodeEiResponse(m.eiResponse) +
    (m.oadrCancelReport === undefined ? '' : el('oadr:oadrCancelReport', encodeCancelReportBody(m.oadrCancelReport))) +
    optLeaf('ei:venID', m.venID)
}

export function decodeUpdatedReport (s: Seq): OadrUpdatedReport {
  const m: OadrUpdatedReport = { type: 'oadrUpdatedReport', eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')) }
  const cancel = s.opt(NS.oadr, 'oadrCancelReport')
  if (cancel !== undefined) {
    const { type: _type, ...body } = readSeq(cancel, decodeCancelReport)
    m.oadrCancelReport = body
  }
  const v = s.opt(NS.ei, 'venID')
  if (v !== undefined) m.venID = text(v)
  return m
}

export function encodeCanceledReport (m: OadrCanceledReport): string {
  return encodeEiResponse(m.eiResponse) + encodePending(m.oadrPendingReports) + optLeaf('ei:venID', m.venID)
}

export function decodeCanceledReport (s: Seq): OadrCanceledReport {
  return {
    type: 'oadrCanceledReport',
    eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')),
    oadrPendingReports: decodePending(s.one(NS.oadr, 'oadrPendingReports')),
    ...optVenID(s)
  }
}
