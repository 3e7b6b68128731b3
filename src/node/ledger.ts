/**
 * The reservation ledger: flexibility committed to a DR event, or promised to a fellow node, is reserved
 * per customer and per interval, and is not offered or dispatched again until released. `available()` is
 * the customer's capability minus what overlapping reservations hold, so what the node advertises to its
 * peers and what the dispatch may use both shrink as commitments are made.
 *
 * A reservation is held by a `holder` (by convention `event:<eventId>` or `promise:<requestId>`) on one
 * customer over a window of equal intervals (absolute start, kW up and down per interval). A peer promise
 * reserves on the customers that will deliver it. Reservations live in the store (table `reservations`,
 * a dispatch's kW up and down as one series: storedReservation.ts) and are released on completion or
 * cancellation, or lapse at `expiresAtMs` (an offer a peer never took).
 * `reserve()` is all-or-nothing and serialised with every other change, so two overlapping events can
 * never both take the same kW.
 */
import { pino, type Logger } from 'pino'
import type { Clock } from '../util/clock.js'
import type { Store, StoreOp, Table } from '../store/index.js'
import { reservationOf, storedReservation, type StoredReservation } from './storedReservation.js'

export interface LedgerWindow {
  /** Start of the first interval, epoch ms. */
  startMs: number
  intervalMs: number
  intervals: number
}

/** kW per interval of a window; both directions ≥ 0 (docs/design.md). */
export interface FlexProfile {
  flexUpKw: number[]
  flexDownKw: number[]
}

/** What `available` answers: shared with later calls while nothing it depends on changes, so read only. */
export interface FreeProfile {
  readonly flexUpKw: readonly number[]
  readonly flexDownKw: readonly number[]
}

/**
 * What the customer could do over the window with nothing reserved; undefined for an unknown customer. The
 * ledger takes the same object (by identity) for the same answer: a provider that changes what it gives must
 * give a new object.
 */
export type CapabilityProvider = (customerId: string, window: LedgerWindow) =>
  FlexProfile | undefined | Promise<FlexProfile | undefined>

export interface ReservationRequest {
  customerId: string
  window: LedgerWindow
  upKw: number[]
  downKw: number[]
}

export interface Reservation extends ReservationRequest {
  /** `<holder>\0<customerId>\0<startMs>`: a holder re-reserving the same customer and start replaces it. */
  id: string
  holder: string
  createdAtMs: number
  expiresAtMs?: number
}

export interface ReserveOptions {
  /** The reservations lapse at this clock time unless confirmed by reserving again without it. */
  expiresAtMs?: number
  /**
   * Release the holder's other reservations in the same batch (a re-dispatch): the kW they held count as
   * available to the new requests, and no other holder can take them in between.
   * @default false
   */
  replace?: boolean
  /**
   * Reserve what is free where less than asked is, instead of refusing: a recovery during an event moves
   * customers whose forecasts have shrunk since the plan; the ledger must still keep others off those kW.
   * @default false
   */
  clamp?: boolean
  /** Store operations committed in the same batch. */
  also?: StoreOp[]
}

export interface LedgerComponents {
  store: Store
  clock: Clock
  capabilities: CapabilityProvider
  /** @default a silent pino logger */
  logger?: Logger
}

export class LedgerError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'LedgerError'
  }
}

export class InsufficientFlexibilityError extends Error {
  constructor (readonly customerId: string, readonly interval: number, readonly direction: 'up' | 'down',
    readonly askedKw: number, readonly availableKw: number) {
    super(`customer ${customerId}, interval ${interval}: asked ${askedKw} kW ${direction}, ${availableKw} kW available`)
    this.name = 'InsufficientFlexibilityError'
  }
}

/** kW below which an excess is rounding, not a double booking. */
const toleranceKw = 1e-9

export class ReservationLedger {
  private readonly store: Store
  private readonly clock: Clock
  private readonly capabilities: CapabilityProvider
  private readonly log: Logger
  private readonly byCustomer = new Map<string, Map<string, Reservation>>()
  /**
   * What `available` last answered per customer. Intra matchmaking asks it for every customer at every
   * checkpoint, while a customer's reservations change only when it is moved and its capability once per
   * forecast. Dropped on any change of the customer's reservations; kept while the capability answer is the
   * same object, the window the same, and the clock between when it was computed and when the first
   * reservation it counts lapses.
   */
  private readonly lastAvailable = new Map<string, { capability: FlexProfile | undefined, window: LedgerWindow, computedAtMs: number, lapsesAtMs: number, free: FreeProfile }>()
  private queue: Promise<unknown> = Promise.resolve()

  constructor (components: LedgerComponents) {
    this.store = components.store
    this.clock = components.clock
    this.capabilities = components.capabilities
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  private get table (): Table<StoredReservation> { return this.store.table<StoredReservation>('reservations') }

  /** Loads the stored reservations, dropping lapsed ones. */
  async start (): Promise<void> {
    const lapsed: StoreOp[] = []
    for (const stored of await this.table.values()) {
      const r = reservationOf(stored)
      if (this.lapsed(r)) lapsed.push(this.table.delOp(r.id))
      else this.index(r)
    }
    await this.store.batch(lapsed)
    this.log.info({ reservations: this.all().length, lapsed: lapsed.length }, 'ledger started')
  }

  /** Waits for changes in flight. */
  async stop (): Promise<void> {
    await this.queue.catch(() => {})
  }

  /** kW the customer has reserved per interval of `window` (the peak within each interval). */
  reserved (customerId: string, window: LedgerWindow, ignore: (r: Reservation) => boolean = () => false): FlexProfile {
    const held = [...(this.byCustomer.get(customerId)?.values() ?? [])]
      .filter(r => !ignore(r) && !this.lapsed(r))
    return profileOf(held, window)
  }

  /** Capability minus reservations, per interval, never below 0 (all 0 for an unknown customer). */
  async available (customerId: string, window: LedgerWindow): Promise<FreeProfile> {
    const capability = await this.capabilities(customerId, window)
    const now = this.clock.now()
    const known = this.lastAvailable.get(customerId)
    if (known !== undefined && known.capability === capability && known.computedAtMs <= now && now < known.lapsesAtMs &&
      known.window.startMs === window.startMs && known.window.intervalMs === window.intervalMs && known.window.intervals === window.intervals) return known.free
    const free = this.freeOf(customerId, window, capability)
    let lapsesAtMs = Infinity
    for (const r of this.byCustomer.get(customerId)?.values() ?? []) {
      if (r.expiresAtMs !== undefined && r.expiresAtMs > now) lapsesAtMs = Math.min(lapsesAtMs, r.expiresAtMs)
    }
    this.lastAvailable.set(customerId, { capability, window: { ...window }, computedAtMs: now, lapsesAtMs, free })
    return free
  }

  /** Sum of `available` over customers: what the node can still offer. */
  async availableTotal (customerIds: string[], window: LedgerWindow): Promise<FlexProfile> {
    const total: FlexProfile = { flexUpKw: new Array<number>(window.intervals).fill(0), flexDownKw: new Array<number>(window.intervals).fill(0) }
    for (const id of customerIds) {
      const one = await this.available(id, window)
      for (let t = 0; t < window.intervals; t++) {
        total.flexUpKw[t] = (total.flexUpKw[t] ?? 0) + (one.flexUpKw[t] ?? 0)
        total.flexDownKw[t] = (total.flexDownKw[t] ?? 0) + (one.flexDownKw[t] ?? 0)
      }
    }
    return total
  }

  /**
   * Reserves every request for `holder`, or none: throws InsufficientFlexibilityError naming the first
   * customer and interval short of flexibility. A holder's earlier reservation with the same id is
   * replaced (its kW count as available to it); with `replace`, all its earlier reservations are.
   */
  async reserve (holder: string, requests: ReservationRequest[], options: ReserveOptions = {}): Promise<Reservation[]> {
    return await this.serialised(async () => {
      const made = requests.map(request => this.toReservation(holder, request, options.expiresAtMs))
      const replace = options.replace ?? false
      const superseded = replace ? this.byHolder(holder).filter(old => !made.some(r => r.id === old.id)) : []
      const pending = new Map<string, Reservation[]>()
      for (const r of made) {
        const ahead = pending.get(r.customerId) ?? []
        const ignore = (held: Reservation): boolean => held.id === r.id || (replace && held.holder === holder)
        const available = await this.availableExcept(r.customerId, r.window, ignore, ahead)
        for (let t = 0; t < r.window.intervals; t++) {
          const up = r.upKw[t] ?? 0
          const down = r.downKw[t] ?? 0
          const upFree = available.flexUpKw[t] ?? 0
          const downFree = available.flexDownKw[t] ?? 0
          if (options.clamp === true) {
            r.upKw[t] = Math.max(0, Math.min(up, upFree))
            r.downKw[t] = Math.max(0, Math.min(down, downFree))
            continue
          }
          if (up > upFree + toleranceKw) throw new InsufficientFlexibilityError(r.customerId, t, 'up', up, upFree)
          if (down > downFree + toleranceKw) throw new InsufficientFlexibilityError(r.customerId, t, 'down', down, downFree)
        }
        pending.set(r.customerId, [...ahead, r])
      }
      await this.store.batch([...superseded.map(r => this.table.delOp(r.id)), ...made.map(r => this.table.putOp(r.id, storedReservation(r))),
        ...(options.also ?? [])])
      for (const r of superseded) this.unindex(r)
      for (const r of made) this.index(r)
      this.log.debug({ holder, reservations: made.length }, 'reserved')
      return made
    })
  }

  /** Releases the holder's reservations (all, or only those on `customerIds`); resolves to how many. */
  async release (holder: string, customerIds?: string[], also: StoreOp[] = []): Promise<number> {
    return await this.serialised(async () => {
      const gone = this.byHolder(holder).filter(r => customerIds === undefined || customerIds.includes(r.customerId))
      await this.store.batch([...gone.map(r => this.table.delOp(r.id)), ...also])
      for (const r of gone) this.unindex(r)
      this.log.debug({ holder, released: gone.length }, 'released')
      return gone.length
    })
  }

  /** The holder's reservation of the customer for the window starting at `startMs`, by its id (no scan). */
  heldBy (holder: string, customerId: string, startMs: number): Reservation | undefined {
    return this.byCustomer.get(customerId)?.get(`${holder}\0${customerId}\0${startMs}`)
  }

  byHolder (holder: string): Reservation[] {
    return this.all().filter(r => r.holder === holder)
  }

  all (): Reservation[] {
    return [...this.byCustomer.values()].flatMap(m => [...m.values()])
  }

  private async availableExcept (customerId: string, window: LedgerWindow, ignore?: (r: Reservation) => boolean,
    alsoHeld: Reservation[] = []): Promise<FlexProfile> {
    return this.freeOf(customerId, window, await this.capabilities(customerId, window), ignore, alsoHeld)
  }

  private freeOf (customerId: string, window: LedgerWindow, capability: FlexProfile | undefined, ignore?: (r: Reservation) => boolean,
    alsoHeld: Reservation[] = []): FlexProfile {
    // Most customers hold nothing: no profile of zeros to subtract.
    const held = (this.byCustomer.get(customerId)?.size ?? 0) === 0 ? undefined : this.reserved(customerId, window, ignore)
    const extra = alsoHeld.length === 0 ? undefined : profileOf(alsoHeld, window)
    const free = (cap: number[] | undefined, res: number[] | undefined, more: number[] | undefined): number[] => {
      const out: number[] = []
      for (let t = 0; t < window.intervals; t++) out.push(Math.max(0, (cap?.[t] ?? 0) - (res?.[t] ?? 0) - (more?.[t] ?? 0)))
      return out
    }
    return {
      flexUpKw: free(capability?.flexUpKw, held?.flexUpKw, extra?.flexUpKw),
      flexDownKw: free(capability?.flexDownKw, held?.flexDownKw, extra?.flexDownKw)
    }
  }

  private toReservation (holder: string, request: ReservationRequest, expiresAtMs: number | undefined): Reservation {
    const { customerId, window, upKw, downKw } = request
    if (holder === '' || customerId === '') throw new LedgerError('holder and customerId must not be empty')
    if (!Number.isFinite(window.startMs) || !(window.intervalMs > 0) || !Number.isInteger(window.intervals) || window.intervals < 1) {
      throw new LedgerError(`customer ${customerId}: invalid window ${JSON.stringify(window)}`)
    }
    if (upKw.length !== window.intervals || downKw.length !== window.intervals) {
      throw new LedgerError(`customer ${customerId}: upKw and downKw need ${window.intervals} values`)
    }
    if ([...upKw, ...downKw].some(kw => !Number.isFinite(kw) || kw < 0)) {
      throw new LedgerError(`customer ${customerId}: reserved kW must be finite and ≥ 0`)
    }
    const r: Reservation = {
      id: `${holder}\0${customerId}\0${window.startMs}`,
      holder,
      customerId,
      window: { ...window },
      upKw: [...upKw],
      downKw: [...downKw],
      createdAtMs: this.clock.now()
    }
    if (expiresAtMs !== undefined) r.expiresAtMs = expiresAtMs
    return r
  }

  private index (r: Reservation): void {
    const held = this.byCustomer.get(r.customerId) ?? new Map<string, Reservation>()
    held.set(r.id, r)
    this.byCustomer.set(r.customerId, held)
    this.lastAvailable.delete(r.customerId)
  }

  private unindex (r: Reservation): void {
    this.byCustomer.get(r.customerId)?.delete(r.id)
    this.lastAvailable.delete(r.customerId)
  }

  private lapsed (r: Reservation): boolean {
    return r.expiresAtMs !== undefined && r.expiresAtMs <= this.clock.now()
  }

  private async serialised<T> (work: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => {}).then(work)
    this.queue = run
    return await run
  }
}

function profileOf (held: Reservation[], window: LedgerWindow): FlexProfile {
  if (held.length === 0) return { flexUpKw: new Array<number>(window.intervals).fill(0), flexDownKw: new Array<number>(window.intervals).fill(0) }
  const flexUpKw: number[] = []
  const flexDownKw: number[] = []
  // Reservations on the window's own grid (an event's, asked about for that event) overlap whole intervals:
  // the peak of each interval is the sum of what they hold in it, in the order peakKw would add them.
  if (held.every(r => r.window.intervalMs === window.intervalMs && (window.startMs - r.window.startMs) % window.intervalMs === 0)) {
    for (let t = 0; t < window.intervals; t++) {
      let up = 0
      let down = 0
      for (const r of held) {
        const k = (window.startMs - r.window.startMs) / window.intervalMs + t
        if (k < 0 || k >= r.window.intervals) continue
        const u = r.upKw[k] ?? 0
        const d = r.downKw[k] ?? 0
        if (u > 0) up += u
        if (d > 0) down += d
      }
      flexUpKw.push(up)
      flexDownKw.push(down)
    }
    return { flexUpKw, flexDownKw }
  }
  for (let t = 0; t < window.intervals; t++) {
    const from = window.startMs + t * window.intervalMs
    flexUpKw.push(peakKw(held, from, from + window.intervalMs, r => r.upKw))
    flexDownKw.push(peakKw(held, from, from + window.intervalMs, r => r.downKw))
  }
  return { flexUpKw, flexDownKw }
}

/**
 * The highest total kW the reservations hold at any instant of [fromMs, toMs): reservations on other
 * interval grids overlap partly, and the customer must honour all of them at once.
 */
function peakKw (held: Reservation[], fromMs: number, toMs: number, kw: (r: Reservation) => number[]): number {
  const pieces: Array<{ from: number, to: number, kw: number }> = []
  for (const r of held) {
    const first = Math.max(0, Math.floor((fromMs - r.window.startMs) / r.window.intervalMs))
    for (let k = first; k < r.window.intervals; k++) {
      const from = r.window.startMs + k * r.window.intervalMs
      if (from >= toMs) break
      const to = from + r.window.intervalMs
      const value = kw(r)[k] ?? 0
      if (to > fromMs && value > 0) pieces.push({ from: Math.max(from, fromMs), to: Math.min(to, toMs), kw: value })
    }
  }
  // Most customers hold nothing, or one reservation on the window's own grid: one piece or none.
  if (pieces.length <= 1) return pieces[0]?.kw ?? 0
  let peak = 0
  for (const at of new Set(pieces.map(p => p.from))) {
    let sum = 0
    for (const p of pieces) if (p.from <= at && at < p.to) sum += p.kw
    peak = Math.max(peak, sum)
  }
  return peak
}
