/**
 * Reconnect and resend delays: exponential with full jitter, so many VENs dropped by one server restart do
 * not all come back in the same instant. The jitter draws from an injected `Random`.
 */
import type { Random } from '../util/random.js'

export interface BackoffInit {
  /**
   * Delay ceiling of the first retry, ms.
   * @default 250
   */
  initialDelayMs?: number
  /**
   * Largest delay, ms.
   * @default 30_000
   */
  maxDelayMs?: number
  /**
   * Growth of the ceiling per attempt.
   * @default 2
   */
  factor?: number
}

/** Delay before retry number `attempt` (0-based): uniform in [ceiling/2, ceiling]. */
export function backoffDelayMs (attempt: number, random: Random, init: BackoffInit = {}): number {
  const initial = init.initialDelayMs ?? 250
  const max = init.maxDelayMs ?? 30_000
  const ceiling = Math.min(max, initial * Math.pow(init.factor ?? 2, Math.max(0, attempt)))
  return ceiling / 2 + random.next() * ceiling / 2
}
