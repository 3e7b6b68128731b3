/**
 * The VTN's working state in memory, written through to its store: registrations, bindings, groups, events,
 * event responses, offered reports, report requests, opts and each VEN's queue of messages still to deliver.
 * Both the message handlers and the host API change the VTN only through here.
 */
import type { Clock } from '../../util/clock.js'
import type { EiEvent } from '../model/event.js'
import type { OadrMessage } from '../model/message.js'
import type { OadrReport } from '../model/report.js'
import type { OadrDistributeEvent } from '../model/event.js'
import { NotRegisteredError } from '../errors.js'
import { sameFingerprint } from '../security/fingerprint.js'
import { eventEndMs, eventStatusAt } from './status.js'
import type { VtnStore } from './store.js'
import { eventRecordOf, storedEventRecord, type StoredEventRecord } from './storedEvent.js'
import type { EventResponseRecord, OptRecord, ReportRequestRecord, StoredReport, VenRegistration, VtnEventRecord } from './types.js'

const sep = '\u0000'

export class VtnState {
  readonly registrations = new Map<string, VenRegistration>()
  readonly bindings = new Map<string, string>()
  readonly groups = new Map<string, string[]>()
  readonly events = new Map<string, VtnEventRecord>()
  readonly eventResponses = new Map<string, EventResponseRecord>()
  readonly offers = new Map<string, OadrReport[]>()
  readonly requests = new Map<string, ReportRequestRecord>()
  readonly opts = new Map<string, OptRecord>()
  readonly outbox = new Map<string, OadrMessage[]>()
  /** VENs whose event set changed since they last received an oadrDistributeEvent. */
  readonly distributePending = new Set<string>()
  private reportSeq = 0
  /** `VtnInit.storeReports`. */
  storeReports = true
  /**
   * Indexes, so that a VEN's request costs the same whatever the number of VENs: events by the venIDs they
   * name (events for groups are few and checked for every VEN) with their first-stored order, event
   * responses by event, report requests by VEN.
   */
  private readonly eventOrder = new Map<string, number>()
  private readonly eventsByVen = new Map<string, Set<string>>()
  private readonly groupEvents = new Set<string>()
  private readonly responsesByEvent = new Map<string, Map<string, EventResponseRecord>>()
  private readonly requestsByVen = new Map<string, Set<string>>()

  constructor (
    readonly vtnID: string,
    readonly store: VtnStore,
    readonly clock: Clock,
    readonly nearWindowMs: number,
    readonly newId: () => string
  ) {}

  async load (): Promise<void> {
    for (const [k, v] of await this.store.entries<VenRegistration>('registrations')) this.registrations.set(k, v)
    for (const [k, v] of await this.store.entries<string>('bindings')) this.bindings.set(k, v)
    for (const [k, v] of await this.store.entries<string[]>('groups')) this.groups.set(k, v)
    for (const [k, v] of await this.store.entries<StoredEventRecord>('events')) this.setEvent(k, eventRecordOf(v))
    for (const [k, v] of await this.store.entries<EventResponseRecord>('eventResponses')) this.setEventResponse(k, v)
    for (const [k, v] of await this.store.entries<OadrReport[]>('offers')) this.offers.set(k, v)
    for (const [k, v] of await this.store.entries<ReportRequestRecord>('requests')) this.setRequest(k, v)
    for (const [k, v] of await this.store.entries<OptRecord>('opts')) this.opts.set(k, v)
    for (const [k, v] of await this.store.entries<OadrMessage[]>('outbox')) this.outbox.set(k, v)
    // Whether a distribute reached a VEN before the restart is not recorded: sending it again is harmless.
    for (const venID of this.registrations.keys()) if (this.liveEventsFor(venID).length > 0) this.distributePending.add(venID)
  }

  // ---- registrations and authorisation ----

  /** The venID a certificate fingerprint is bound to, if any. */
  venOfFingerprint (fingerprint: string | undefined): string | undefined {
    if (fingerprint === undefined) return undefined
    for (const [venID, fp] of this.bindings) if (sameFingerprint(fp, fingerprint)) return venID
    for (const reg of this.registrations.values()) if (reg.fingerprint !== undefined && sameFingerprint(reg.fingerprint, fingerprint)) return reg.venID
    return undefined
  }

  /** Throws 463 unless `venID` may be used by a sender with `fingerprint`. */
  authorise (venID: string, fingerprint: string | undefined): void {
    const bound = this.bindings.get(venID) ?? this.registrations.get(venID)?.fingerprint
    if (bound !== undefined && (fingerprint === undefined || !sameFingerprint(bound, fingerprint))) {
      throw new NotRegisteredError(`venID ${venID} does not belong to the sender's certificate`)
    }
  }

  /** The registration of `venID`, or 463. */
  registered (venID: string): VenRegistration {
    const reg = this.registrations.get(venID)
    if (reg === undefined) throw new NotRegisteredError(`venID ${venID} is not registered`)
    return reg
  }

  async putRegistration (reg: VenRegistration): Promise<void> {
    this.registrations.set(reg.venID, reg)
    await this.store.put('registrations', reg.venID, reg)
    if (this.liveEventsFor(reg.venID).length > 0) this.distributePending.add(reg.venID)
  }

  async deleteRegistration (venID: string): Promise<void> {
    this.registrations.delete(venID)
    this.distributePending.delete(venID)
    this.outbox.delete(venID)
    await this.store.del('registrations', venID)
    await this.store.del('outbox', venID)
  }

  async putBinding (venID: string, fingerprint: string): Promise<void> {
    this.bindings.set(venID, fingerprint)
    await this.store.put('bindings', venID, fingerprint)
  }

  async putGroup (groupID: string, venIDs: string[]): Promise<void> {
    this.groups.set(groupID, venIDs)
    await this.store.put('groups', groupID, venIDs)
    for (const venID of venIDs) if (this.registrations.has(venID)) this.distributePending.add(venID)
  }

  // ---- events ----

  isTargeted (record: VtnEventRecord, venID: string): boolean {
    if (record.targets.venIDs?.includes(venID) === true) return true
    return record.targets.groupIDs?.some(g => this.groups.get(g)?.includes(venID) === true) === true
  }

  /** The VENs an event is for. */
  venIDsOf (record: VtnEventRecord): string[] {
    const out = new Set(record.targets.venIDs ?? [])
    for (const g of record.targets.groupIDs ?? []) for (const v of this.groups.get(g) ?? []) out.add(v)
    return [...out]
  }

  /** Events a VEN should hold now: targeted at it and not yet over, in the order they were first stored. */
  liveEventsFor (venID: string): VtnEventRecord[] {
    const now = this.clock.now()
    const out: VtnEventRecord[] = []
    for (const ids of [this.eventsByVen.get(venID), this.groupEvents]) {
      for (const id of ids ?? []) {
        const record = this.events.get(id)
        if (record !== undefined && !out.includes(record) && now < eventEndMs(record.event) && this.isTargeted(record, venID)) out.push(record)
      }
    }
    return out.sort((a, b) => (this.eventOrder.get(a.event.eventDescriptor.eventID) ?? 0) - (this.eventOrder.get(b.event.eventDescriptor.eventID) ?? 0))
  }

  /** The VENs' answers to one event, in the order they first came. */
  responsesOf (eventID: string): EventResponseRecord[] {
    return [...this.responsesByEvent.get(eventID)?.values() ?? []]
  }

  /** A VEN's report requests, in the order they were first stored. */
  requestsOf (venID: string): ReportRequestRecord[] {
    return [...this.requestsByVen.get(venID) ?? []].flatMap(id => this.requests.get(id) ?? [])
  }

  private setEvent (eventID: string, record: VtnEventRecord): void {
    const before = this.events.get(eventID)
    for (const venID of before?.targets.venIDs ?? []) this.eventsByVen.get(venID)?.delete(eventID)
    this.groupEvents.delete(eventID)
    this.events.set(eventID, record)
    if (!this.eventOrder.has(eventID)) this.eventOrder.set(eventID, this.eventOrder.size)
    for (const venID of record.targets.venIDs ?? []) {
      let ids = this.eventsByVen.get(venID)
      if (ids === undefined) this.eventsByVen.set(venID, ids = new Set())
      ids.add(eventID)
    }
    if ((record.targets.groupIDs?.length ?? 0) > 0) this.groupEvents.add(eventID)
  }

  private setEventResponse (key: string, r: EventResponseRecord): void {
    this.eventResponses.set(key, r)
    let byKey = this.responsesByEvent.get(r.eventID)
    if (byKey === undefined) this.responsesByEvent.set(r.eventID, byKey = new Map())
    byKey.set(key, r)
  }

  private setRequest (reportRequestID: string, r: ReportRequestRecord): void {
    this.requests.set(reportRequestID, r)
    let ids = this.requestsByVen.get(r.venID)
    if (ids === undefined) this.requestsByVen.set(r.venID, ids = new Set())
    ids.add(reportRequestID)
  }

  /** The event with its status as of now. */
  withStatus (record: VtnEventRecord): EiEvent {
    const eventStatus = eventStatusAt(record.event, record.cancelled, this.clock.now(), this.nearWindowMs)
    return { ...record.event, eventDescriptor: { ...record.event.eventDescriptor, eventStatus } }
  }

  distributeFor (venID: string, requestID: string): OadrDistributeEvent {
    return {
      type: 'oadrDistributeEvent',
      requestID,
      vtnID: this.vtnID,
      oadrEvents: this.liveEventsFor(venID).map(r => ({ eiEvent: this.withStatus(r), oadrResponseRequired: r.responseRequired }))
    }
  }

  async putEvent (record: VtnEventRecord): Promise<void> {
    this.setEvent(record.event.eventDescriptor.eventID, record)
    await this.store.put('events', record.event.eventDescriptor.eventID, storedEventRecord(record))
    for (const venID of this.venIDsOf(record)) if (this.registrations.has(venID)) this.distributePending.add(venID)
  }

  async putEventResponse (r: EventResponseRecord): Promise<void> {
    const key = r.eventID + sep + r.venID
    this.setEventResponse(key, r)
    await this.store.put('eventResponses', key, r)
  }

  // ---- reports ----

  async putOffers (venID: string, reports: OadrReport[]): Promise<void> {
    const bySpecifier = new Map((this.offers.get(venID) ?? []).map(r => [r.reportSpecifierID, r]))
    for (const r of reports) bySpecifier.set(r.reportSpecifierID, r)
    const all = [...bySpecifier.values()]
    this.offers.set(venID, all)
    await this.store.put('offers', venID, all)
  }

  async putRequest (r: ReportRequestRecord): Promise<void> {
    this.setRequest(r.request.reportRequestID, r)
    await this.store.put('requests', r.request.reportRequestID, r)
  }

  /** Keeps a received report for `readReports`; the caller skips it when `storeReports` is off. */
  async addReport (stored: StoredReport): Promise<void> {
    const key = [stored.venID, stored.report.reportRequestID, String(stored.receivedAtMs).padStart(15, '0'), String(this.reportSeq++).padStart(9, '0')].join(sep)
    await this.store.put('reports', key, stored)
  }

  async readReports (venID: string, reportRequestID?: string): Promise<StoredReport[]> {
    const prefix = venID + sep + (reportRequestID === undefined ? '' : reportRequestID + sep)
    return (await this.store.entries<StoredReport>('reports', prefix)).map(([, v]) => v)
  }

  // ---- opts ----

  async putOpt (r: OptRecord): Promise<void> {
    const key = r.venID + sep + r.opt.optID
    this.opts.set(key, r)
    await this.store.put('opts', key, r)
  }

  async deleteOpt (venID: string, optID: string): Promise<boolean> {
    const key = venID + sep + optID
    if (!this.opts.delete(key)) return false
    await this.store.del('opts', key)
    return true
  }

  // ---- outbox ----

  async enqueue (venID: string, message: OadrMessage): Promise<void> {
    const queue = [...(this.outbox.get(venID) ?? []), message]
    this.outbox.set(venID, queue)
    await this.store.put('outbox', venID, queue)
  }

  /** Whether anything waits for a VEN (`takeNext` would give a message). */
  hasNext (venID: string): boolean {
    return this.distributePending.has(venID) || (this.outbox.get(venID)?.length ?? 0) > 0
  }

  /** The next message for a VEN (a pending distribute first), removed from its queue. */
  async takeNext (venID: string): Promise<OadrMessage | undefined> {
    if (this.distributePending.delete(venID)) return this.distributeFor(venID, this.newId())
    const queue = this.outbox.get(venID)
    if (queue === undefined || queue.length === 0) return undefined
    const [next, ...rest] = queue
    if (rest.length === 0) this.outbox.delete(venID)
    else this.outbox.set(venID, rest)
    await (rest.length === 0 ? this.store.del('outbox', venID) : this.store.put('outbox', venID, rest))
    return next
  }

  /** Puts a message that could not be delivered back at the head of the queue. */
  async requeue (venID: string, message: OadrMessage): Promise<void> {
    if (message.type === 'oadrDistributeEvent') {
      this.distributePending.add(venID)
      return
    }
    const queue = [message, ...(this.outbox.get(venID) ?? [])]
    this.outbox.set(venID, queue)
    await this.store.put('outbox', venID, queue)
  }
}
