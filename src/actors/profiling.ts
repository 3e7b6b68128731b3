/**
 * Per-customer forecast-error profile: exponentially weighted mean and standard deviation of
 * forecast − measured (kW), updated incrementally from each report, with a plain serialisable state. A
 * positive mean means the forecast runs high (the customer draws less than forecast).
 *
 * The update is the exponentially weighted form of Welford's recurrence (West 1979): with weight α,
 * δ = x − μ, μ ← μ + αδ, v ← (1 − α)(v + αδ²). Until 1/α samples have been seen the weight is 1/n
 * instead, so early estimates are plain running means rather than biased towards the zero start.
 */

export interface ErrorProfile {
  /** Exponentially weighted mean of forecast − measured, kW. */
  meanKw: number
  /** Exponentially weighted variance of forecast − measured, kW². */
  varianceKw2: number
  /** Samples seen (intervals with both a forecast and a measurement). */
  samples: number
}

export interface ProfilingInit {
  /** Weight of each new sample once warmed up (an effective memory of about 1/α intervals). @default 0.05 */
  alpha?: number
}

export function emptyProfile (): ErrorProfile {
  return { meanKw: 0, varianceKw2: 0, samples: 0 }
}

/** The profile after the intervals of one report; intervals where either value is NaN are skipped. */
export function updateProfile (profile: ErrorProfile, forecastKw: ArrayLike<number>, measuredKw: ArrayLike<number>,
  init: ProfilingInit = {}): ErrorProfile {
  if (forecastKw.length !== measuredKw.length) {
    throw new RangeError(`${forecastKw.length} forecast intervals for ${measuredKw.length} measured`)
  }
  const alpha = init.alpha ?? 0.05
  let { meanKw, varianceKw2, samples } = profile
  for (let t = 0; t < forecastKw.length; t++) {
    const x = (forecastKw[t] as number) - (measuredKw[t] as number)
    if (Number.isNaN(x)) continue
    samples++
    const w = Math.max(alpha, 1 / samples)
    const delta = x - meanKw
    meanKw += w * delta
    varianceKw2 = (1 - w) * (varianceKw2 + w * delta * delta)
  }
  return { meanKw, varianceKw2, samples }
}

/** Standard deviation of the forecast error, kW. */
export function profileSdKw (profile: ErrorProfile): number {
  return Math.sqrt(profile.varianceKw2)
}
