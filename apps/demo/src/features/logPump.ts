import { performance } from 'node:perf_hooks'
import type { Broker } from '@sse/core'
import type { LogFeed } from './logFeed.js'
import { renderLogLines } from './logLine.js'

/** The topic the log's lines are published to, as `logs` events. */
export const LOG_TOPIC = 'logs'

/** Slowest and fastest rate the log can be set to, in lines per second. */
export const MIN_LOG_RATE = 1
export const MAX_LOG_RATE = 5000

/**
 * A timer that fires late (a busy event loop) writes at most this many ticks' worth of lines; the
 * rest of the late time is skipped. So no batch grows without bound, and the rate the page
 * measures drops, honestly, when the server cannot keep up.
 */
const MAX_TICKS_PER_BATCH = 2

/** Whether `value` is a rate the log accepts: a whole number of lines per second in range. */
export function isLogRate(value: unknown): value is number {
  return (
    Number.isSafeInteger(value) &&
    (value as number) >= MIN_LOG_RATE &&
    (value as number) <= MAX_LOG_RATE
  )
}

/** The error for a rate {@link isLogRate} refuses, naming it. */
export function logRateError(rate: unknown): RangeError {
  return new RangeError(
    `@sse/demo: the log rate must be a whole number of lines/s from ${MIN_LOG_RATE} to ${MAX_LOG_RATE}, got ${String(rate)}`,
  )
}

export interface LogPumpOptions {
  broker: Broker
  feed: LogFeed
  /** Lines per second, from {@link MIN_LOG_RATE} to {@link MAX_LOG_RATE}. */
  rate: number
  /** How often a batch is written and published, in ms. */
  tickMs: number
  /**
   * How long the log goes on after the last page on this instance left, in ms: a page that
   * reconnects then has lines to catch up on, as it would with a real server's log.
   */
  lingerMs: number
}

/**
 * Writes the demo's log: on one shared timer, each tick writes the lines due at the current rate
 * into the {@link LogFeed} and publishes them as one `logs` event, rendered once for every page.
 * It writes only while a page on this instance follows the topic (and for `lingerMs` after), so
 * an idle demo costs one subscriber count per tick. The timer is unref'd.
 */
export class LogPump {
  readonly #broker: Broker
  readonly #feed: LogFeed
  readonly #tickMs: number
  readonly #lingerMs: number
  #rate: number
  #timer: NodeJS.Timeout | undefined
  /** `performance.now()` of the last tick. */
  #last = 0
  /** The fraction of a line due but not written yet, so that 1 line/s works with 25 ms ticks. */
  #carry = 0
  #watchedAt = Number.NEGATIVE_INFINITY

  constructor(options: LogPumpOptions) {
    if (!isLogRate(options.rate)) throw logRateError(options.rate)
    this.#broker = options.broker
    this.#feed = options.feed
    this.#tickMs = options.tickMs
    this.#lingerMs = options.lingerMs
    this.#rate = options.rate
  }

  /** Lines per second. */
  get rate(): number {
    return this.#rate
  }

  /** Sets the rate from the next tick on. Check it with {@link isLogRate} first. */
  setRate(rate: number): void {
    if (!isLogRate(rate)) throw logRateError(rate)
    this.#rate = rate
  }

  /** The most lines one tick writes at the current rate. */
  get maxBatch(): number {
    return Math.ceil((this.#rate * this.#tickMs * MAX_TICKS_PER_BATCH) / 1000)
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#last = performance.now()
    this.#timer = setInterval(() => this.#tick(), this.#tickMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #tick(): void {
    const now = performance.now()
    const elapsed = Math.min(now - this.#last, this.#tickMs * MAX_TICKS_PER_BATCH)
    this.#last = now
    if (this.#broker.isClosed) return
    if (this.#broker.subscribers(LOG_TOPIC) > 0) this.#watchedAt = now
    if (now - this.#watchedAt > this.#lingerMs) {
      this.#carry = 0
      return
    }
    this.#carry += (this.#rate * elapsed) / 1000
    const count = Math.min(Math.floor(this.#carry), this.maxBatch)
    // Never more than a line owed: what `maxBatch` held back is skipped, not saved for a burst.
    this.#carry = Math.min(this.#carry - count, 1)
    if (count === 0) return
    const to = Date.now()
    const lines = this.#feed.write(count, to - elapsed, to)
    // Ids come from the broker in this tick, in order. A failed delivery (a transport outage) is
    // counted by the broker and reported to its `onError`; the page shows the lines it misses. A
    // throw must not escape a timer: it would end the process.
    try {
      this.#broker
        .publish(LOG_TOPIC, { event: LOG_TOPIC, data: renderLogLines(lines) })
        .catch(() => {})
    } catch {
      // Nothing should throw here (the broker is open, the event valid). If something does, this
      // tick's lines are lost, and the page counts them as missed.
    }
  }
}
