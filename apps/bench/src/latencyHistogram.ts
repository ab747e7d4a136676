/** 10 µs buckets up to 100 ms, then 1 ms buckets up to 60 s. */
const FINE_LIMIT = 100_000
const FINE_STEP = 10
const COARSE_STEP = 1000
const FINE_BUCKETS = FINE_LIMIT / FINE_STEP
const BUCKETS = FINE_BUCKETS + 60_000

function bucketOf(micros: number): number {
  if (micros < 0) return 0
  if (micros < FINE_LIMIT) return Math.floor(micros / FINE_STEP)
  return Math.min(BUCKETS - 1, FINE_BUCKETS + Math.floor((micros - FINE_LIMIT) / COARSE_STEP))
}

function microsOf(bucket: number): number {
  if (bucket < FINE_BUCKETS) return bucket * FINE_STEP + FINE_STEP / 2
  return FINE_LIMIT + (bucket - FINE_BUCKETS) * COARSE_STEP + COARSE_STEP / 2
}

/** A fixed-size latency histogram that threads can fill cheaply and merge afterwards. */
export class LatencyHistogram {
  readonly counts: Uint32Array
  count = 0

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(BUCKETS)
    if (counts !== undefined) for (const value of counts) this.count += value
  }

  record(micros: number): void {
    this.counts[bucketOf(micros)]!++
    this.count++
  }

  merge(other: Uint32Array): void {
    const counts = this.counts
    for (let i = 0; i < other.length; i++) {
      const value = other[i]!
      if (value !== 0) {
        counts[i]! += value
        this.count += value
      }
    }
  }

  reset(): void {
    this.counts.fill(0)
    this.count = 0
  }

  /** The `p`-th percentile (0–100) in milliseconds, or `NaN` when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    const counts = this.counts
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!
      if (seen >= rank) return microsOf(i) / 1000
    }
    return microsOf(counts.length - 1) / 1000
  }
}
