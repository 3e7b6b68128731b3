/**
 * Event status from the clock (2.0b eventStatus): far until the event is near, near within its ramp-up (or
 * the VTN's near window) before the start, active from the start to the end, completed afterwards;
 * cancelled once cancelled. A zero duration means the event has no set end.
 */
import type { EiEvent, EventStatus } from '../model/event.js'

export function eventEndMs (event: EiEvent): number {
  const p = event.eiActivePeriod
  return p.durationMs > 0 ? p.dtstartMs + p.durationMs : Infinity
}

export function eventStatusAt (event: EiEvent, cancelled: boolean, nowMs: number, nearWindowMs: number): EventStatus {
  if (cancelled) return 'cancelled'
  const p = event.eiActivePeriod
  if (nowMs >= eventEndMs(event)) return 'completed'
  if (nowMs >= p.dtstartMs) return 'active'
  if (p.dtstartMs - nowMs <= Math.max(p.rampUpMs ?? 0, nearWindowMs)) return 'near'
  return 'far'
}
