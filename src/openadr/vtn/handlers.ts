/**
 * What the VTN answers to each message a VEN sends, by service: registration, events (request and
 * oadrCreatedEvent answers), reports (register, create, update, cancel), opts, and oadrPoll. Every handler
 * checks that the venID is registered and belongs to the sender's certificate; errors are thrown as
 * OadrErrors and become an oadrResponse at the edge (vtn.ts).
 */
import type { OadrMessage } from '../model/message.js'
import type { OadrServiceName, PeerIdentity } from '../transport.js'
import type { OadrReport, OadrReportRequest } from '../model/report.js'
import type { EiResponse } from '../model/common.js'
import type { OadrTransportName } from '../model/registration.js'
import { InvalidIdError, NotAllowedError, NotRegisteredError, WrongServiceError } from '../errors.js'
import type { VtnState } from './state.js'
import type { VtnEvents } from './types.js'

export interface VtnContext {
  state: VtnState
  pollFreqMs: number
  transports: OadrTransportName[]
  requestReports: (venID: string, offered: OadrReport[]) => OadrReportRequest[]
  emit: <K extends keyof VtnEvents>(name: K, ...args: VtnEvents[K]) => void
  /** A message a VEN fetched by polling was handed over (e.g. a registration cancel takes effect). */
  delivered: (venID: string, message: OadrMessage) => Promise<void>
}

/** Which messages each service accepts from a VEN (oadrResponse is accepted everywhere). */
const accepted: Record<OadrServiceName, ReadonlySet<OadrMessage['type']>> = {
  EiRegisterParty: new Set(['oadrQueryRegistration', 'oadrCreatePartyRegistration', 'oadrCancelPartyRegistration', 'oadrCanceledPartyRegistration']),
  EiEvent: new Set(['oadrRequestEvent', 'oadrCreatedEvent']),
  EiReport: new Set(['oadrRegisterReport', 'oadrRegisteredReport', 'oadrCreateReport', 'oadrCreatedReport', 'oadrUpdateReport', 'oadrCancelReport', 'oadrCanceledReport']),
  EiOpt: new Set(['oadrCreateOpt', 'oadrCancelOpt']),
  OadrPoll: new Set(['oadrPoll'])
}

export function ok (requestID: string): EiResponse {
  return { responseCode: '200', responseDescription: 'OK', requestID }
}

/** The venID a message speaks for: its own, or the one bound to the sender's certificate. */
function venOf (ctx: VtnContext, message: { venID?: string }, peer: PeerIdentity): string {
  const venID = message.venID ?? ctx.state.venOfFingerprint(peer.fingerprint)
  if (venID === undefined) throw new NotRegisteredError('no venID in the message and none bound to the sender')
  ctx.state.authorise(venID, peer.fingerprint)
  return venID
}

export async function handleIncoming (ctx: VtnContext, service: OadrServiceName, message: OadrMessage, peer: PeerIdentity): Promise<OadrMessage> {
  if (message.type === 'oadrResponse') return { type: 'oadrResponse', eiResponse: ok(message.eiResponse.requestID) }
  if (!accepted[service].has(message.type)) throw new WrongServiceError(`${message.type} is not a ${service} request`)
  const { state } = ctx
  const now = state.clock.now()
  switch (message.type) {
    case 'oadrQueryRegistration': {
      // "venID not included in query unless already registered": a certificate tells who is asking.
      const known = state.registrations.get(state.venOfFingerprint(peer.fingerprint) ?? '')
      const answer = registrationAnswer(ctx, message.requestID)
      return known === undefined ? answer : { ...answer, registrationID: known.registrationID, venID: known.venID }
    }

    case 'oadrCreatePartyRegistration': {
      const venID = message.venID ?? state.venOfFingerprint(peer.fingerprint) ?? state.newId()
      state.authorise(venID, peer.fingerprint)
      const existing = state.registrations.get(venID)
      if (message.registrationID !== undefined && existing?.registrationID !== message.registrationID) {
        throw new InvalidIdError(`registrationID ${message.registrationID} is not ${venID}'s registration`)
      }
      if (message.oadrHttpPullModel === false && message.oadrTransportAddress === undefined) {
        throw new NotAllowedError('push model needs an oadrTransportAddress')
      }
      const registration = {
        venID,
        registrationID: existing?.registrationID ?? state.newId(),
        httpPullModel: message.oadrHttpPullModel !== false,
        reportOnly: message.oadrReportOnly,
        xmlSignature: message.oadrXmlSignature,
        registeredAtMs: now,
        ...(message.oadrVenName === undefined ? {} : { venName: message.oadrVenName }),
        ...(message.oadrTransportAddress === undefined ? {} : { transportAddress: message.oadrTransportAddress }),
        ...(peer.fingerprint === undefined ? {} : { fingerprint: peer.fingerprint })
      }
      await state.putRegistration(registration)
      ctx.emit('registered', registration)
      return { ...registrationAnswer(ctx, message.requestID), registrationID: registration.registrationID, venID }
    }

    case 'oadrCancelPartyRegistration': {
      const venID = venOf(ctx, message, peer)
      const reg = state.registered(venID)
      if (reg.registrationID !== message.registrationID) throw new InvalidIdError(`registrationID ${message.registrationID} is not ${venID}'s registration`)
      await state.deleteRegistration(venID)
      ctx.emit('deregistered', venID)
      return { type: 'oadrCanceledPartyRegistration', eiResponse: ok(message.requestID), registrationID: message.registrationID, venID }
    }

    case 'oadrCanceledPartyRegistration': {
      const venID = venOf(ctx, message, peer)
      if (state.registrations.has(venID)) {
        await state.deleteRegistration(venID)
        ctx.emit('deregistered', venID)
      }
      return { type: 'oadrResponse', eiResponse: ok(message.eiResponse.requestID), venID }
    }

    case 'oadrRequestEvent': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      state.distributePending.delete(venID)
      const distribute = state.distributeFor(venID, state.newId())
      if (message.replyLimit !== undefined && message.replyLimit > 0) distribute.oadrEvents = distribute.oadrEvents.slice(0, message.replyLimit)
      return { ...distribute, eiResponse: ok(message.requestID) }
    }

    case 'oadrCreatedEvent': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      for (const r of message.eventResponses ?? []) {
        const record = state.events.get(r.qualifiedEventID.eventID)
        if (record === undefined || !state.isTargeted(record, venID)) {
          throw new InvalidIdError(`event ${r.qualifiedEventID.eventID} is not an event of ${venID}`)
        }
      }
      for (const r of message.eventResponses ?? []) {
        const response = {
          venID,
          eventID: r.qualifiedEventID.eventID,
          modificationNumber: r.qualifiedEventID.modificationNumber,
          optType: r.optType,
          responseCode: r.responseCode,
          receivedAtMs: now
        }
        await state.putEventResponse(response)
        ctx.emit('eventResponse', response)
      }
      return { type: 'oadrResponse', eiResponse: ok(message.eiResponse.requestID), venID }
    }

    case 'oadrRegisterReport': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      await state.putOffers(venID, message.oadrReports)
      ctx.emit('reportsOffered', venID, message.oadrReports)
      const requests = ctx.requestReports(venID, message.oadrReports)
      for (const request of requests) await state.putRequest({ venID, request, confirmed: false, cancelled: false })
      return { type: 'oadrRegisteredReport', eiResponse: ok(message.requestID), oadrReportRequests: requests, venID }
    }

    case 'oadrCreatedReport':
    case 'oadrCanceledReport': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      const pending = new Set(message.oadrPendingReports)
      for (const r of state.requestsOf(venID)) {
        const id = r.request.reportRequestID
        if (pending.has(id) && !r.confirmed) await state.putRequest({ ...r, confirmed: true })
        if (!pending.has(id) && message.type === 'oadrCanceledReport' && !r.cancelled) await state.putRequest({ ...r, cancelled: true })
      }
      ctx.emit('reportRequestConfirmed', venID, message.oadrPendingReports)
      return { type: 'oadrResponse', eiResponse: ok(message.eiResponse.requestID), venID }
    }

    case 'oadrUpdateReport': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      for (const report of message.oadrReports) {
        const request = state.requests.get(report.reportRequestID)
        if (request === undefined || request.venID !== venID) throw new InvalidIdError(`reportRequestID ${report.reportRequestID} was not requested from ${venID}`)
      }
      const stale: string[] = []
      for (const report of message.oadrReports) {
        if (state.requests.get(report.reportRequestID)?.cancelled === true) {
          stale.push(report.reportRequestID)
          continue
        }
        const stored = { venID, receivedAtMs: now, report }
        // A VTN that keeps no reports has nothing to wait for: no turn of the event loop per report.
        if (state.storeReports) await state.addReport(stored)
        ctx.emit('report', stored)
      }
      // A report this VTN cancelled is refused by cancelling it again in the answer, so the VEN stops.
      return {
        type: 'oadrUpdatedReport',
        eiResponse: ok(message.requestID),
        ...(stale.length === 0 ? {} : { oadrCancelReport: { requestID: state.newId(), reportRequestIDs: [...new Set(stale)], reportToFollow: false, venID } }),
        venID
      }
    }

    case 'oadrRegisteredReport':
      venOf(ctx, message, peer)
      return { type: 'oadrResponse', eiResponse: ok(message.eiResponse.requestID) }

    case 'oadrCreateReport': {
      // This VTN offers no reports of its own: nothing can be requested from it.
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      return { type: 'oadrCreatedReport', eiResponse: { responseCode: '461', responseDescription: 'the VTN offers no reports', requestID: message.requestID }, oadrPendingReports: [], venID }
    }

    case 'oadrCancelReport': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      return { type: 'oadrCanceledReport', eiResponse: ok(message.requestID), oadrPendingReports: [], venID }
    }

    case 'oadrCreateOpt': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      if (message.qualifiedEventID !== undefined && !state.events.has(message.qualifiedEventID.eventID)) {
        throw new InvalidIdError(`event ${message.qualifiedEventID.eventID} is unknown`)
      }
      const record = { venID, opt: message, receivedAtMs: now }
      await state.putOpt(record)
      ctx.emit('opt', record)
      return { type: 'oadrCreatedOpt', eiResponse: ok(message.requestID), optID: message.optID }
    }

    case 'oadrCancelOpt': {
      const venID = venOf(ctx, message, peer)
      state.registered(venID)
      if (!await state.deleteOpt(venID, message.optID)) throw new InvalidIdError(`optID ${message.optID} is unknown`)
      ctx.emit('optCancelled', venID, message.optID)
      return { type: 'oadrCanceledOpt', eiResponse: ok(message.requestID), optID: message.optID }
    }

    case 'oadrPoll': {
      state.authorise(message.venID, peer.fingerprint)
      if (!state.registrations.has(message.venID)) return { type: 'oadrRequestReregistration', venID: message.venID }
      // Most polls find nothing: those are answered without a turn through the queue's write.
      const next = state.hasNext(message.venID) ? await state.takeNext(message.venID) : undefined
      if (next === undefined) return { type: 'oadrResponse', eiResponse: ok(''), venID: message.venID }
      await ctx.delivered(message.venID, next)
      return next
    }

    default:
      throw new WrongServiceError(`${message.type} is not a request a VTN answers`)
  }
}

function registrationAnswer (ctx: VtnContext, requestID: string): OadrMessage & { type: 'oadrCreatedPartyRegistration' } {
  return {
    type: 'oadrCreatedPartyRegistration',
    eiResponse: ok(requestID),
    vtnID: ctx.state.vtnID,
    oadrProfiles: [{ oadrProfileName: '2.0b', oadrTransports: ctx.transports }],
    oadrRequestedOadrPollFreqMs: ctx.pollFreqMs
  }
}
