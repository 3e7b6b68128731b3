/**
 * How the VTN stores an event: the record as it is, except that a signal's (or the baseline's) intervals in
 * the shape a host dispatch gives them (no own start, a duration, the interval's index as its uid, one value)
 * are stored as columns: the durations (one number when all are the same) and the values, a number series
 * that the store's encoding packs (src/store/packedJson.ts). A node that dispatches its customers rewrites
 * an eiEvent with 96 intervals at every change of a customer's setpoints: stored as objects, 6.8 KB of JSON,
 * each interval ~55 bytes.
 *
 * Unpacking gives exactly what the record stored as JSON would read as; a record stored as JSON before (no
 * columns) reads as it was.
 */
import type { EventBaseline, EventSignal, SignalInterval } from '../model/event.js'
import type { VtnEventRecord } from './types.js'

/** Intervals stored as columns: interval k is `{ durationMs: durationMs[k] (or durationMs), uid: String(k), values: [values[k]] }`. */
export interface IntervalColumns {
  durationMs: number | number[]
  values: number[]
}

type Columned<T extends { intervals: SignalInterval[] }> = Omit<T, 'intervals'> & ({ intervals: SignalInterval[] } | { intervalColumns: IntervalColumns })

/** The record in the shape the VTN's `events` table holds it. */
export interface StoredEventRecord extends Omit<VtnEventRecord, 'event'> {
  event: Omit<VtnEventRecord['event'], 'eiEventSignals' | 'eiEventBaseline'> & {
    eiEventSignals: Array<Columned<EventSignal>>
    eiEventBaseline?: Columned<EventBaseline>
  }
}

export function storedEventRecord (record: VtnEventRecord): StoredEventRecord {
  return { ...record, event: withSeries(record.event, columned) as unknown as StoredEventRecord['event'] }
}

export function eventRecordOf (stored: StoredEventRecord): VtnEventRecord {
  return { ...stored, event: withSeries(stored.event, expanded) as unknown as VtnEventRecord['event'] }
}

/** A copy of the event with `f` applied to each signal and the baseline, every field in its place. */
function withSeries (event: object, f: (s: never) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(event)) {
    if (k === 'eiEventSignals') out[k] = (v as never[]).map(f)
    else if (k === 'eiEventBaseline' && v !== undefined) out[k] = f(v as never)
    else out[k] = v
  }
  return out
}

function columned<T extends { intervals: SignalInterval[] }> (signal: T): Columned<T> {
  const columns = columnsOf(signal.intervals)
  return columns === undefined ? signal : renamed(signal, 'intervals', 'intervalColumns', columns) as Columned<T>
}

function expanded<T extends { intervals: SignalInterval[] }> (stored: Columned<T>): T {
  if (!('intervalColumns' in stored)) return stored as T
  const { durationMs, values } = stored.intervalColumns
  const intervals: SignalInterval[] = values.map((v, k) => ({ durationMs: typeof durationMs === 'number' ? durationMs : durationMs[k] as number, uid: String(k), values: [v] }))
  return renamed(stored, 'intervalColumns', 'intervals', intervals) as T
}

/** A copy of `o` with its field `from` replaced by `to: value`, in the same place among its fields (JSON writes them in that order). */
function renamed (o: object, from: string, to: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (k === from) out[to] = value
    else out[k] = v
  }
  return out
}

/** The columns of intervals in the dispatch shape, in the order JSON writes their fields; undefined for any other shape. */
function columnsOf (intervals: SignalInterval[]): IntervalColumns | undefined {
  if (intervals.length === 0) return undefined
  const durations = new Array<number>(intervals.length)
  const values = new Array<number>(intervals.length)
  for (let k = 0; k < intervals.length; k++) {
    const i = intervals[k] as SignalInterval
    // Only the three fields, written in this order (what JSON would give back is then the same object).
    const keys = Object.keys(i)
    if (keys.length !== 3 || keys[0] !== 'durationMs' || keys[1] !== 'uid' || keys[2] !== 'values') return undefined
    if (i.uid !== String(k) || typeof i.durationMs !== 'number' || !Number.isFinite(i.durationMs)) return undefined
    if (!Array.isArray(i.values) || i.values.length !== 1 || typeof i.values[0] !== 'number') return undefined
    // + 0 turns -0 into 0, as JSON would write it (the store's encoding leaves a series holding -0 as JSON text).
    durations[k] = i.durationMs + 0
    values[k] = i.values[0] + 0
  }
  const first = durations[0] as number
  return { durationMs: durations.every(d => d === first) ? first : durations, values }
}
