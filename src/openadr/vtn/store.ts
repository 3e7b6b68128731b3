/**
 * The VTN's persistence: registrations, events, event responses, offered reports, report requests, report
 * data, opts, groups, certificate bindings and undelivered messages, each a LevelDB sublevel of JSON values
 * in `<dataDir>`. The VTN keeps its working state in memory and writes through here; `load()` brings it
 * back after a restart. Events are stored with their number series packed (storedEvent.ts, the node's
 * packedJson encoding; events stored as plain JSON before read as they were). Without a data directory nothing is persisted (tests, simulations). The writes
 * asked for in one event-loop turn go to LevelDB as one batch (`GroupCommit`), each acknowledged once written.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { GroupCommit } from '../../store/groupCommit.js'
import { packedJson } from '../../store/packedJson.js'

type Sublevel = AbstractSublevel<Level<string, unknown>, string | Buffer | Uint8Array, string, unknown>
type LevelOp =
  | { type: 'put', key: string, value: unknown, sublevel: Sublevel }
  | { type: 'del', key: string, sublevel: Sublevel }

export const vtnTables = ['registrations', 'events', 'eventResponses', 'offers', 'requests', 'reports', 'opts', 'groups', 'bindings', 'outbox'] as const
export type VtnTable = typeof vtnTables[number]

export interface VtnStore {
  start: () => Promise<void>
  stop: () => Promise<void>
  put: (table: VtnTable, key: string, value: unknown) => Promise<void>
  del: (table: VtnTable, key: string) => Promise<void>
  /** Every entry of a table, in key order (optionally those whose key starts with `prefix`). */
  entries: <V>(table: VtnTable, prefix?: string) => Promise<Array<[string, V]>>
}

export class LevelVtnStore implements VtnStore {
  private db: Level<string, unknown> | undefined
  private readonly subs = new Map<VtnTable, Sublevel>()
  private group: GroupCommit<LevelOp> | undefined

  constructor (private readonly dataDir: string) {}

  async start (): Promise<void> {
    await mkdir(this.dataDir, { recursive: true })
    const db = new Level<string, unknown>(this.dataDir, { valueEncoding: 'json' })
    await db.open()
    this.db = db
    this.group = new GroupCommit<LevelOp>(async ops => {
      if (db.status !== 'open') throw new Error('VTN store is not open')
      await db.batch(ops)
    })
    this.subs.clear()
    for (const t of vtnTables) this.subs.set(t, db.sublevel<string, unknown>(t, { valueEncoding: t === 'events' ? packedJson : 'json' }))
  }

  async stop (): Promise<void> {
    await this.group?.drain()
    await this.db?.close()
    this.db = undefined
  }

  private sub (table: VtnTable): Sublevel {
    const sub = this.db === undefined ? undefined : this.subs.get(table)
    if (sub === undefined) throw new Error('VTN store is not open')
    return sub
  }

  async put (table: VtnTable, key: string, value: unknown): Promise<void> {
    await this.group?.write([{ type: 'put', key, value, sublevel: this.sub(table) }])
  }

  async del (table: VtnTable, key: string): Promise<void> {
    await this.group?.write([{ type: 'del', key, sublevel: this.sub(table) }])
  }

  async entries<V>(table: VtnTable, prefix?: string): Promise<Array<[string, V]>> {
    const range = prefix === undefined ? {} : { gte: prefix, lt: `${prefix}\uffff` }
    return await this.sub(table).iterator(range).all() as Array<[string, V]>
  }
}

/** Keeps nothing beyond the process: the VTN's in-memory state is all there is. */
export class MemoryVtnStore implements VtnStore {
  private readonly tables = new Map<VtnTable, Map<string, unknown>>()
  async start (): Promise<void> {}
  async stop (): Promise<void> {}
  private table (t: VtnTable): Map<string, unknown> {
    let m = this.tables.get(t)
    if (m === undefined) { m = new Map(); this.tables.set(t, m) }
    return m
  }

  async put (table: VtnTable, key: string, value: unknown): Promise<void> { this.table(table).set(key, structuredClone(value)) }
  async del (table: VtnTable, key: string): Promise<void> { this.table(table).delete(key) }
  async entries<V>(table: VtnTable, prefix?: string): Promise<Array<[string, V]>> {
    return [...this.table(table).entries()]
      .filter(([k]) => prefix === undefined || k.startsWith(prefix))
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0) as Array<[string, V]>
  }
}
