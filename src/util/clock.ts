/**
 * Injectable time. Everything that reads the time takes a `Clock`, so a 4-hour event can run in seconds
 * (a `ScaledClock`) or step by step in a test (a `ManualClock`). Network timeouts stay in real time.
 */
export interface Clock {
  /** Current simulated time, epoch ms. */
  now: () => number
  /** Simulated ms per real ms (1 in deployment). Real delays are simulated delays divided by this. */
  readonly timeScale: number
}

export const systemClock: Clock = { now: () => Date.now(), timeScale: 1 }

/** Runs `timeScale` times faster than the wall clock, starting at `originMs`. */
export class ScaledClock implements Clock {
  readonly timeScale: number
  private readonly originMs: number
  private readonly realStartMs: number

  constructor (originMs: number, timeScale: number, private readonly base: Clock = systemClock) {
    if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`)
    this.originMs = originMs
    this.timeScale = timeScale
    this.realStartMs = base.now()
  }

  now (): number {
    return this.originMs + (this.base.now() - this.realStartMs) * this.timeScale
  }
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  readonly timeScale = 1
  constructor (private current: number = 0) {}
  now (): number { return this.current }
  set (ms: number): void { this.current = ms }
  advance (ms: number): void { this.current += ms }
}

/** Real milliseconds to wait until the clock shows `dueMs` (0 when already due). */
export function realDelayMs (clock: Clock, dueMs: number): number {
  return Math.max(0, (dueMs - clock.now()) / clock.timeScale)
}
