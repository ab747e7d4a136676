import type { SSETestError } from '../sseTestError.js'
import type { WaitSpec } from './streamWaits.js'
import type { ServerSentEvent } from './types.js'

/**
 * The one read position of a stream's events, shared by `take()`, `until()` and iterating: each
 * method returns the wait that reads from it, and moves it only when the wait is met.
 */
export class EventCursor {
  readonly #events: readonly ServerSentEvent[]
  /** The error for a wait the stream ended before meeting. */
  readonly #ended: (what: string) => SSETestError
  #read = 0

  constructor(events: readonly ServerSentEvent[], ended: (what: string) => SSETestError) {
    this.#events = events
    this.#ended = ended
  }

  /** How many events have been read. */
  get read(): number {
    return this.#read
  }

  take(count: number): WaitSpec<ServerSentEvent[]> {
    return {
      what: `take(${count})`,
      attempt: () => {
        if (this.#events.length - this.#read < count) return undefined
        this.#read += count
        return { value: this.#events.slice(this.#read - count, this.#read) }
      },
      whenOver: () => {
        throw this.#ended(`take(${count}) got ${this.#events.length - this.#read}`)
      },
    }
  }

  until(predicate: (event: ServerSentEvent) => boolean): WaitSpec<ServerSentEvent[]> {
    let checked = this.#read
    return {
      what: 'until(predicate)',
      attempt: () => {
        for (checked = Math.max(checked, this.#read); checked < this.#events.length; checked++) {
          if (!predicate(this.#events[checked]!)) continue
          const from = this.#read
          this.#read = checked + 1
          return { value: this.#events.slice(from, this.#read) }
        }
        return undefined
      },
      whenOver: () => {
        throw this.#ended('no event matched the predicate of until()')
      },
    }
  }

  next(): WaitSpec<IteratorResult<ServerSentEvent>> {
    return {
      what: 'the next event',
      attempt: () =>
        this.#read < this.#events.length
          ? { value: { done: false, value: this.#events[this.#read++]! } }
          : undefined,
      whenOver: () => ({ done: true, value: undefined }),
    }
  }
}
