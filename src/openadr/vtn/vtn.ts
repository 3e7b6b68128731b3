/**
 * The transport-independent VTN. `vtn.handler` is a PayloadHandler: give it to any transport (HTTP, XMPP,
 * in-process). The host program drives it through the API below: create, modify and cancel events for VENs
 * or groups, request and read reports, read opt schedules and event responses, and listen for what VENs
 * send (`vtn.on('report', …)`). Pull-model VENs collect what is queued for them with oadrPoll; push-model
 * VENs get it at their transport address through `senderFor`.
 *
 * @example
 * const vtn = new Vtn({ vtnID: 'vtn-1', dataDir: './data/vtn' }, { clock })
 * await vtn.start()
 * await vtn.createEvent({ marketContext: 'http://mc', dtstartMs, targets: { venIDs: ['ven-1'] }, signals })
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { systemClock } from '../../util/clock.js'
import type { Clock } from '../../util/clock.js'
import { isMessageSender, type AnySender, type MessageHandler, type OadrServiceName, type PayloadHandler, type PeerIdentity } from '../transport.js'
import type { EiEvent } from '../model/event.js'
import type { NewEvent, EventChange } from './events.js'
import { buildEvent, changeEvent } from './events.js'
import type { OadrMessage } from '../model/message.js'
import type { OadrReport, OadrReportRequest } from '../model/report.js'
import { decodePayload, encodePayload, serviceOf } from '../codec/index.js'
import { InvalidIdError, OadrError, ResponseCode } from '../errors.js'
import { LevelVtnStore, MemoryVtnStore } from './store.js'
import { VtnState } from './state.js'
import { handleIncoming, type VtnContext } from './handlers.js'
import { requestTelemetry } from './reportPolicy.js'
import type { EventResponseRecord, EventTargets, OptRecord, ReportRequestRecord, StoredReport, VenRegistration, VtnComponents, VtnEvents, VtnInit } from './types.js'

export class Vtn extends EventEmitter<VtnEvents> {
  readonly vtnID: string
  /** Answers one oadrPayload document; never throws. */
  readonly handler: PayloadHandler
  /** Answers one decoded message (`handler` without the codec, for `localMessageSender`); never throws. */
  readonly messageHandler: MessageHandler
  private readonly state: VtnState
  private readonly clock: Clock
  private readonly senderFor: ((address: string) => AnySender) | undefined
  private readonly context: VtnContext
  private readonly pushChains = new Map<string, Promise<void>>()
  private started = false

  constructor (init: VtnInit, components: VtnComponents = {}) {
    super()
    this.vtnID = init.vtnID
    this.clock = components.clock ?? systemClock
    this.senderFor = components.senderFor
    const store = init.dataDir === undefined ? new MemoryVtnStore() : new LevelVtnStore(init.dataDir)
    this.state = new VtnState(init.vtnID, store, this.clock, init.nearWindowMs ?? 900_000, components.newId ?? randomUUID)
    this.state.storeReports = init.storeReports ?? true
    this.context = {
      state: this.state,
      pollFreqMs: init.pollFreqMs ?? 10_000,
      transports: init.transports ?? ['simpleHttp'],
      requestReports: init.requestReports ?? ((_venID, offered) => requestTelemetry(offered, this.state.newId)),
      emit: (name, ...args) => { (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args) },
      delivered: async (venID, message) => { await this.afterDelivery(venID, message) }
    }
    this.handler = async (service, xml, peer) => await this.handle(service, xml, peer)
    this.messageHandler = (service, message, peer) => this.handleMessage(service, message, peer)
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.state.store.start()
    await this.state.load()
    this.started = true
    for (const venID of this.state.registrations.keys()) this.push(venID)
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await Promise.allSettled([...this.pushChains.values()])
    await this.state.store.stop()
  }

  /** One request document in, one answer document out; any error becomes an oadrResponse with its code. */
  async handle (service: OadrServiceName, xml: string, peer: PeerIdentity): Promise<string> {
    let message: OadrMessage
    try {
      message = decodePayload(xml)
    } catch (err) {
      return encodePayload(errorAnswer(err, '', undefined))
    }
    const answer = await this.handleMessage(service, message, peer)
    try {
      return encodePayload(answer)
    } catch (err) {
      return encodePayload(errorAnswer(err, requestIdOf(message), venIdOf(message)))
    }
  }

  /** The service under the codec: one decoded request in, one answer out; any error becomes an oadrResponse. */
  async handleMessage (service: OadrServiceName, message: OadrMessage, peer: PeerIdentity): Promise<OadrMessage> {
    const requestID = requestIdOf(message)
    const venID = venIdOf(message)
    try {
      if (!this.started) throw new OadrError('the VTN is not running', ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR)
      const answer = await handleIncoming(this.context, service, message, peer)
      if (venID !== undefined && answer.type !== 'oadrPoll') this.pushSoon(venID)
      return answer
    } catch (err) {
      return errorAnswer(err, requestID, venID)
    }
  }

  // ---- registrations ----

  registrations (): VenRegistration[] { return [...this.state.registrations.values()] }
  registration (venID: string): VenRegistration | undefined { return this.state.registrations.get(venID) }

  /** Binds a venID to a client-certificate fingerprint: messages for it from any other sender get 463. */
  async bindVen (venID: string, fingerprint: string): Promise<void> { await this.state.putBinding(venID, fingerprint) }

  /** Defines (or redefines) a group of VENs that events can target. */
  async defineGroup (groupID: string, venIDs: string[]): Promise<void> {
    await this.state.putGroup(groupID, venIDs)
    for (const venID of venIDs) this.push(venID)
  }

  /** Asks a VEN to register again (oadrRequestReregistration), on its next poll or by push. */
  async requestReregistration (venID: string): Promise<void> {
    this.state.registered(venID)
    await this.state.enqueue(venID, { type: 'oadrRequestReregistration', venID })
    this.push(venID)
  }

  /** Ends a VEN's registration: the VEN is told (oadrCancelPartyRegistration) and then forgotten. */
  async cancelRegistration (venID: string): Promise<void> {
    const reg = this.state.registered(venID)
    await this.state.enqueue(venID, { type: 'oadrCancelPartyRegistration', requestID: this.state.newId(), registrationID: reg.registrationID, venID })
    this.push(venID)
  }

  // ---- events ----

  async createEvent (init: NewEvent): Promise<EiEvent> {
    const eventID = init.eventID ?? this.state.newId()
    if (this.state.events.has(eventID)) throw new InvalidIdError(`event ${eventID} exists`)
    const event = buildEvent({ ...init, eventID }, this.clock.now())
    await this.state.putEvent({ event, targets: init.targets, responseRequired: init.responseRequired ?? 'always', cancelled: false })
    this.pushEvent(eventID)
    return this.event(eventID) as EiEvent
  }

  /** Changes an event (new setpoints, times or targets); its modificationNumber goes up by one. */
  async modifyEvent (eventID: string, change: EventChange): Promise<EiEvent> {
    const record = this.eventRecord(eventID)
    const before = this.state.venIDsOf(record)
    const next = { ...record, event: changeEvent(record.event, change, this.clock.now()), targets: change.targets ?? record.targets }
    await this.state.putEvent(next)
    // VENs dropped from the targets learn it from their next distribute, which no longer holds the event.
    for (const venID of before) if (this.state.registrations.has(venID)) this.state.distributePending.add(venID)
    this.pushEvent(eventID, before)
    return this.event(eventID) as EiEvent
  }

  async cancelEvent (eventID: string, reason?: string): Promise<EiEvent> {
    const record = this.eventRecord(eventID)
    const event = changeEvent(record.event, reason === undefined ? {} : { reason }, this.clock.now())
    await this.state.putEvent({ ...record, event, cancelled: true })
    this.pushEvent(eventID)
    return this.event(eventID) as EiEvent
  }

  /** An event with its status as of now. */
  event (eventID: string): EiEvent | undefined {
    const record = this.state.events.get(eventID)
    return record === undefined ? undefined : this.state.withStatus(record)
  }

  events (): EiEvent[] { return [...this.state.events.values()].map(r => this.state.withStatus(r)) }
  eventTargets (eventID: string): EventTargets | undefined { return this.state.events.get(eventID)?.targets }

  /** The VENs' oadrCreatedEvent answers (optIn/optOut), for one event or all. */
  eventResponses (eventID?: string): EventResponseRecord[] {
    return eventID === undefined ? [...this.state.eventResponses.values()] : this.state.responsesOf(eventID)
  }

  // ---- reports ----

  offeredReports (venID: string): OadrReport[] { return this.state.offers.get(venID) ?? [] }
  reportRequests (venID?: string): ReportRequestRecord[] {
    return venID === undefined ? [...this.state.requests.values()] : this.state.requestsOf(venID)
  }

  /** Asks a VEN for a report (oadrCreateReport). */
  async requestReport (venID: string, request: OadrReportRequest): Promise<void> {
    this.state.registered(venID)
    await this.state.putRequest({ venID, request, confirmed: false, cancelled: false })
    await this.state.enqueue(venID, { type: 'oadrCreateReport', requestID: this.state.newId(), oadrReportRequests: [request], venID })
    this.push(venID)
  }

  /** Stops a report (oadrCancelReport). */
  async cancelReport (venID: string, reportRequestID: string, reportToFollow = false): Promise<void> {
    const record = this.state.requests.get(reportRequestID)
    if (record === undefined || record.venID !== venID) throw new InvalidIdError(`reportRequestID ${reportRequestID} is not ${venID}'s`)
    await this.state.putRequest({ ...record, cancelled: true })
    await this.state.enqueue(venID, { type: 'oadrCancelReport', requestID: this.state.newId(), reportRequestIDs: [reportRequestID], reportToFollow, venID })
    this.push(venID)
  }

  /** Reports received from a VEN (optionally for one request), oldest first. */
  async readReports (venID: string, reportRequestID?: string): Promise<StoredReport[]> {
    return await this.state.readReports(venID, reportRequestID)
  }

  // ---- opts ----

  optSchedules (venID?: string): OptRecord[] {
    return [...this.state.opts.values()].filter(r => venID === undefined || r.venID === venID)
  }

  // ---- delivery ----

  private eventRecord (eventID: string): NonNullable<ReturnType<VtnState['events']['get']>> {
    const record = this.state.events.get(eventID)
    if (record === undefined) throw new InvalidIdError(`event ${eventID} is unknown`)
    return record
  }

  private pushEvent (eventID: string, also: string[] = []): void {
    const record = this.eventRecord(eventID)
    for (const venID of new Set([...this.state.venIDsOf(record), ...also])) this.push(venID)
  }

  private async afterDelivery (venID: string, message: OadrMessage): Promise<void> {
    if (message.type === 'oadrCancelPartyRegistration') {
      await this.state.deleteRegistration(venID)
      this.emit('deregistered', venID)
    }
  }

  /** Push after the current answer is on its way (a VEN's request may have queued something). */
  private pushSoon (venID: string): void {
    const reg = this.state.registrations.get(venID)
    if (reg !== undefined && !reg.httpPullModel) setImmediate(() => { this.push(venID) })
  }

  /** Sends what is queued for a push-model VEN, one message at a time, in order. */
  private push (venID: string): void {
    const reg = this.state.registrations.get(venID)
    if (!this.started || reg === undefined || reg.httpPullModel || reg.transportAddress === undefined || this.senderFor === undefined) return
    const sender = this.senderFor(reg.transportAddress)
    const previous = this.pushChains.get(venID) ?? Promise.resolve()
    const chain = previous
      .then(async () => { await this.drain(venID, sender) })
      .catch((err: unknown) => { this.emit('pushFailed', venID, err instanceof Error ? err : new Error(String(err))) })
    this.pushChains.set(venID, chain)
    void chain.finally(() => { if (this.pushChains.get(venID) === chain) this.pushChains.delete(venID) })
  }

  private async drain (venID: string, sender: AnySender): Promise<void> {
    for (let message = await this.state.takeNext(venID); message !== undefined && this.started; message = await this.state.takeNext(venID)) {
      let answer: OadrMessage
      try {
        answer = isMessageSender(sender)
          ? await sender.sendMessage(serviceOf(message.type), message)
          : decodePayload(await sender.send(serviceOf(message.type), encodePayload(message)))
      } catch (err) {
        await this.state.requeue(venID, message)
        this.emit('pushFailed', venID, err instanceof Error ? err : new Error(String(err)))
        return
      }
      await this.afterDelivery(venID, message)
      // The VEN's answer to a push is itself a message for this VTN (oadrCreatedEvent, oadrCreatedReport…).
      // It arrived over the connection this VTN opened to the registered address, so it speaks for venID.
      if (answer.type !== 'oadrResponse') {
        const fingerprint = this.state.registrations.get(venID)?.fingerprint
        const peer: PeerIdentity = fingerprint === undefined ? { transport: 'local' } : { transport: 'local', fingerprint }
        await handleIncoming(this.context, serviceOf(answer.type), answer, peer)
          .catch((err: unknown) => { this.emit('pushFailed', venID, err instanceof Error ? err : new Error(String(err))) })
      }
    }
  }
}

function venIdOf (message: OadrMessage): string | undefined {
  return 'venID' in message ? message.venID : undefined
}

function errorAnswer (err: unknown, requestID: string, venID: string | undefined): OadrMessage {
  const code = err instanceof OadrError ? err.responseCode : ResponseCode.INTERNAL_ERROR
  const description = err instanceof OadrError ? err.message : 'internal error'
  return {
    type: 'oadrResponse',
    eiResponse: { responseCode: code, responseDescription: description.slice(0, 300), requestID },
    ...(venID === undefined ? {} : { venID })
  }
}

function requestIdOf (message: OadrMessage): string {
  if ('requestID' in message) return message.requestID
  if ('eiResponse' in message && message.eiResponse !== undefined) return message.eiResponse.requestID
  return ''
}
