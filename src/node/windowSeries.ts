/**
 * A customer's series over a window (its baseline, its flexibility), computed once per forecast it reports,
 * window and model, not at every call: monitoring, recovery and the ledger ask for them per customer at every
 * checkpoint, each time over the whole event window (96 intervals), while a customer's forecast changes once
 * an interval. One entry per forecast (the capabilities object, which a new report replaces whole): the last
 * window asked. A one-interval window (a reading's expected flow) costs less than its entry and is not kept.
 */
import type { CustomerCapabilities } from '../machines/customerSession.js'
import type { LedgerWindow } from './ledger.js'

interface Entry<T> { window: LedgerWindow, dependsOn: unknown, value: T }

export class WindowSeries<T> {
  private readonly last = new WeakMap<CustomerCapabilities, Entry<T>>()

  /** The value `compute` gives for the forecast over the window, computed again when `dependsOn` (by identity) changed. */
  get (caps: CustomerCapabilities, window: LedgerWindow, dependsOn: unknown, compute: () => T): T {
    if (window.intervals <= 1) return compute()
    const known = this.last.get(caps)
    if (known !== undefined && known.dependsOn === dependsOn && known.window.startMs === window.startMs &&
      known.window.intervalMs === window.intervalMs && known.window.intervals === window.intervals) return known.value
    const value = compute()
    this.last.set(caps, { window: { ...window }, dependsOn, value })
    return value
  }
}
