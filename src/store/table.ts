/**
 * One typed table of the store: a LevelDB sublevel whose values are JSON of one shape. Reads and single
 * writes go straight to the sublevel; `putOp`/`delOp` build operations for an atomic `Store.batch`.
 */
import type { Store, Sublevel, TableName } from './store.js'

/** One write of an atomic batch. */
export type StoreOp =
  | { type: 'put', table: TableName, key: string, value: unknown }
  | { type: 'del', table: TableName, key: string }

/** Key range, in LevelDB's lexicographic key order. */
export interface RangeOptions {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  /** @default -1 (no limit) */
  limit?: number
  /** @default false */
  reverse?: boolean
}

export class Table<V> {
  constructor (readonly name: TableName, readonly sublevel: Sublevel, private readonly store: Store) {}

  async get (key: string): Promise<V | undefined> {
    return await this.sublevel.get(key) as V | undefined
  }

  async put (key: string, value: V): Promise<void> {
    await this.store.batch([this.putOp(key, value)])
  }

  async del (key: string): Promise<void> {
    await this.store.batch([this.delOp(key)])
  }

  putOp (key: string, value: V): StoreOp {
    return { type: 'put', table: this.name, key, value }
  }

  delOp (key: string): StoreOp {
    return { type: 'del', table: this.name, key }
  }

  /** Entries in key order within `range`. */
  async entries (range: RangeOptions = {}): Promise<Array<[string, V]>> {
    return await this.sublevel.iterator(range).all() as Array<[string, V]>
  }

  async values (range: RangeOptions = {}): Promise<V[]> {
    return await this.sublevel.values(range).all() as V[]
  }

  /** Range covering every key that starts with `prefix`. */
  static prefixRange (prefix: string): RangeOptions {
    return { gte: prefix, lt: prefix + '\uffff' }
  }
}
