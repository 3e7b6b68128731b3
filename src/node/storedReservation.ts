/**
 * How the ledger stores a reservation (table `reservations`): the record as it is, except that kW up and
 * down that are never both held in one interval are stored as one series, the net kW (up − down). A
 * dispatch reserves a customer's change from its baseline, up where its setpoint is above and down where
 * below: two window-long series of which one is zero wherever the other is not, ~1 KB each packed at 96
 * intervals, and a re-dispatch rewrites the reservation of every customer of the plan.
 *
 * Reading gives exactly what the record stored as JSON would read as (up = max(0, net), down = max(0, −net),
 * and JSON reads −0 as 0); a record stored with both series (before, or holding both in an interval)
 * reads as it was.
 */
import type { Reservation } from './ledger.js'

/** The record in the shape the `reservations` table holds it. */
export type StoredReservation = Omit<Reservation, 'upKw' | 'downKw'> & ({ upKw: number[], downKw: number[] } | { netKw: number[] })

export function storedReservation (r: Reservation): StoredReservation {
  const netKw = netOf(r.upKw, r.downKw)
  return netKw === undefined ? r : renamed(r, { netKw })
}

export function reservationOf (stored: StoredReservation): Reservation {
  if (!('netKw' in stored)) return stored
  const { netKw } = stored
  const upKw = new Array<number>(netKw.length)
  const downKw = new Array<number>(netKw.length)
  for (let t = 0; t < netKw.length; t++) {
    const net = netKw[t] as number
    upKw[t] = Math.max(0, net)
    downKw[t] = Math.max(0, -net)
  }
  return renamed(stored, { upKw, downKw }) as Reservation
}

/** up − down per interval when at most one of them is held in each (and all are finite); undefined otherwise. */
function netOf (upKw: number[], downKw: number[]): number[] | undefined {
  if (upKw.length !== downKw.length) return undefined
  const net = new Array<number>(upKw.length)
  for (let t = 0; t < upKw.length; t++) {
    const up = upKw[t]
    const down = downKw[t]
    if (typeof up !== 'number' || typeof down !== 'number' || !Number.isFinite(up) || !Number.isFinite(down) || (up !== 0 && down !== 0)) return undefined
    net[t] = up - down
  }
  return net
}

/**
 * A copy of `o` with its series fields (`upKw` and `downKw`, or `netKw`) replaced by `series`, in their
 * place among its fields (a reservation reads back with its fields in the order it was made).
 */
function renamed (o: object, series: Record<string, number[]>): Record<string, unknown> & StoredReservation {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (k === 'upKw' || k === 'netKw') Object.assign(out, series)
    else if (k !== 'downKw') out[k] = v
  }
  return out as Record<string, unknown> & StoredReservation
}
