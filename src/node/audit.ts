/**
 * The audit trail of DR events: every transition of every event appended to a per-event, hash-chained log
 * in the store (table `audit`, key `<eventId>\0<seq>`), exported as JSON lines closed by a head signed with
 * the node key (format and verification in `auditChain.ts`). Appends to one event are serialised, so `seq`
 * and `prevHash` never fork; an append can carry other store operations (the actor snapshot it records)
 * committed atomically with it.
 */
import { pino, type Logger } from 'pino'
import type { Clock } from '../util/clock.js'
import { jsonCopy, Table, type Store, type StoreOp } from '../store/index.js'
import { entryHash, genesisHash, signHead, type AuditEntry, type AuditHead } from './auditChain.js'
import type { NodeKey } from './nodeKey.js'

export type { AuditEntry, AuditHead } from './auditChain.js'

export interface AuditRecord {
  /** The statechart event that caused the transition. */
  event: string
  stateBefore: string
  stateAfter: string
  /** Any JSON; values JSON cannot hold (undefined, NaN) are normalised as JSON.stringify does. */
  decision?: unknown
  /** @default clock.now() */
  timeMs?: number
}

export interface AuditTrailComponents {
  store: Store
  clock: Clock
  key: NodeKey
  /** @default a silent pino logger */
  logger?: Logger
}

export class AuditError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'AuditError'
  }
}

const seqDigits = 12

interface Tip { seq: number, hash: string }

export class AuditTrail {
  private readonly store: Store
  private readonly clock: Clock
  private readonly key: NodeKey
  private readonly log: Logger
  /** Last entry per event, and the tail of its append queue. */
  private readonly tips = new Map<string, Promise<Tip>>()

  constructor (components: AuditTrailComponents) {
    this.store = components.store
    this.clock = components.clock
    this.key = components.key
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  private get table (): Table<AuditEntry> { return this.store.table<AuditEntry>('audit') }

  /** Waits for appends in flight. */
  async stop (): Promise<void> {
    await Promise.allSettled(this.tips.values())
    this.tips.clear()
  }

  /** Appends one transition of `eventId`, committing `also` in the same batch. */
  async append (eventId: string, record: AuditRecord, also: StoreOp[] = []): Promise<AuditEntry> {
    if (eventId === '' || eventId.includes('\0')) throw new AuditError(`invalid event id ${JSON.stringify(eventId)}`)
    const previous = this.tips.get(eventId) ?? this.loadTip(eventId)
    let settle: { resolve: (tip: Tip) => void, reject: (err: unknown) => void } | undefined
    const mine = new Promise<Tip>((resolve, reject) => { settle = { resolve, reject } })
    // The next append handles a failure of this one by reloading the tip; this only silences the warning.
    mine.catch(() => {})
    this.tips.set(eventId, mine)
    try {
      // After a failed append the stored tail is the truth.
      const tip = await previous.catch(async () => await this.loadTip(eventId))
      const unhashed = {
        eventId,
        seq: tip.seq + 1,
        timeMs: record.timeMs ?? this.clock.now(),
        event: record.event,
        stateBefore: record.stateBefore,
        stateAfter: record.stateAfter,
        decision: jsonCopy(record.decision ?? null),
        prevHash: tip.hash
      }
      const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) }
      await this.store.batch([this.table.putOp(entryKey(eventId, entry.seq), entry), ...also])
      settle?.resolve({ seq: entry.seq, hash: entry.hash })
      this.log.debug({ eventId, seq: entry.seq, event: entry.event, stateAfter: entry.stateAfter }, 'audit entry')
      return entry
    } catch (err) {
      settle?.reject(err)
      throw err
    }
  }

  async entries (eventId: string): Promise<AuditEntry[]> {
    return await this.table.values(Table.prefixRange(eventId + '\0'))
  }

  /** Event ids that have a trail, in key order. */
  async eventIds (): Promise<string[]> {
    const ids: string[] = []
    for (const key of await this.table.sublevel.keys().all()) {
      const id = key.slice(0, key.indexOf('\0'))
      if (ids[ids.length - 1] !== id) ids.push(id)
    }
    return ids
  }

  /** The event's current head, signed now with the node key. */
  async head (eventId: string): Promise<AuditHead> {
    const tip = await (this.tips.get(eventId) ?? this.loadTip(eventId)).catch(async () => await this.loadTip(eventId))
    return signHead(this.key, eventId, tip.seq, tip.hash, this.clock.now())
  }

  /** The trail as JSON lines: the entries, then the signed head. */
  async export (eventId: string): Promise<string[]> {
    await this.tips.get(eventId)?.catch(() => {})
    const entries = await this.entries(eventId)
    const last = entries[entries.length - 1]
    const head = signHead(this.key, eventId, last?.seq ?? 0, last?.hash ?? genesisHash, this.clock.now())
    return [...entries.map(entry => JSON.stringify(entry)), JSON.stringify(head)]
  }

  private async loadTip (eventId: string): Promise<Tip> {
    const [last] = await this.table.values({ ...Table.prefixRange(eventId + '\0'), reverse: true, limit: 1 })
    return last === undefined ? { seq: 0, hash: genesisHash } : { seq: last.seq, hash: last.hash }
  }
}

function entryKey (eventId: string, seq: number): string {
  return `${eventId}\0${String(seq).padStart(seqDigits, '0')}`
}
