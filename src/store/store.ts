/**
 * The node's LevelDB store: one database at `<dataDir>/db` split into typed tables (sublevels with JSON
 * values, long number series packed: packedJson.ts) for actor snapshots, timers, audit entries, ledger
 * reservations, customers, their forecast-error profiles, reports and events.
 * Writes that must land together (a timer marked done with its effect, an audit entry with the snapshot
 * it records) go through `batch()`, which commits operations on several tables atomically.
 *
 * Durability: every write reaches LevelDB's log before its promise resolves, so a killed process
 * (SIGKILL) loses nothing acknowledged; `sync: true` also survives a power loss, at a cost per write.
 * The batches asked for in one event-loop turn are written together (`GroupCommit`).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { Table, type StoreOp } from './table.js'
import { GroupCommit } from './groupCommit.js'
import { WriteBehind, type WriteBehindInit } from './writeBehind.js'
import { packedJson } from './packedJson.js'

export { Table, type StoreOp, type RangeOptions } from './table.js'
export { WriteBehind, type WriteBehindInit } from './writeBehind.js'
export { jsonCopy } from './packedJson.js'

/** The tables of the store, by what they hold. */
export const tableNames = [
  'snapshots', 'timers', 'audit', 'reservations', 'customers', 'profiles', 'reports', 'events', 'meta'
] as const
export type TableName = typeof tableNames[number]

export interface StoreInit {
  /** Directory of the node's data; the database lives in `<dataDir>/db`. */
  dataDir: string
  /**
   * fsync each write: survives a power loss, not only a process crash.
   * @default false
   */
  sync?: boolean
}

export class StoreClosedError extends Error {
  constructor (message = 'the store is not open') {
    super(message)
    this.name = 'StoreClosedError'
  }
}

type Root = Level<string, unknown>
export type Sublevel = AbstractSublevel<Root, string | Buffer | Uint8Array, string, unknown>
type LevelOp =
  | { type: 'put', key: string, value: unknown, sublevel: Sublevel }
  | { type: 'del', key: string, sublevel: Sublevel }

export class Store {
  readonly dataDir: string
  readonly location: string
  private readonly sync: boolean
  private db: Root | undefined
  private tables = new Map<TableName, Table<unknown>>()
  private group: GroupCommit<LevelOp> | undefined
  private readonly writeBehinds: WriteBehind[] = []

  constructor (init: StoreInit) {
    this.dataDir = init.dataDir
    this.location = join(init.dataDir, 'db')
    this.sync = init.sync ?? false
  }

  get isOpen (): boolean { return this.db?.status === 'open' }

  /** Opens (or reopens) the database; a closed LevelDB handle cannot be reopened, so each start makes one. */
  async start (): Promise<void> {
    await mkdir(this.dataDir, { recursive: true })
    const db = new Level<string, unknown>(this.location, { valueEncoding: packedJson })
    await db.open()
    this.db = db
    this.group = new GroupCommit<LevelOp>(async ops => {
      if (db.status !== 'open') throw new StoreClosedError()
      await db.batch(ops, { sync: this.sync })
    })
    this.tables = new Map(tableNames.map(name => [
      name,
      new Table<unknown>(name, db.sublevel<string, unknown>(name, { valueEncoding: packedJson }), this)
    ]))
  }

  async stop (): Promise<void> {
    if (this.isOpen) for (const w of this.writeBehinds) await w.flush()
    await this.group?.drain()
    await this.db?.close()
  }

  /** The typed table `name`; `V` is the JSON shape its values have. Valid until `stop()`. */
  table<V> (name: TableName): Table<V> {
    const table = this.tables.get(name)
    if (table === undefined) throw new StoreClosedError(`the store is not open (table '${name}')`)
    return table as Table<V>
  }

  /** Writes staged in memory and committed in bulk (`WriteBehind`), flushed at the latest when the store stops. Valid across restarts. */
  writeBehind (init: WriteBehindInit = {}): WriteBehind {
    const w = new WriteBehind(this, init)
    this.writeBehinds.push(w)
    return w
  }

  /** Commits every operation or none, across tables. */
  async batch (ops: StoreOp[]): Promise<void> {
    const db = this.db
    if (db === undefined || db.status !== 'open') throw new StoreClosedError()
    if (ops.length === 0) return
    await this.group?.write(ops.map(op => op.type === 'put'
      ? { type: 'put' as const, key: op.key, value: op.value, sublevel: this.sublevelOf(op.table) }
      : { type: 'del' as const, key: op.key, sublevel: this.sublevelOf(op.table) }))
  }

  private sublevelOf (name: TableName): Sublevel {
    return this.table(name).sublevel
  }
}
