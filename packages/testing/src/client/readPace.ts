import { SSEError } from '@sse/core'
import { MAX_TIMER_MS } from '@sse/core/kit'
import type { Exchange } from './exchange.js'

// The real clock and timers, taken when this module loads (as in streamWaits.ts): a test that
// fakes timers afterwards still gets a client that reads at its pace.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis
const now = performance.now.bind(performance)

/**
 * How fast a stream reads: as fast as it can, not at all (`pause()`), or at about a given rate
 * (`throttle()`), by pausing its exchange whenever it has read ahead of that pace.
 */
export class ReadPace {
  readonly #exchange: Exchange
  #read = 0
  #pace: { rate: number; since: number; from: number } | undefined
  #timer: ReturnType<typeof realSetTimeout> | undefined

  constructor(exchange: Exchange) {
    this.#exchange = exchange
  }

  pause(): void {
    this.stop()
    this.#exchange.pause()
  }

  resume(): void {
    this.stop()
    this.#exchange.resume()
  }

  /** Reads at about `bytesPerSecond` from now on, counted from what has been read so far. */
  throttle(bytesPerSecond: number): void {
    if (
      typeof bytesPerSecond !== 'number' ||
      !Number.isFinite(bytesPerSecond) ||
      bytesPerSecond < 1
    ) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/testing: throttle() takes bytes per second, a finite number >= 1, got ${typeof bytesPerSecond === 'number' ? bytesPerSecond : (JSON.stringify(bytesPerSecond) ?? typeof bytesPerSecond)}`,
      )
    }
    this.stop()
    this.#pace = { rate: bytesPerSecond, since: now(), from: this.#read }
    this.#exchange.resume()
  }

  /** Counts a chunk read; past the pace, stops reading until the pace has caught up. */
  read(bytes: number): void {
    this.#read += bytes
    const pace = this.#pace
    if (pace === undefined || this.#timer !== undefined) return
    const ahead = this.#read - pace.from - (pace.rate * (now() - pace.since)) / 1000
    if (ahead <= 0) return
    this.#exchange.pause()
    this.#timer = realSetTimeout(
      () => {
        this.#timer = undefined
        this.#exchange.resume()
      },
      Math.min(MAX_TIMER_MS, Math.ceil((ahead / pace.rate) * 1000)),
    )
  }

  /** Ends a throttle, leaving the exchange as it is (paused or not); for when the stream is over. */
  stop(): void {
    this.#pace = undefined
    realClearTimeout(this.#timer)
    this.#timer = undefined
  }
}
