/**
 * Injectable time. Everything that reads the time takes a `Clock`, so a 4-hour event can run in seconds
 * (a `ScaledClock`), step by step in a test (a `ManualClock`) or as fast as the work allows (the simulator's
 * `VirtualClock`, which runs the timers itself). Clock-driven timers are armed with `timerAt`; network
 * timeouts stay in real time.
 */
export interface Clock {
  /** Current simulated time, epoch ms. */
  now: () => number
  /** Simulated ms per real ms (1 in deployment). Real delays are simulated delays divided by this. */
  readonly timeScale: number
  /**
   * Present on a clock that runs its own timers (a virtual clock): `fn` runs when the clock reaches `dueMs`
   * (at once when it is already past). Use `timerAt`, which falls back to a real timer without it.
   */
  setTimer?: (dueMs: number, fn: TimerCallback) => TimerHandle
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

/** A pending clock timer; cancelling one that already fired does nothing. */
export interface TimerHandle {
  cancel: () => void
}

/** What a clock timer runs: it may return the promise of the work it starts, so a virtual clock can wait for it. */
export type TimerCallback = () => void | Promise<unknown>

export interface TimerOptions {
  /**
   * A real timer does not keep the process alive (Node's `unref`). A clock that runs its own timers ignores it.
   * @default false
   */
  unref?: boolean
}

/** setTimeout takes at most 2^31 - 1 ms; a longer wait is re-armed when this one ends. */
const maxTimeoutMs = 2 ** 31 - 1

/**
 * Runs `fn` once the clock shows `dueMs`: through the clock when it runs its own timers (a virtual clock),
 * else on a real `setTimeout` of `realDelayMs`. Every clock-driven timer goes through here, so the
 * simulator can move time itself; network timeouts stay real `setTimeout`s.
 */
export function timerAt (clock: Clock, dueMs: number, fn: TimerCallback, options: TimerOptions = {}): TimerHandle {
  if (clock.setTimer !== undefined) return clock.setTimer(dueMs, fn)
  let timer: NodeJS.Timeout | undefined
  const arm = (): void => {
    const delay = realDelayMs(clock, dueMs)
    timer = delay > maxTimeoutMs ? setTimeout(arm, maxTimeoutMs) : setTimeout(() => { timer = undefined; void fn() }, delay)
    if (options.unref === true) timer.unref()
  }
  arm()
  return { cancel: () => { if (timer !== undefined) clearTimeout(timer); timer = undefined } }
}
