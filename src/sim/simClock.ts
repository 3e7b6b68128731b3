/**
 * The simulation's clock: scaled like `ScaledClock`, but it can be held still. Between events the
 * simulator pauses it while the utility registers customers and the nodes plan, so a slow setup (100,000
 * customers) does not eat into the event it prepares; the nodes' timers re-check the clock when they fire,
 * so a pause only delays them.
 */
import { systemClock, type Clock } from '../util/clock.js'

export class SimClock implements Clock {
  readonly timeScale: number
  private originMs: number
  /** Real instant the clock last resumed; null while paused. */
  private resumedAtMs: number | null = null

  /** Starts paused at `originMs`. */
  constructor (originMs: number, timeScale: number, private readonly base: Clock = systemClock) {
    if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`)
    this.originMs = originMs
    this.timeScale = timeScale
  }

  now (): number {
    return this.resumedAtMs === null ? this.originMs : this.originMs + (this.base.now() - this.resumedAtMs) * this.timeScale
  }

  get paused (): boolean { return this.resumedAtMs === null }

  pause (): void {
    if (this.resumedAtMs === null) return
    this.originMs = this.now()
    this.resumedAtMs = null
  }

  resume (): void {
    if (this.resumedAtMs === null) this.resumedAtMs = this.base.now()
  }
}
