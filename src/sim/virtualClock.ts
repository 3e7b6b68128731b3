/**
 * The simulator's clock: virtual time that moves only when the run moves it, and only once the system has
 * nothing left to do at the current instant. It runs every clock-driven timer of the system itself
 * (`Clock.setTimer`, reached through `timerAt`): a step waits until the system is quiet (every fired
 * callback's promise settled, every busy probe empty, and a few event-loop turns with nothing new, so
 * LevelDB callbacks and loopback TCP get theirs), then jumps to the earliest due timer and fires every
 * timer due at that instant, in arming order. Timers armed through a `phase(n)` view fire after those of
 * lower phases at the same instant, each phase once the one before has settled: that is how the simulator
 * has customers report before their node checks, and nodes take their turn one after another, so that
 * who wins a race does not depend on the machine. So a seeded run does not depend on how loaded the machine
 * is, and runs as fast as the work allows; `maxTimeScale` paces it for a human watching.
 */
import type { Clock, TimerCallback, TimerHandle } from '../util/clock.js'
import { SimulationError } from './failures.js'

export interface VirtualClockInit {
  /** The virtual instant the clock shows first, epoch ms. */
  startMs: number
  /**
   * Never run faster than this many virtual ms per real ms (the demo, whose dashboard a human watches).
   * @default Infinity (as fast as the work allows)
   */
  maxTimeScale?: number
  /**
   * Real ms the system may stay busy at one instant before the step fails with what is still busy.
   * @default 120_000
   */
  stepTimeoutMs?: number
  /**
   * Event-loop turns (setImmediate) with nothing busy that make the system quiet.
   * @default 4
   */
  quietTurns?: number
}

export interface VirtualClockComponents {
  /** Real time, for pacing and the step timeout. @default performance.now */
  realNowMs?: () => number
}

/**
 * Names what is still working at the current instant without needing the clock to move (e.g. an event
 * actor mid-decision); empty when it only waits for the clock.
 */
export type BusyProbe = () => string[]

interface Entry {
  dueMs: number
  phase: number
  seq: number
  fn: TimerCallback
  /** Position in the heap; -1 once out of it. */
  index: number
}

/** Real ms a paced clock may fall behind and still catch up; beyond, it counts again from where it is. */
const catchUpMs = 1_000

/** Turns of the event loop spent spinning before a busy wait backs off to 1 ms sleeps. */
const spinTurns = 64

export class VirtualClock implements Clock {
  readonly timeScale: number
  private current: number
  private readonly stepTimeoutMs: number
  private readonly quietTurns: number
  private readonly realNowMs: () => number
  private readonly heap: Entry[] = []
  /** Timers armed for the current instant or earlier, of a phase already reached: they fire at once, in arming order. */
  private immediate: Entry[] = []
  /**
   * The phase the current instant has reached: -1 when the clock has just moved there (the caller acts
   * first), Infinity before the first move (every timer due now fires at once).
   */
  private phaseNow = Infinity
  private seq = 0
  private readonly probes = new Set<BusyProbe>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private failure: unknown
  /** Pacing anchor: real and virtual instants of the last step on time. */
  private anchor: { realMs: number, virtualMs: number } | undefined

  constructor (init: VirtualClockInit, components: VirtualClockComponents = {}) {
    const max = init.maxTimeScale ?? Infinity
    if (!(max > 0)) throw new RangeError(`maxTimeScale must be > 0, got ${max}`)
    this.timeScale = max
    this.current = init.startMs
    this.stepTimeoutMs = init.stepTimeoutMs ?? 120_000
    this.quietTurns = init.quietTurns ?? 4
    this.realNowMs = components.realNowMs ?? (() => performance.now())
  }

  now (): number { return this.current }

  /** Timers armed and not yet fired or cancelled. */
  get pending (): number { return this.heap.length + this.immediate.filter(e => e.index === 0).length }

  /** Due time of the earliest armed timer. */
  nextDueMs (): number | undefined { return this.heap[0]?.dueMs }

  setTimer (dueMs: number, fn: TimerCallback): TimerHandle {
    return this.arm(dueMs, fn, 0)
  }

  /** This clock, with timers that fire in phase `n` of each instant (after lower phases have settled). */
  phase (n: number): Clock {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`phase must be a non-negative integer, got ${n}`)
    return { now: () => this.current, timeScale: this.timeScale, setTimer: (dueMs, fn) => this.arm(dueMs, fn, n) }
  }

  private arm (dueMs: number, fn: TimerCallback, phase: number): TimerHandle {
    if (!Number.isFinite(dueMs)) throw new RangeError(`timer due time must be finite, got ${dueMs}`)
    const entry: Entry = { dueMs: Math.max(dueMs, this.current), phase, seq: this.seq++, fn, index: -1 }
    // Due now in a phase not reached yet: it waits for its phase's turn at this instant.
    if (dueMs <= this.current && phase <= this.phaseNow) {
      // Index 0 marks it armed; cancelling sets -1, and the queue skips it.
      entry.index = 0
      this.immediate.push(entry)
      // Fires on its own, as a real timer of 0 ms would, even while nobody moves the clock.
      if (this.immediate.length === 1) setImmediate(() => { this.fireImmediate() })
      return { cancel: () => { entry.index = -1 } }
    }
    this.push(entry)
    return { cancel: () => { this.remove(entry) } }
  }

  private fireImmediate (): void {
    const batch = this.immediate.filter(e => e.index === 0)
    this.immediate = []
    for (const entry of batch) entry.index = -1
    this.fire(batch)
  }

  /** Adds a probe of work that needs no clock time; the returned function removes it. */
  addProbe (probe: BusyProbe): () => void {
    this.probes.add(probe)
    return () => { this.probes.delete(probe) }
  }

  /**
   * Waits until the system is quiet at the current instant; timers already due (armed for now or earlier)
   * fire on the way, as a real timer of 0 ms would. Fails when still busy after `stepTimeoutMs`, naming what.
   */
  async settle (): Promise<void> {
    const deadline = this.realNowMs() + this.stepTimeoutMs
    let quiet = 0
    let spins = 0
    while (quiet < this.quietTurns) {
      this.throwFailure()
      if (this.immediate.length > 0) {
        this.fireImmediate()
        quiet = 0
        continue
      }
      if (this.inFlight.size > 0) {
        quiet = 0
        const timeout = deadline - this.realNowMs()
        if (timeout <= 0) this.stuck()
        let timer: NodeJS.Timeout | undefined
        await Promise.race([Promise.allSettled([...this.inFlight]), new Promise<void>(resolve => { timer = setTimeout(resolve, timeout) })])
        clearTimeout(timer)
        continue
      }
      const busy = this.busy()
      if (busy.length > 0) {
        quiet = 0
        if (this.realNowMs() > deadline) this.stuck(busy)
        await (spins++ < spinTurns ? turn() : sleep(1))
        continue
      }
      spins = 0
      quiet++
      await turn()
    }
    this.throwFailure()
  }

  /**
   * Runs, instant by instant, every timer due before `targetMs`, then moves the clock to `targetMs` and
   * settles (timers due exactly at `targetMs` fire at the next step, after what the caller does there).
   */
  async advanceTo (targetMs: number): Promise<void> {
    await this.settle()
    for (let next = this.nextDueMs(); next !== undefined && (next < targetMs || this.inProgress(next)); next = this.nextDueMs()) {
      await this.moveTo(next)
      this.fireNext()
      await this.settle()
    }
    if (targetMs > this.current) await this.moveTo(targetMs)
    await this.settle()
  }

  /**
   * Steps from instant to instant until `done()` holds once the system is quiet; fails (naming `what`) if
   * the clock would pass `limitMs` first, or if no timer is left to move it.
   */
  async runUntil (done: () => boolean, limitMs: number, what: string | (() => string)): Promise<void> {
    const name = (): string => typeof what === 'string' ? what : what()
    await this.settle()
    while (!done()) {
      const next = this.nextDueMs()
      if (next === undefined) throw new SimulationError(`${name()}: nothing left to run at ${iso(this.current)}`)
      if (next > limitMs) throw new SimulationError(`${name()}: not done by ${iso(limitMs)}`)
      await this.moveTo(next)
      this.fireNext()
      await this.settle()
    }
  }

  /** Whether `dueMs` is the current instant and its phases have begun to fire (the rest of them are due). */
  private inProgress (dueMs: number): boolean {
    return dueMs === this.current && this.phaseNow >= 0
  }

  private busy (): string[] {
    return [...this.probes].flatMap(p => p())
  }

  private stuck (busy = this.busy()): never {
    const parts = [...busy, ...(this.inFlight.size > 0 ? [`${this.inFlight.size} timer callback(s) unsettled`] : [])]
    throw new SimulationError(`the system is still busy ${this.stepTimeoutMs / 1000} s (real) into the step at ${iso(this.current)}: ${parts.join(', ')}`)
  }

  private throwFailure (): void {
    if (this.failure === undefined) return
    const err = this.failure
    this.failure = undefined
    const failed = new SimulationError(`a timer callback failed at ${iso(this.current)}: ${err instanceof Error ? err.message : String(err)}`)
    failed.cause = err
    throw failed
  }

  /** Paces the jump to `targetMs` (at most `timeScale` virtual ms per real ms), then makes it. */
  private async moveTo (targetMs: number): Promise<void> {
    if (Number.isFinite(this.timeScale)) {
      const realMs = this.realNowMs()
      let anchor = this.anchor
      // Far behind (a slow step) or the first step: count from here rather than rush to catch up.
      if (anchor === undefined || anchor.realMs + (this.current - anchor.virtualMs) / this.timeScale < realMs - catchUpMs) {
        anchor = this.anchor = { realMs, virtualMs: this.current }
      }
      const wait = anchor.realMs + (targetMs - anchor.virtualMs) / this.timeScale - realMs
      if (wait > 0) await sleep(wait)
    }
    if (targetMs > this.current) {
      this.current = targetMs
      this.phaseNow = -1
    }
  }

  /** Fires, in arming order, the earliest instant's timers of its lowest phase; those they arm wait for a later step. */
  private fireNext (): void {
    const first = this.heap[0]
    if (first === undefined) return
    const batch: Entry[] = []
    for (let top = this.heap[0]; top !== undefined && top.dueMs === first.dueMs && top.phase === first.phase; top = this.heap[0]) batch.push(this.pop())
    this.phaseNow = first.phase
    this.fire(batch)
  }

  private fire (batch: Entry[]): void {
    for (const entry of batch) {
      try {
        const result = entry.fn()
        if (result instanceof Promise) {
          this.inFlight.add(result)
          result.then(() => { this.inFlight.delete(result) }, err => {
            this.inFlight.delete(result)
            this.failure ??= err
          })
        }
      } catch (err) {
        this.failure ??= err
      }
    }
  }

  // ---- the timer heap: by due time, then phase, then arming order ----

  private before (a: Entry, b: Entry): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && (a.phase < b.phase || (a.phase === b.phase && a.seq < b.seq)))
  }

  private push (entry: Entry): void {
    entry.index = this.heap.length
    this.heap.push(entry)
    this.up(entry.index)
  }

  private pop (): Entry {
    const top = this.heap[0] as Entry
    this.remove(top)
    return top
  }

  private remove (entry: Entry): void {
    const i = entry.index
    if (i < 0) return
    entry.index = -1
    const last = this.heap.pop() as Entry
    if (last === entry) return
    this.heap[i] = last
    last.index = i
    this.up(i)
    this.down(last.index)
  }

  private up (i: number): void {
    const entry = this.heap[i] as Entry
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = this.heap[parent] as Entry
      if (!this.before(entry, p)) break
      this.heap[i] = p
      p.index = i
      i = parent
    }
    this.heap[i] = entry
    entry.index = i
  }

  private down (i: number): void {
    const entry = this.heap[i] as Entry
    const n = this.heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && this.before(this.heap[r] as Entry, this.heap[l] as Entry) ? r : l
      const c = this.heap[child] as Entry
      if (!this.before(c, entry)) break
      this.heap[i] = c
      c.index = i
      i = child
    }
    this.heap[i] = entry
    entry.index = i
  }
}

async function turn (): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve))
}

async function sleep (ms: number): Promise<void> {
  await new Promise<void>(resolve => setTimeout(resolve, Math.max(0, ms)))
}

function iso (ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)
}
