/**
 * Small numeric helpers shared by the learning and matchmaking actors: rank correlation (to measure
 * learning), WAPE (to score forecasts), the regularised incomplete beta function and its inverse (credible
 * intervals of the reliability posterior), and a binary max-heap that yields indices in descending key
 * order lazily (partial selection instead of a full sort).
 */

/** Arithmetic mean; NaN for an empty list. */
export function mean (xs: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i] as number
  return s / xs.length
}

/** Average ranks (1-based, ties share their mean rank). */
export function ranks (xs: ArrayLike<number>): number[] {
  const order = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number))
  const out = new Array<number>(xs.length).fill(0)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && xs[order[j + 1] as number] === xs[order[i] as number]) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) out[order[k] as number] = rank
    i = j + 1
  }
  return out
}

/** Pearson correlation; 0 when either series is constant (no ranking information). */
export function pearson (xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const mx = mean(xs); const my = mean(ys)
  let sxy = 0; let sxx = 0; let syy = 0
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx; const dy = (ys[i] as number) - my
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy)
}

/** Spearman rank correlation (Pearson on average ranks). */
export function spearman (xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  return pearson(ranks(xs), ranks(ys))
}

/** Weighted absolute percentage error Σ|a − f| / Σ|a|; skips intervals where either is NaN. */
export function wape (actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let err = 0; let tot = 0
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number; const f = forecast[i] as number
    if (Number.isNaN(a) || Number.isNaN(f)) continue
    err += Math.abs(a - f); tot += Math.abs(a)
  }
  return tot === 0 ? (err === 0 ? 0 : Infinity) : err / tot
}

function logGamma (x: number): number {
  // Lanczos approximation (g = 7, n = 9): ~1e-15 relative accuracy for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  x -= 1
  let a = c[0] as number
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

function betaContinuedFraction (x: number, a: number, b: number): number {
  // Lentz's method for the continued fraction of I_x(a, b).
  const tiny = 1e-300
  let c = 1; let d = 1 - (a + b) * x / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny
    d = 1 / d; h *= d * c
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-14) break
  }
  return h
}

/** Regularised incomplete beta I_x(a, b): the CDF of Beta(a, b) at x. */
export function betaCdf (x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x)
  if (x < (a + 1) / (a + b + 2)) return Math.exp(lnFront) * betaContinuedFraction(x, a, b) / a
  return 1 - Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a) / b
}

/** Quantile of Beta(a, b) by bisection on the CDF (60 halvings: below 1e-15). */
export function betaQuantile (p: number, a: number, b: number): number {
  let lo = 0; let hi = 1
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (betaCdf(mid, a, b) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/**
 * Indices of `keys` popped in descending key order (ties: lower index first), built in O(n) and popped in
 * O(log n) each, so taking the best k of n costs O(n + k log n) rather than a full sort.
 */
export class DescendingIndexHeap {
  private readonly heap: Int32Array
  private size: number

  constructor (private readonly keys: ArrayLike<number>, indices?: ArrayLike<number>) {
    const n = indices?.length ?? keys.length
    this.heap = new Int32Array(n)
    for (let i = 0; i < n; i++) this.heap[i] = indices === undefined ? i : indices[i] as number
    this.size = n
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  get remaining (): number { return this.size }

  /** The next index, or -1 when exhausted. */
  pop (): number {
    if (this.size === 0) return -1
    const top = this.heap[0] as number
    this.size--
    this.heap[0] = this.heap[this.size] as number
    this.siftDown(0)
    return top
  }

  private before (a: number, b: number): boolean {
    const ka = this.keys[a] as number; const kb = this.keys[b] as number
    return ka > kb || (ka === kb && a < b)
  }

  private siftDown (i: number): void {
    const h = this.heap
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.size) return
      const r = l + 1
      let best = l
      if (r < this.size && this.before(h[r] as number, h[l] as number)) best = r
      if (!this.before(h[best] as number, h[i] as number)) return
      const tmp = h[i] as number; h[i] = h[best] as number; h[best] = tmp
      i = best
    }
  }
}
