/**
 * The paper's "Customer Clustering" and "Model Training" timers, and what they leave behind: two recurring
 * timers of the durable scheduler (kinds `cluster-customers`, `train-forecasters`) that run the clustering
 * and per-customer forecaster training of src/actors on the worker pool, and store their results (table
 * `meta`, keys `models:clusters` and `models:forecaster:<venId>`) in the batch that moves the timer on, so a crash keeps both
 * or neither. Dispatch reads the cluster of each customer (`clusterOf`) and, where a customer's reported
 * forecast does not reach an event's window, the trained baseline (`baselineFor`).
 */
import { pino, type Logger } from 'pino'
import type { ClusterFeatures } from '../actors/clustering.js'
import { forecastBaseline, type ForecastModel, type LoadHistory } from '../actors/forecast.js'
import type { Store, StoreOp, Table } from '../store/index.js'
import type { Clock } from '../util/clock.js'
import type { CustomerBook, CustomerRecord, Reading } from './agentCustomers.js'
import type { LedgerWindow } from './ledger.js'
import { clusterTask, trainTask, type ClusterState, type ClusterTaskInput, type TrainJob, type TrainTaskInput, type TrainTaskOutput } from './modelTasks.js'
import type { Scheduler, TimerFire } from './scheduler.js'
import type { WorkerPool } from './workerPool.js'

export interface CustomerModelsInit {
  /** Clock ms between two clustering runs. @default 21_600_000 (6 h) */
  clusterEveryMs?: number
  /** Clock ms between two forecaster training runs. @default 86_400_000 (24 h) */
  trainEveryMs?: number
  /** Clusters at most (capped at the number of customers). @default 8 */
  clusterK?: number
  /** Interval the readings are averaged over for training, and of the trained baseline. @default 900_000 (15 min) */
  forecastIntervalMs?: number
  /** Season of the forecaster (a multiple of forecastIntervalMs); a customer trains once it has this much history. @default one week */
  forecastSeasonMs?: number
  /** Seed of the clustering's k-means++ (each run adds its due time). @default 1 */
  seed?: number
}

export interface CustomerModelsComponents {
  store: Store
  clock: Clock
  book: CustomerBook
  scheduler: Scheduler
  /** Runs tasks `cluster` and `train` off the event loop. @default in this thread */
  pool?: WorkerPool
  logger?: Logger
}

type ModelValue = ClusterState | ForecastModel

const clusterTimer = 'models:cluster'
const trainTimer = 'models:train'
const clustersKey = 'models:clusters'
const forecasterKey = (venId: string): string => `models:forecaster:${venId}`

export class CustomerModels {
  private readonly clusterEveryMs: number
  private readonly trainEveryMs: number
  private readonly clusterK: number
  private readonly intervalMs: number
  private readonly seasonMs: number
  private readonly seed: number
  private readonly c: CustomerModelsComponents
  private readonly log: Logger
  private clusters: ClusterState | undefined
  private readonly forecasters = new Map<string, ForecastModel>()

  constructor (init: CustomerModelsInit, components: CustomerModelsComponents) {
    this.clusterEveryMs = init.clusterEveryMs ?? 21_600_000
    this.trainEveryMs = init.trainEveryMs ?? 86_400_000
    this.clusterK = init.clusterK ?? 8
    this.intervalMs = init.forecastIntervalMs ?? 900_000
    this.seasonMs = init.forecastSeasonMs ?? 7 * 86_400_000
    this.seed = init.seed ?? 1
    this.c = components
    this.log = components.logger ?? pino({ level: 'silent' })
  }

  private get table (): Table<ModelValue> { return this.c.store.table<ModelValue>('meta') }

  /** Loads the stored results and registers the timer handlers; call before the scheduler starts. */
  async start (): Promise<void> {
    this.clusters = await this.table.get(clustersKey) as ClusterState | undefined
    for (const [key, model] of await this.table.entries({ gte: forecasterKey(''), lt: forecasterKey('\uffff') })) {
      this.forecasters.set(key.slice(forecasterKey('').length), model as ForecastModel)
    }
    this.c.scheduler.on('cluster-customers', async fire => await this.runClustering(fire))
    this.c.scheduler.on('train-forecasters', async () => await this.runTraining())
  }

  /** Stores the two recurring timers unless they are already (after a restart they keep their grid). */
  async arm (): Promise<void> {
    const now = this.c.clock.now()
    if (this.c.scheduler.get(clusterTimer) === undefined) {
      await this.c.scheduler.schedule({ id: clusterTimer, kind: 'cluster-customers', dueMs: now + this.clusterEveryMs, everyMs: this.clusterEveryMs })
    }
    if (this.c.scheduler.get(trainTimer) === undefined) {
      await this.c.scheduler.schedule({ id: trainTimer, kind: 'train-forecasters', dueMs: now + this.trainEveryMs, everyMs: this.trainEveryMs })
    }
  }

  clusterOf (venId: string): number | undefined { return this.clusters?.clusterOf[venId] }
  clustering (): ClusterState | undefined { return this.clusters }
  forecaster (venId: string): ForecastModel | undefined { return this.forecasters.get(venId) }

  /**
   * The customer's baseline over the window: its reported forecast when that reaches the window's end (or
   * is a single, constant value), else the trained forecaster's, else the reported one as it is.
   */
  baselineFor (c: CustomerRecord, window: LedgerWindow, reported: number[]): number[] {
    const caps = c.capabilities
    if (caps === null) return reported
    const reportedEndMs = caps.forecastStartMs + caps.baselineKw.length * caps.forecastIntervalMs
    const fresh = caps.baselineKw.length === 1 || reportedEndMs >= window.startMs + window.intervals * window.intervalMs
    const model = this.forecasters.get(c.venId)
    if (fresh || model === undefined) return reported
    return Array.from({ length: window.intervals }, (_, t) => forecastBaseline(model, window.startMs + t * window.intervalMs, 1)[0] ?? 0)
  }

  /** One clustering run now, outside the timer (the JSON API and tests). */
  async clusterNow (): Promise<ClusterState | undefined> {
    const ops = await this.runClustering({ dueMs: this.c.clock.now() })
    await this.c.store.batch(ops)
    return this.clusters
  }

  /** One training run now, outside the timer. */
  async trainNow (): Promise<number> {
    const ops = await this.runTraining()
    await this.c.store.batch(ops)
    return ops.length
  }

  private async runClustering (fire: Pick<TimerFire, 'dueMs'>): Promise<StoreOp[]> {
    const customers = this.c.book.all().filter(c => c.capabilities !== null).map(features)
    if (customers.length === 0) return []
    const previous = this.clusters
    const input: ClusterTaskInput = {
      customers,
      k: Math.min(this.clusterK, customers.length),
      seed: (this.seed + fire.dueMs) % 2 ** 32,
      atMs: this.c.clock.now(),
      ...(previous === undefined ? {} : { previous: { k: previous.k, centroids: previous.centroids, scaling: previous.scaling } })
    }
    const result = this.c.pool === undefined ? clusterTask(input) : await this.c.pool.run<ClusterState>('cluster', input)
    this.clusters = result
    this.log.info({ customers: customers.length, k: result.k, silhouette: result.silhouette }, 'customers clustered')
    return [this.table.putOp(clustersKey, result)]
  }

  private async runTraining (): Promise<StoreOp[]> {
    const jobs: TrainJob[] = []
    for (const c of this.c.book.all()) {
      const model = this.forecasters.get(c.venId)
      const fromMs = model?.nextMs ?? 0
      // Up to the interval in progress, which is not complete yet.
      const toMs = Math.floor(this.c.clock.now() / this.intervalMs) * this.intervalMs
      const history = binned(await this.c.book.history(c.venId, fromMs, toMs), this.intervalMs, fromMs)
      if (history === undefined) continue
      jobs.push({ venId: c.venId, history, ...(model === undefined ? {} : { model }) })
    }
    if (jobs.length === 0) return []
    const input: TrainTaskInput = { jobs, init: { seasonMs: this.seasonMs } }
    const out = this.c.pool === undefined ? trainTask(input) : await this.c.pool.run<TrainTaskOutput>('train', input)
    const ops: StoreOp[] = []
    for (const [venId, result] of Object.entries(out)) {
      if ('error' in result) {
        this.log.debug({ venId, reason: result.error }, 'no forecaster yet')
        continue
      }
      this.forecasters.set(venId, result)
      ops.push(this.table.putOp(forecasterKey(venId), result))
    }
    this.log.info({ trained: ops.length, customers: jobs.length }, 'forecasters trained')
    return ops
  }
}

/** The clustering features of a customer, from what it reported. */
function features (c: CustomerRecord): ClusterFeatures {
  const caps = c.capabilities as NonNullable<CustomerRecord['capabilities']>
  return {
    customerId: c.venId,
    type: caps.pvKw > 0 ? 'prosumer' : 'consumer',
    pvKw: caps.pvKw,
    batteryKwh: caps.batteryKwh,
    flexibleLoadKw: Math.max(0, ...caps.flexDownKw, ...caps.flexUpKw),
    latitude: caps.location?.lat ?? 0,
    longitude: caps.location?.lon ?? 0,
    loadShapeKw: caps.baselineKw
  }
}

/** Readings averaged per interval on the epoch grid (NaN where none), from the interval holding `fromMs`. */
function binned (readings: Reading[], intervalMs: number, fromMs: number): LoadHistory | undefined {
  const first = readings[0]
  const last = readings.at(-1)
  if (first === undefined || last === undefined) return undefined
  const startMs = Math.floor(Math.max(fromMs, first.atMs) / intervalMs) * intervalMs
  const n = Math.floor((last.atMs - startMs) / intervalMs) + 1
  const sum = new Float64Array(n)
  const count = new Uint32Array(n)
  for (const r of readings) {
    const i = Math.floor((r.atMs - startMs) / intervalMs)
    if (i < 0 || i >= n) continue
    sum[i] = (sum[i] as number) + r.kw
    count[i] = (count[i] as number) + 1
  }
  return { startMs, intervalMs, valuesKw: Array.from(sum, (s, i) => (count[i] as number) === 0 ? NaN : s / (count[i] as number)) }
}
