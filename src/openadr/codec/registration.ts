/** EiRegisterParty payloads. */
import type { OadrCancelPartyRegistration, OadrCanceledPartyRegistration, OadrCreatedPartyRegistration, OadrCreatePartyRegistration, OadrProfile, OadrProfileName, OadrQueryRegistration, OadrRequestReregistration, OadrServiceInfo, OadrTransportName } from '../model/registration.js'
import { oadrServiceNames } from '../transport.js'
import type { OadrServiceName } from '../transport.js'
import { NS } from './namespaces.js'
import { Seq, bool, enumeration, readSeq, text } from './reader.js'
import { decodeDurationProp, decodeEiResponse, encodeEiResponse } from './common.js'
import { boolText, durationProp, each, el, leaf, optLeaf } from './writer.js'

const profiles: readonly OadrProfileName[] = ['2.0a', '2.0b']
const transports: readonly OadrTransportName[] = ['simpleHttp', 'xmpp']

function optText (s: Seq, ns: string, name: string): string | undefined {
  const e = s.opt(ns, name)
  return e === undefined ? undefined : text(e)
}

export function encodeQueryRegistration (m: OadrQueryRegistration): string {
  return leaf('pyld:requestID', m.requestID)
}

export function decodeQueryRegistration (s: Seq): OadrQueryRegistration {
  return { type: 'oadrQueryRegistration', requestID: text(s.one(NS.pyld, 'requestID')) }
}

export function encodeCreatePartyRegistration (m: OadrCreatePartyRegistration): string {
  return leaf('pyld:requestID', m.requestID) + optLeaf('ei:registrationID', m.registrationID) + optLeaf('ei:venID', m.venID) +
    leaf('oadr:oadrProfileName', m.oadrProfileName) + leaf('oadr:oadrTransportName', m.oadrTransportName) +
    optLeaf('oadr:oadrTransportAddress', m.oadrTransportAddress) + leaf('oadr:oadrReportOnly', boolText(m.oadrReportOnly)) +
    leaf('oadr:oadrXmlSignature', boolText(m.oadrXmlSignature)) + optLeaf('oadr:oadrVenName', m.oadrVenName) +
    (m.oadrHttpPullModel === undefined ? '' : leaf('oadr:oadrHttpPullModel', boolText(m.oadrHttpPullModel)))
}

export function decodeCreatePartyRegistration (s: Seq): OadrCreatePartyRegistration {
  const requestID = text(s.one(NS.pyld, 'requestID'))
  const registrationID = optText(s, NS.ei, 'registrationID')
  const venID = optText(s, NS.ei, 'venID')
  const m: OadrCreatePartyRegistration = {
    type: 'oadrCreatePartyRegistration',
    requestID,
    oadrProfileName: enumeration(s.one(NS.oadr, 'oadrProfileName'), profiles),
    oadrTransportName: enumeration(s.one(NS.oadr, 'oadrTransportName'), transports),
    oadrReportOnly: false,
    oadrXmlSignature: false
  }
  if (registrationID !== undefined) m.registrationID = registrationID
  if (venID !== undefined) m.venID = venID
  const address = optText(s, NS.oadr, 'oadrTransportAddress')
  if (address !== undefined) m.oadrTransportAddress = address
  m.oadrReportOnly = bool(s.one(NS.oadr, 'oadrReportOnly'))
  m.oadrXmlSignature = bool(s.one(NS.oadr, 'oadrXmlSignature'))
  const name = optText(s, NS.oadr, 'oadrVenName')
  if (name !== undefined) m.oadrVenName = name
  const pull = s.opt(NS.oadr, 'oadrHttpPullModel')
  if (pull !== undefined) m.oadrHttpPullModel = bool(pull)
  return m
}

export function encodeCreatedPartyRegistration (m: OadrCreatedPartyRegistration): string {
  return encodeEiResponse(m.eiResponse) + optLeaf('ei:registrationID', m.registrationID) + optLeaf('ei:venID', m.venID) +
    leaf('ei:vtnID', m.vtnID) +
    el('oadr:oadrProfiles', each(m.oadrProfiles, p => el('oadr:oadrProfile', leaf('oadr:oadrProfileName', p.oadrProfileName) +
      el('oadr:oadrTransports', each(p.oadrTransports, t => el('oadr:oadrTransport', leaf('oadr:oadrTransportName', t))))))) +
    (m.oadrRequestedOadrPollFreqMs === undefined ? '' : durationProp('oadr:oadrRequestedOadrPollFreq', m.oadrRequestedOadrPollFreqMs)) +
    (m.oadrServiceSpecificInfo === undefined
      ? ''
      : el('oadr:oadrServiceSpecificInfo', each(m.oadrServiceSpecificInfo, svc => el('oadr:oadrService',
        leaf('oadr:oadrServiceName', svc.oadrServiceName) +
        each(svc.oadrInfo, i => el('oadr:oadrInfo', leaf('oadr:oadrKey', i.oadrKey) + leaf('oadr:oadrValue', i.oadrValue)))))))
}

export function decodeCreatedPartyRegistration (s: Seq): OadrCreatedPartyRegistration {
  const eiResponse = decodeEiResponse(s.one(NS.ei, 'eiResponse'))
  const registrationID = optText(s, NS.ei, 'registrationID')
  const venID = optText(s, NS.ei, 'venID')
  const vtnID = text(s.one(NS.ei, 'vtnID'))
  const oadrProfiles = readSeq(s.one(NS.oadr, 'oadrProfiles'), ps => ps.many(NS.oadr, 'oadrProfile', 1).map(pe => readSeq(pe, p => {
    const profile: OadrProfile = {
      oadrProfileName: enumeration(p.one(NS.oadr, 'oadrProfileName'), profiles),
      oadrTransports: readSeq(p.one(NS.oadr, 'oadrTransports'), ts => ts.many(NS.oadr, 'oadrTransport', 1)
        .map(te => readSeq(te, t => enumeration(t.one(NS.oadr, 'oadrTransportName'), transports))))
    }
    return profile
  })))
  const m: OadrCreatedPartyRegistration = { type: 'oadrCreatedPartyRegistration', eiResponse, vtnID, oadrProfiles }
  if (registrationID !== undefined) m.registrationID = registrationID
  if (venID !== undefined) m.venID = venID
  const freq = s.opt(NS.oadr, 'oadrRequestedOadrPollFreq')
  if (freq !== undefined) m.oadrRequestedOadrPollFreqMs = decodeDurationProp(freq)
  const info = s.opt(NS.oadr, 'oadrServiceSpecificInfo')
  if (info !== undefined) {
    m.oadrServiceSpecificInfo = readSeq(info, is => is.many(NS.oadr, 'oadrService').map(se => readSeq(se, sv => {
      const svc: OadrServiceInfo = {
        oadrServiceName: enumeration<OadrServiceName>(sv.one(NS.oadr, 'oadrServiceName'), oadrServiceNames),
        oadrInfo: sv.many(NS.oadr, 'oadrInfo', 1).map(ie => readSeq(ie, i => ({ oadrKey: text(i.one(NS.oadr, 'oadrKey')), oadrValue: text(i.one(NS.oadr, 'oadrValue')) })))
      }
      return svc
    })))
  }
  // oadrExtensions carry nothing adrmesh uses; read them only to check their shape.
  const extensions = s.opt(NS.oadr, 'oadrExtensions')
  if (extensions !== undefined) {
    readSeq(extensions, xs => xs.many(NS.oadr, 'oadrExtension').forEach(xe => readSeq(xe, x => {
      text(x.one(NS.oadr, 'oadrExtensionName'))
      x.many(NS.oadr, 'oadrInfo').forEach(ie => readSeq(ie, i => { text(i.one(NS.oadr, 'oadrKey')); text(i.one(NS.oadr, 'oadrValue')) }))
    })))
  }
  return m
}

export function encodeCancelPartyRegistration (m: OadrCancelPartyRegistration): string {
  return leaf('pyld:requestID', m.requestID) + leaf('ei:registrationID', m.registrationID) + optLeaf('ei:venID', m.venID)
}

export function decodeCancelPartyRegistration (s: Seq): OadrCancelPartyRegistration {
  const m: OadrCancelPartyRegistration = {
    type: 'oadrCancelPartyRegistration',
    requestID: text(s.one(NS.pyld, 'requestID')),
    registrationID: text(s.one(NS.ei, 'registrationID'))
  }
  const venID = optText(s, NS.ei, 'venID')
  if (venID !== undefined) m.venID = venID
  return m
}

export function encodeCanceledPartyRegistration (m: OadrCanceledPartyRegistration): string {
  return encodeEiResponse(m.eiResponse) + optLeaf('ei:registrationID', m.registrationID) + optLeaf('ei:venID', m.venID)
}

export function decodeCanceledPartyRegistration (s: Seq): OadrCanceledPartyRegistration {
  const m: OadrCanceledPartyRegistration = { type: 'oadrCanceledPartyRegistration', eiResponse: decodeEiResponse(s.one(NS.ei, 'eiResponse')) }
  const registrationID = optText(s, NS.ei, 'registrationID')
  if (registrationID !== undefined) m.registrationID = registrationID
  const venID = optText(s, NS.ei, 'venID')
  if (venID !== undefined) m.venID = venID
  return m
}

export function encodeRequestReregistration (m: OadrRequestReregistration): string {
  return leaf('ei:venID', m.venID)
}

export function decodeRequestReregistration (s: Seq): OadrRequestReregistration {
  return { type: 'oadrRequestReregistration', venID: text(s.one(NS.ei, 'venID')) }
}

export { optText }
