/**
 * The simulation's clock: scaled like `ScaledClock`, but it can be held still. The simulator starts it
 * paused while the nodes start and their customers' VENs register, so a slow setup (100,000 customers)
 * takes no simulated time; it runs from then on, since the VENs' report and poll timers are set on it.
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
