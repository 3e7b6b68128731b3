/**
 * Per-customer baseline forecaster: additive Holt–Winters without trend (a level plus one seasonal profile
 * per slot of the season, both exponentially smoothed) over the customer's report history. The season is a
 * week by default, so weekdays and weekends keep their own shapes. Training is `trainForecaster` (what the
 * node's "Model Training" timer calls on the full history) and `updateForecaster` (the same recurrence on
 * newly reported intervals only); the model is plain JSON.
 *
 * Recurrence at a reported x in slot s: L ← α(x − S[s]) + (1 − α)L, then S[s] ← γ(x − L) + (1 − γ)S[s].
 * Initialisation from the first season: L = its mean, S = its deviations from L. A forecast at a time t
 * after the last trained interval is L + S[slot(t)] (no trend: day-ahead horizons are short). Smoothing
 * the seasonal profile over weeks averages out the noise that the seasonal-naive forecast (the same
 * interval one week earlier) copies whole; `forecastSkill` (1 − WAPE) scores either.
 */
import { wape } from './stats.js'

/** Seven days in ms. */
export const WEEK_MS = 7 * 24 * 3_600_000

/** Equally spaced readings; NaN marks a missing interval. */
export interface LoadHistory {
  startMs: number
  intervalMs: number
  valuesKw: ArrayLike<number>
}

export interface ForecastInit {
  /** Level smoothing α. @default 0.05 */
  alpha?: number
  /** Seasonal smoothing γ. @default 0.2 */
  gamma?: number
  /** Season length, a multiple of the interval. @default WEEK_MS */
  seasonMs?: number
}

export interface ForecastModel {
  intervalMs: number
  seasonMs: number
  /** Time of slot 0 of the season. */
  originMs: number
  levelKw: number
  seasonalKw: number[]
  /** Start of the first interval not yet trained on. */
  nextMs: number
  samples: number
}

export class ForecastError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ForecastError'
  }
}

function slotOf (model: ForecastModel, timeMs: number): number {
  const period = model.seasonalKw.length
  const k = Math.round((timeMs - model.originMs) / model.intervalMs)
  return ((k % period) + period) % period
}

function smooth (model: ForecastModel, history: LoadHistory, from: number, init: ForecastInit): ForecastModel {
  const alpha = init.alpha ?? 0.05; const gamma = init.gamma ?? 0.2
  const seasonalKw = [...model.seasonalKw]
  let level = model.levelKw; let samples = model.samples
  for (let i = from; i < history.valuesKw.length; i++) {
    const x = history.valuesKw[i] as number
    if (Number.isNaN(x)) continue
    const s = slotOf(model, history.startMs + i * history.intervalMs)
    level = alpha * (x - (seasonalKw[s] as number)) + (1 - alpha) * level
    seasonalKw[s] = gamma * (x - level) + (1 - gamma) * (seasonalKw[s] as number)
    samples++
  }
  return { ...model, levelKw: level, seasonalKw, samples, nextMs: Math.max(model.nextMs, history.startMs + history.valuesKw.length * history.intervalMs) }
}

/** Fits a model on the whole history (at least one full season). */
export function trainForecaster (history: LoadHistory, init: ForecastInit = {}): ForecastModel {
  const seasonMs = init.seasonMs ?? WEEK_MS
  const period = seasonMs / history.intervalMs
  if (!Number.isInteger(period) || period < 1) throw new ForecastError(`season ${seasonMs} ms is not a multiple of the interval ${history.intervalMs} ms`)
  if (history.valuesKw.length < period) {
    throw new ForecastError(`need at least one season (${period} intervals) of history, got ${history.valuesKw.length}`)
  }
  let sum = 0; let n = 0
  for (let i = 0; i < period; i++) { const x = history.valuesKw[i] as number; if (!Number.isNaN(x)) { sum += x; n++ } }
  if (n === 0) throw new ForecastError('the first season of history has no readings')
  const level = sum / n
  const seasonalKw = Array.from({ length: period }, (_, i) => {
    const x = history.valuesKw[i] as number
    return Number.isNaN(x) ? 0 : x - level
  })
  const model: ForecastModel = {
    intervalMs: history.intervalMs, seasonMs, originMs: history.startMs, levelKw: level, seasonalKw,
    nextMs: history.startMs + period * history.intervalMs, samples: n
  }
  return smooth(model, history, period, init)
}

/** Continues training with intervals reported since; those before `model.nextMs` are skipped. */
export function updateForecaster (model: ForecastModel, recent: LoadHistory, init: ForecastInit = {}): ForecastModel {
  if (recent.intervalMs !== model.intervalMs) throw new ForecastError(`interval ${recent.intervalMs} ms, model has ${model.intervalMs} ms`)
  const from = Math.max(0, Math.ceil((model.nextMs - recent.startMs) / recent.intervalMs))
  return smooth(model, recent, from, init)
}

/** Baseline forecast, kW, for `intervals` intervals from `startMs`. */
export function forecastBaseline (model: ForecastModel, startMs: number, intervals: number): number[] {
  return Array.from({ length: intervals }, (_, i) => model.levelKw + (model.seasonalKw[slotOf(model, startMs + i * model.intervalMs)] as number))
}

/** The seasonal-naive reference: each interval's value `lagMs` earlier (NaN where the history has none). */
export function seasonalNaive (history: LoadHistory, startMs: number, intervals: number, lagMs = WEEK_MS): number[] {
  return Array.from({ length: intervals }, (_, i) => {
    const k = Math.round((startMs + i * history.intervalMs - lagMs - history.startMs) / history.intervalMs)
    return k >= 0 && k < history.valuesKw.length ? history.valuesKw[k] as number : NaN
  })
}

/** 1 − WAPE of a forecast against what was measured. */
export function forecastSkill (actualKw: ArrayLike<number>, forecastKw: ArrayLike<number>): number {
  return 1 - wape(actualKw, forecastKw)
}
