/**
 * The transport-independent VEN client: registers with its VTN (query, then create registration), offers
 * its reports, polls at the frequency the VTN asks (or serves pushes through `ven.handler`), answers events
 * with optIn/optOut from a decision callback, sends the reports the VTN requested at their reporting
 * period, sends opt schedules, and registers again when asked.
 *
 * @example
 * const ven = new Ven({ venName: 'site-1', reports: [telemetryMetadata] }, { sender, clock, readReport })
 * await ven.start()
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { systemClock, timerAt, type TimerHandle } from '../../util/clock.js'
import type { Clock } from '../../util/clock.js'
import { isMessageSender, type AnySender, type MessageHandler, type OadrServiceName, type PayloadHandler, type PayloadSender } from '../transport.js'
import type { MessageOf, OadrMessage, OadrMessageType } from '../model/message.js'
import type { EiEvent, EventResponse, OptType } from '../model/event.js'
import type { OadrCreateOpt, OptReason } from '../model/opt.js'
import type { EiTarget } from '../model/common.js'
import { decodePayload, encodePayload, serviceOf } from '../codec/index.js'
import { OadrError, OadrResponseError, ResponseCode, SchemaViolationError } from '../errors.js'
import { ReportSchedule } from './reports.js'
import type { VenComponents, VenEvents, VenInit } from './types.js'

interface HeldEvent {
  event: EiEvent
  optType: OptType
}

/** Most messages a single poll round will take from the VTN before waiting for the next period. */
const maxMessagesPerPoll = 32

export class Ven extends EventEmitter<VenEvents> {
  /** Serves the VTN's pushes (push model); never throws. */
  readonly handler: PayloadHandler
  /** Serves the VTN's pushes as decoded messages (`handler` without the codec); never throws. */
  readonly messageHandler: MessageHandler
  private readonly init: VenInit
  private readonly sender: AnySender
  private readonly clock: Clock
  private readonly decideOpt: NonNullable<VenComponents['decideOpt']>
  private readonly newId: () => string
  private readonly reports: ReportSchedule
  private readonly held = new Map<string, HeldEvent>()
  private currentVenID: string | undefined
  private currentRegistrationID: string | undefined
  private currentVtnID: string | undefined
  private pollFreqMs: number
  private pollTimer: TimerHandle | undefined
  private running = false
  private polling: Promise<void> | undefined

  constructor (init: VenInit, components: VenComponents) {
    super()
    this.init = init
    this.sender = components.sender
    this.clock = components.clock ?? systemClock
    this.decideOpt = components.decideOpt ?? (() => 'optIn')
    this.newId = components.newId ?? randomUUID
    this.currentVenID = init.venID
    this.pollFreqMs = init.defaultPollFreqMs ?? 10_000
    this.reports = new ReportSchedule({
      clock: this.clock,
      offered: init.reports ?? [],
      ...(components.readReport === undefined ? {} : { readReport: components.readReport }),
      ...(components.readProjection === undefined ? {} : { readProjection: components.readProjection }),
      send: report => this.sendReport(report),
      onError: err => { this.fail(err) }
    })
    this.handler = async (_service, xml) => await this.handlePush(xml)
    this.messageHandler = async (_service, message) => await this.handlePushMessage(message)
  }

  get venID (): string | undefined { return this.currentVenID }
  get registrationID (): string | undefined { return this.currentRegistrationID }
  get vtnID (): string | undefined { return this.currentVtnID }
  /** The poll period in use (the VTN's oadrRequestedOadrPollFreq once registered). */
  get pollPeriodMs (): number { return this.pollFreqMs }

  /** Events this VEN holds, with its answer to each. */
  events (): Array<{ event: EiEvent, optType: OptType }> { return [...this.held.values()] }
  /** Report requests being served. */
  activeReportRequests (): string[] { return this.reports.activeIds() }

  /** Registers, offers reports, and starts polling (pull model). */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    await this.register()
    await this.registerReports()
    if (this.init.httpPullModel !== false) {
      await this.pollOnce()
      this.schedulePoll()
    }
  }

  async stop (): Promise<void> {
    this.running = false
    this.pollTimer?.cancel()
    this.pollTimer = undefined
    this.reports.stopAll()
    await this.polling
  }

  /** oadrQueryRegistration then oadrCreatePartyRegistration. */
  async register (): Promise<void> {
    const query = await this.request('EiRegisterParty', { type: 'oadrQueryRegistration', requestID: this.newId() }, 'oadrCreatedPartyRegistration')
    this.currentVtnID = query.vtnID
    const created = await this.request('EiRegisterParty', {
      type: 'oadrCreatePartyRegistration',
      requestID: this.newId(),
      ...(this.currentRegistrationID === undefined ? {} : { registrationID: this.currentRegistrationID }),
      ...(this.currentVenID === undefined ? {} : { venID: this.currentVenID }),
      oadrProfileName: '2.0b',
      oadrTransportName: this.init.transportName ?? 'simpleHttp',
      ...(this.init.transportAddress === undefined ? {} : { oadrTransportAddress: this.init.transportAddress }),
      oadrReportOnly: this.init.reportOnly ?? false,
      oadrXmlSignature: this.init.xmlSignature ?? false,
      oadrVenName: this.init.venName,
      oadrHttpPullModel: this.init.httpPullModel !== false
    }, 'oadrCreatedPartyRegistration')
    if (created.venID === undefined || created.registrationID === undefined) {
      throw new SchemaViolationError('oadrCreatedPartyRegistration without venID or registrationID')
    }
    this.currentVenID = created.venID
    this.currentRegistrationID = created.registrationID
    this.currentVtnID = created.vtnID
    if (created.oadrRequestedOadrPollFreqMs !== undefined && created.oadrRequestedOadrPollFreqMs > 0) this.pollFreqMs = created.oadrRequestedOadrPollFreqMs
    this.emit('registered', created.venID, created.registrationID)
  }

  /** Offers this VEN's reports (oadrRegisterReport) and starts whatever the VTN requests in reply. */
  async registerReports (): Promise<void> {
    const registered = await this.request('EiReport', { type: 'oadrRegisterReport', requestID: this.newId(), oadrReports: this.reports.metadata(this.clock.now()), venID: this.requireVenID() }, 'oadrRegisteredReport')
    if (registered.oadrReportRequests.length > 0) {
      const created = this.startReports(registered.oadrReportRequests)
      await this.request('EiReport', created, 'oadrResponse')
    }
  }

  /** Ends the registration (oadrCancelPartyRegistration). */
  async cancelRegistration (): Promise<void> {
    const registrationID = this.currentRegistrationID
    if (registrationID === undefined) return
    await this.request('EiRegisterParty', { type: 'oadrCancelPartyRegistration', requestID: this.newId(), registrationID, venID: this.requireVenID() }, 'oadrCanceledPartyRegistration')
    this.forgetRegistration()
  }

  /** Polls until the VTN has nothing more, handling each message it hands over. */
  async pollOnce (): Promise<void> {
    const run = async (): Promise<void> => {
      for (let i = 0; i < maxMessagesPerPoll; i++) {
        const venID = this.currentVenID
        // Not registered (never, or the VTN cancelled it): nothing to poll for.
        if (venID === undefined || this.currentRegistrationID === undefined) return
        const message = await this.send('OadrPoll', { type: 'oadrPoll', venID })
        if (message.type === 'oadrResponse') {
          checkOk(message.eiResponse.responseCode, message.eiResponse.responseDescription)
          return
        }
        if (message.type === 'oadrRequestReregistration') {
          this.currentRegistrationID = undefined
          await this.reregister()
          continue
        }
        const reply = await this.respondTo(message)
        if (reply !== undefined) {
          const answer = await this.send(serviceOf(reply.type), reply)
          if ('eiResponse' in answer && answer.eiResponse !== undefined) checkOk(answer.eiResponse.responseCode, answer.eiResponse.responseDescription)
        }
      }
    }
    const previous = this.polling ?? Promise.resolve()
    const next = previous.then(run)
    this.polling = next.catch(() => {})
    await next
  }

  /** Changes this VEN's answer to an event (a new oadrCreatedEvent). */
  async respondToEvent (eventID: string, optType: OptType): Promise<void> {
    const held = this.held.get(eventID)
    if (held === undefined) throw new OadrError(`no event ${eventID}`, ResponseCode.INVALID_ID)
    held.optType = optType
    await this.request('EiEvent', this.createdEvent('', [held]), 'oadrResponse')
  }

  /** Sends an opt schedule (oadrCreateOpt) and returns its optID. */
  async createOpt (opt: { optType: OptType, optReason: OptReason, availability?: Array<{ dtstartMs: number, durationMs: number }>, eventID?: string, marketContext?: string, eiTarget?: EiTarget }): Promise<string> {
    const held = opt.eventID === undefined ? undefined : this.held.get(opt.eventID)
    const message: OadrCreateOpt = {
      type: 'oadrCreateOpt',
      optID: this.newId(),
      optType: opt.optType,
      optReason: opt.optReason,
      ...(opt.marketContext === undefined ? {} : { marketContext: opt.marketContext }),
      venID: this.requireVenID(),
      ...(opt.availability === undefined ? {} : { availability: opt.availability }),
      createdDateTimeMs: this.clock.now(),
      requestID: this.newId(),
      ...(opt.eventID === undefined ? {} : { qualifiedEventID: { eventID: opt.eventID, modificationNumber: held?.event.eventDescriptor.modificationNumber ?? 0 } }),
      eiTarget: opt.eiTarget ?? {}
    }
    await this.request('EiOpt', message, 'oadrCreatedOpt')
    return message.optID
  }

  async cancelOpt (optID: string): Promise<void> {
    await this.request('EiOpt', { type: 'oadrCancelOpt', requestID: this.newId(), optID, venID: this.requireVenID() }, 'oadrCanceledOpt')
  }

  // ---- what the VTN sends ----

  private async handlePush (xml: string): Promise<string> {
    let message: OadrMessage
    try {
      message = decodePayload(xml)
    } catch (err) {
      return encodePayload(pushError(err, ''))
    }
    const answer = await this.handlePushMessage(message)
    try {
      return encodePayload(answer)
    } catch (err) {
      return encodePayload(pushError(err, 'requestID' in message ? message.requestID : ''))
    }
  }

  private async handlePushMessage (message: OadrMessage): Promise<OadrMessage> {
    const requestID = 'requestID' in message ? message.requestID : ''
    try {
      const reply = await this.respondTo(message)
      const acknowledgement: OadrMessage = { type: 'oadrResponse', eiResponse: ok(requestID), ...(this.currentVenID === undefined ? {} : { venID: this.currentVenID }) }
      if (reply?.type === 'oadrCreatedEvent') {
        // Acknowledged at once, answered by a request of its own, as in the pull model: every VTN takes that.
        setImmediate(() => { this.request('EiEvent', reply, 'oadrResponse').catch((err: unknown) => { this.fail(asError(err)) }) })
        return acknowledgement
      }
      return reply ?? acknowledgement
    } catch (err) {
      return pushError(err, requestID)
    }
  }

  /** The message that answers one the VTN sent (by poll or push), if it needs one. */
  private async respondTo (message: OadrMessage): Promise<OadrMessage | undefined> {
    const venID = this.currentVenID ?? ''
    switch (message.type) {
      case 'oadrDistributeEvent': {
        const answered = await this.takeEvents(message)
        return answered.length === 0 ? undefined : this.createdEvent(message.requestID, answered)
      }
      case 'oadrCreateReport':
        return this.startReports(message.oadrReportRequests, message.requestID)
      case 'oadrCancelReport':
        for (const id of message.reportRequestIDs) if (this.reports.cancel(id)) this.emit('reportCancelled', id)
        return { type: 'oadrCanceledReport', eiResponse: ok(message.requestID), oadrPendingReports: this.reports.activeIds(), venID }
      case 'oadrRegisterReport':
        return { type: 'oadrRegisteredReport', eiResponse: ok(message.requestID), oadrReportRequests: [], venID }
      case 'oadrRequestReregistration':
        // The VTN no longer knows this registration: register afresh, keeping the venID.
        this.currentRegistrationID = undefined
        setImmediate(() => { this.reregister().catch((err: unknown) => { this.fail(asError(err)) }) })
        return undefined
      case 'oadrCancelPartyRegistration': {
        const registrationID = this.currentRegistrationID
        this.forgetRegistration()
        return { type: 'oadrCanceledPartyRegistration', eiResponse: ok(message.requestID), ...(registrationID === undefined ? {} : { registrationID }), venID }
      }
      case 'oadrResponse':
        return undefined
      default:
        throw new OadrError(`a VEN does not answer ${message.type}`, ResponseCode.NOT_RECOGNIZED)
    }
  }

  private async reregister (): Promise<void> {
    await this.register()
    await this.registerReports()
  }

  /** Takes the VTN's event list; returns the events that need an oadrCreatedEvent answer now. */
  private async takeEvents (message: MessageOf<'oadrDistributeEvent'>): Promise<HeldEvent[]> {
    const answered: HeldEvent[] = []
    const listed = new Set<string>()
    for (const { eiEvent, oadrResponseRequired } of message.oadrEvents) {
      const id = eiEvent.eventDescriptor.eventID
      listed.add(id)
      const before = this.held.get(id)
      const changed = before === undefined || before.event.eventDescriptor.modificationNumber !== eiEvent.eventDescriptor.modificationNumber
      if (!changed) {
        before.event = eiEvent
        continue
      }
      const optType = eiEvent.eventDescriptor.eventStatus === 'cancelled' ? (before?.optType ?? 'optIn') : await this.decideOpt(eiEvent)
      const held = { event: eiEvent, optType }
      this.held.set(id, held)
      this.emit('event', eiEvent, optType)
      if (oadrResponseRequired === 'always') answered.push(held)
    }
    for (const id of [...this.held.keys()]) {
      if (!listed.has(id)) {
        this.held.delete(id)
        this.emit('eventRemoved', id)
      }
    }
    return answered
  }

  private createdEvent (requestID: string, events: HeldEvent[]): MessageOf<'oadrCreatedEvent'> {
    const eventResponses: EventResponse[] = events.map(h => ({
      responseCode: '200',
      responseDescription: 'OK',
      requestID,
      qualifiedEventID: { eventID: h.event.eventDescriptor.eventID, modificationNumber: h.event.eventDescriptor.modificationNumber },
      optType: h.optType
    }))
    return { type: 'oadrCreatedEvent', eiResponse: ok(requestID), eventResponses, venID: this.requireVenID() }
  }

  private startReports (requests: MessageOf<'oadrCreateReport'>['oadrReportRequests'], requestID = ''): MessageOf<'oadrCreatedReport'> {
    for (const request of requests) {
      try {
        this.reports.start(request)
        this.emit('reportRequested', request)
      } catch (err) {
        // Left out of oadrPendingReports, which is how the VTN learns the request was not taken.
        this.fail(asError(err))
      }
    }
    return { type: 'oadrCreatedReport', eiResponse: ok(requestID), oadrPendingReports: this.reports.activeIds(), venID: this.requireVenID() }
  }

  private async sendReport (report: MessageOf<'oadrUpdateReport'>['oadrReports'][number]): Promise<void> {
    const updated = await this.request('EiReport', { type: 'oadrUpdateReport', requestID: this.newId(), oadrReports: [report], venID: this.requireVenID() }, 'oadrUpdatedReport')
    this.emit('reportSent', report)
    for (const id of updated.oadrCancelReport?.reportRequestIDs ?? []) if (this.reports.cancel(id)) this.emit('reportCancelled', id)
  }

  // ---- plumbing ----

  private schedulePoll (): void {
    if (!this.running || this.init.httpPullModel === false) return
    this.pollTimer = timerAt(this.clock, this.clock.now() + this.pollFreqMs, async () => {
      await this.pollOnce()
        .catch((err: unknown) => { this.fail(asError(err)) })
        .finally(() => { this.schedulePoll() })
    })
  }

  /** Background failures go to 'error' listeners; without one they are dropped, not thrown (EventEmitter's default). */
  private fail (err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  private forgetRegistration (): void {
    this.currentRegistrationID = undefined
    this.reports.stopAll()
    this.held.clear()
    this.emit('deregistered')
  }

  private requireVenID (): string {
    if (this.currentVenID === undefined) throw new OadrError('not registered', ResponseCode.NOT_REGISTERED_OR_AUTHORIZED)
    return this.currentVenID
  }

  /** The sender's promise itself when it carries messages (every request and poll goes through here). */
  private send (service: OadrServiceName, message: OadrMessage): Promise<OadrMessage> {
    return isMessageSender(this.sender) ? this.sender.sendMessage(service, message) : this.sendPayload(this.sender, service, message)
  }

  private async sendPayload (sender: PayloadSender, service: OadrServiceName, message: OadrMessage): Promise<OadrMessage> {
    return decodePayload(await sender.send(service, encodePayload(message)))
  }

  /** Sends a request and insists on an answer of type `expected` with response code 200. */
  private async request<T extends OadrMessageType> (service: OadrServiceName, message: OadrMessage, expected: T): Promise<MessageOf<T>> {
    const answer = await this.send(service, message)
    if ('eiResponse' in answer && answer.eiResponse !== undefined) checkOk(answer.eiResponse.responseCode, answer.eiResponse.responseDescription)
    if (answer.type !== expected) throw new SchemaViolationError(`expected ${expected}, got ${answer.type}`)
    return answer as MessageOf<T>
  }
}

function ok (requestID: string): { responseCode: string, responseDescription: string, requestID: string } {
  return { responseCode: '200', responseDescription: 'OK', requestID }
}

function pushError (err: unknown, requestID: string): OadrMessage {
  const code = err instanceof OadrError ? err.responseCode : ResponseCode.INTERNAL_ERROR
  return { type: 'oadrResponse', eiResponse: { responseCode: code, responseDescription: err instanceof Error ? err.message.slice(0, 300) : 'error', requestID } }
}

function checkOk (code: string, description: string | undefined): void {
  if (!code.startsWith('2')) throw new OadrResponseError(`VTN answered ${code}${description === undefined ? '' : `: ${description}`}`, code)
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
