/**
 * The worker-pool side of the node's "Customer Clustering" and "Model Training" timers: pure functions of
 * structured-clonable inputs (no store, no clock), so workers/tasks.ts can run them off the event loop.
 * Clustering keeps only what a later re-clustering needs (k, centroids, scaling) besides the labels, as plain
 * arrays: the store holds JSON, and an Int32Array would not survive it.
 */
import { clusterCustomers, reclusterCustomers, type ClusterFeatures, type Clustering, type FeatureScaling } from '../actors/clustering.js'
import { ForecastError, trainForecaster, updateForecaster, type ForecastInit, type ForecastModel, type LoadHistory } from '../actors/forecast.js'
import { seededRandom } from '../util/random.js'

/** The stored result of a clustering run. */
export interface ClusterState {
  k: number
  centroids: number[][]
  scaling: FeatureScaling
  /** venId → cluster index. */
  clusterOf: Record<string, number>
  silhouette: number
  /** Clock time of the run. */
  atMs: number
}

export interface ClusterTaskInput {
  customers: ClusterFeatures[]
  /** Re-cluster from these centroids; absent, k-means++ from scratch. */
  previous?: Pick<ClusterState, 'k' | 'centroids' | 'scaling'>
  k: number
  seed: number
  atMs: number
}

export function clusterTask (input: ClusterTaskInput): ClusterState {
  const random = seededRandom(input.seed)
  const previous = input.previous
  // A previous run with other feature dimensions (or more clusters than customers now) cannot seed this one.
  const compatible = previous !== undefined && previous.k <= input.customers.length && previous.k === input.k
  const result: Clustering = compatible
    ? reclusterCustomers(input.customers, { ...previous, customerIds: [], assignment: new Int32Array(0), sizes: [], inertia: 0, iterations: 0, silhouette: 0, silhouetteSampled: false }, random)
    : clusterCustomers(input.customers, random, { k: input.k })
  const clusterOf: Record<string, number> = {}
  result.customerIds.forEach((id, i) => { clusterOf[id] = result.assignment[i] as number })
  return { k: result.k, centroids: result.centroids, scaling: result.scaling, clusterOf, silhouette: result.silhouette, atMs: input.atMs }
}

export interface TrainJob {
  venId: string
  /** Continue this model with the history after its `nextMs`; absent, train from scratch. */
  model?: ForecastModel
  history: LoadHistory
}

export interface TrainTaskInput { jobs: TrainJob[], init: ForecastInit }

/** venId → the trained model, or why there is none yet (e.g. less than one season of history). */
export type TrainTaskOutput = Record<string, ForecastModel | { error: string }>

export function trainTask (input: TrainTaskInput): TrainTaskOutput {
  const out: TrainTaskOutput = {}
  for (const job of input.jobs) {
    try {
      out[job.venId] = job.model === undefined ? trainForecaster(job.history, input.init) : updateForecaster(job.model, job.history, input.init)
    } catch (err) {
      if (!(err instanceof ForecastError)) throw err
      out[job.venId] = { error: err.message }
    }
  }
  return out
}
