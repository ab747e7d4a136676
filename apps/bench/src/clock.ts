/**
 * Wall-clock time in microseconds with sub-millisecond resolution. `performance.timeOrigin` is
 * taken from the same system clock in every process and thread, so a timestamp written by a
 * server process can be compared with one taken in a load-generator thread (measured offsets on
 * one machine are ~10 µs).
 */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
