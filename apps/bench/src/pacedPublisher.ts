import { nowMicros } from './clock.js'

/** When a paced run published its first and its last event (µs, {@link nowMicros}). */
export interface PacedSpan {
  startedAt: number
  endedAt: number
}

/**
 * Calls `publish` `count` times at `bytesPerSecond` for events of `eventBytes`, on a drift-free
 * schedule: at most one event per event-loop turn (setImmediate between events), a 1 ms timer
 * while ahead of the schedule. Behind it (a busy loop, a slow publish), it catches up one event
 * per turn, never in a burst. Rejects if `publish` throws; publishes nothing after that.
 */
export function publishPaced(
  publish: () => void,
  count: number,
  eventBytes: number,
  bytesPerSecond: number,
): Promise<PacedSpan> {
  if (!(Number.isInteger(count) && count >= 1 && eventBytes > 0 && bytesPerSecond > 0)) {
    return Promise.reject(
      new RangeError(
        `paced publish: expected a positive count, event size and rate, got ${count} events of ${eventBytes} B at ${bytesPerSecond} B/s`,
      ),
    )
  }
  const msPerEvent = (eventBytes / bytesPerSecond) * 1000
  const start = performance.now()
  const startedAt = nowMicros()
  let sent = 0
  return new Promise((resolve, reject) => {
    const step = (): void => {
      if (performance.now() < start + sent * msPerEvent) {
        setTimeout(step, 1)
        return
      }
      try {
        publish()
      } catch (error) {
        reject(error)
        return
      }
      sent++
      if (sent < count) setImmediate(step)
      else resolve({ startedAt, endedAt: nowMicros() })
    }
    step()
  })
}
