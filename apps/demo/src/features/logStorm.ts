import { performance } from 'node:perf_hooks'
import type { Broker } from '@sse/core'
import type { LogFeed } from './logFeed.js'
import { createStormLine, renderLogLines } from './logLine.js'
import { LOG_TOPIC } from './logPump.js'

/** Lines a storm writes when the page asks for the default one. */
export const STORM_LINES = 3000

/** The most lines one storm may write: about 1.7 MB of HTML, all in one event-loop turn. */
export const MAX_STORM_LINES = 4000

/**
 * Lines per `logs` event of a storm: batches, the page's normal path (one `.log-batch` each), of
 * about 42 KB.
 */
export const STORM_BATCH_LINES = 100

/** What a storm wrote. */
export interface StormReport {
  /** The first and last sequence numbers it wrote. */
  from: number
  to: number
  /** The `logs` events it published. */
  events: number
  /** The lines' HTML, in bytes (the frames on the wire are a little larger). */
  bytes: number
  /**
   * Settles once the transport has answered for every event: to the number it failed to take (an
   * outage), whose lines the pages count as missed. Never rejects.
   */
  failed: Promise<number>
}

/** Reads the posted line count: digits only, 1 to {@link MAX_STORM_LINES}; `undefined` otherwise. */
export function parseStormLines(body: unknown): number | undefined {
  const value = (body as { lines?: unknown } | null | undefined)?.lines
  if (typeof value !== 'string' || !/^\d{1,5}$/.test(value)) return undefined
  const lines = Number(value)
  return lines >= 1 && lines <= MAX_STORM_LINES ? lines : undefined
}

/**
 * Checks a storm cooldown (a whole number of ms, 0 or more) and returns it. A cooldown that is not
 * a number would let every storm through.
 */
export function checkStormCooldown(cooldownMs: number): number {
  if (Number.isSafeInteger(cooldownMs) && cooldownMs >= 0) return cooldownMs
  throw new RangeError(
    `@sse/demo: the storm cooldown must be a whole number of ms, 0 or more, got ${String(cooldownMs)}`,
  )
}

export interface LogStormOptions {
  broker: Broker
  feed: LogFeed
  /** How long a storm blows, in ms: no other storm starts meanwhile. */
  cooldownMs: number
}

/**
 * An error storm in the demo's log: on demand, a burst of `ERROR` lines with their stack traces,
 * written into the {@link LogFeed} and published in batches of {@link STORM_BATCH_LINES}, every
 * batch in the same event-loop turn. That is what a log does when a dependency goes down, and what
 * a stream must carry without cutting a client that reads: megabytes handed over in one turn.
 *
 * One storm at a time: after one, {@link blow} refuses until `cooldownMs` has passed, so nothing a
 * page posts makes the server write more than {@link MAX_STORM_LINES} lines per cooldown.
 */
export class LogStorm {
  readonly #broker: Broker
  readonly #feed: LogFeed
  readonly #cooldownMs: number
  /** `performance.now()` of the last storm. */
  #lastAt = Number.NEGATIVE_INFINITY

  constructor(options: LogStormOptions) {
    this.#broker = options.broker
    this.#feed = options.feed
    this.#cooldownMs = checkStormCooldown(options.cooldownMs)
  }

  /** Ms until the next storm may start; `0` when one may start now. */
  get retryAfterMs(): number {
    return Math.max(0, Math.ceil(this.#lastAt + this.#cooldownMs - performance.now()))
  }

  /**
   * Writes `lines` (1 to {@link MAX_STORM_LINES}) storm lines and publishes them, all before it
   * returns. Returns `undefined` while the last storm still blows, or once the broker has closed.
   */
  blow(lines: number): StormReport | undefined {
    if (!Number.isSafeInteger(lines) || lines < 1 || lines > MAX_STORM_LINES) {
      throw new RangeError(
        `@sse/demo: a storm is a whole number of lines from 1 to ${MAX_STORM_LINES}, got ${String(lines)}`,
      )
    }
    if (this.retryAfterMs > 0 || this.#broker.isClosed) return undefined
    this.#lastAt = performance.now()
    const at = Date.now()
    const written = this.#feed.write(lines, at, at, createStormLine)
    let bytes = 0
    const published: Promise<string>[] = []
    for (let i = 0; i < written.length; i += STORM_BATCH_LINES) {
      const data = renderLogLines(written.slice(i, i + STORM_BATCH_LINES))
      bytes += Buffer.byteLength(data.toString())
      // Nothing awaits between two publishes: the whole storm is handed over in this turn, on
      // purpose. A failed delivery is counted by the broker and goes to its `onError`.
      published.push(this.#broker.publish(LOG_TOPIC, { event: LOG_TOPIC, data }))
    }
    const failed = Promise.allSettled(published).then(
      (results) => results.filter((result) => result.status === 'rejected').length,
    )
    return {
      from: written[0]!.seq,
      to: written.at(-1)!.seq,
      events: published.length,
      bytes,
      failed,
    }
  }
}
