import type { ReplayLimits } from '../types.js'

interface Keyed<TEvent> {
  event: TEvent
  order: number
  bytes: number
}

/**
 * Builds a replay answer the way every transport owes it: events in id order, keyed events
 * log-compacted (of those with the same topic and key, only the newest), and only then the
 * {@link ReplayLimits}. Feed it the events after the client's id in id order; {@link add} says when
 * to stop reading because the answer is over a cap whatever follows.
 *
 * Compaction comes first so that a client that missed a thousand updates of twenty keys gets twenty
 * events, not a reset. The work stays bounded: what is kept never passes the caps by more than one
 * event, and reading is bounded by the history itself.
 *
 * @example
 * const answer = new ReplayCompaction<Delivery>(limits)
 * for (const event of eventsAfter(lastEventId)) {
 *   if (!answer.add(event, frameOf(event).length, tokenOf(event))) break
 * }
 * const events = answer.finish() // undefined: over a cap, answer a capped reset
 */
export class ReplayCompaction<TEvent> {
  readonly #limits: ReplayLimits
  readonly #plain: TEvent[] = []
  readonly #plainOrder: number[] = []
  /** The newest keyed event per token, in the order they were added (a replaced one moves last). */
  readonly #keyed = new Map<string, Keyed<TEvent>>()
  #plainBytes = 0
  #keyedBytes = 0
  #added = 0
  #over = false

  constructor(limits: ReplayLimits) {
    this.#limits = limits
  }

  /** Events the answer holds so far. */
  get events(): number {
    return this.#plain.length + this.#keyed.size
  }

  /** Bytes (frames as written) the answer holds so far. */
  get bytes(): number {
    return this.#plainBytes + this.#keyedBytes
  }

  /**
   * Adds the next event in id order: `bytes` is the length of the frame it is written with, `token`
   * its topic and key when it is keyed (see `conflationToken`). An event of a token already held
   * replaces it. Returns `false` once the answer is over a cap whatever comes next: stop reading.
   */
  add(event: TEvent, bytes: number, token: string | undefined): boolean {
    const order = this.#added++
    if (token === undefined) {
      this.#plain.push(event)
      this.#plainOrder.push(order)
      this.#plainBytes += bytes
    } else {
      const old = this.#keyed.get(token)
      if (old !== undefined) {
        this.#keyedBytes -= old.bytes
        this.#keyed.delete(token)
      }
      this.#keyed.set(token, { event, order, bytes })
      this.#keyedBytes += bytes
    }
    // Neither can shrink again: unkeyed events stay, and each token keeps one event.
    const limits = this.#limits
    this.#over = this.events > limits.maxEvents || this.#plainBytes > limits.maxBytes
    return !this.#over
  }

  /** The answer in id order, or `undefined` when it is over a cap. */
  finish(): TEvent[] | undefined {
    if (this.#over || this.bytes > this.#limits.maxBytes) return undefined
    const plain = this.#plain
    if (this.#keyed.size === 0) return plain
    const order = this.#plainOrder
    const events: TEvent[] = []
    let i = 0
    for (const keyed of this.#keyed.values()) {
      while (i < plain.length && order[i]! < keyed.order) events.push(plain[i++]!)
      events.push(keyed.event)
    }
    while (i < plain.length) events.push(plain[i++]!)
    return events
  }
}
