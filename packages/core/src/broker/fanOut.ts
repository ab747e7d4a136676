import { conflationToken } from '../conflation/conflationKey.js'
import { type KeyedResult, REPLACED, SENT } from '../conflation/keyedSlots.js'
import { type BrokerCounters, countConflated } from '../subscribers/brokerCounters.js'
import type { Subscriber } from '../subscribers/subscriber.js'
import type { TopicIndex } from '../subscribers/topicIndex.js'
import type { Delivery } from '../types.js'

const NO_TOKENS: readonly (string | undefined)[] = []

/**
 * The broker's fan-out: each delivery's frame, serialized once, to every subscriber of its topics.
 * A keyed event (`publish(..., { key })`) also carries the conflation token of each topic, built once
 * per event, so that a frame waiting unwritten for a subscriber is replaced by the newer one. One
 * loop serves both; a subscriber of several of the event's topics gets the frame of the first, and
 * of a copy that {@link Delivery.carries} some topics only, just when that first topic is carried.
 */
export class FanOut {
  readonly #broker: object
  readonly #index: TopicIndex<Subscriber>
  readonly #counters: BrokerCounters
  #delivery: Delivery | undefined
  #tokens: readonly (string | undefined)[] = NO_TOKENS

  /** Visits one subscriber of a multi-topic event (bound once: no closure per publish). */
  readonly #visit = (subscriber: Subscriber, topic: number): void => {
    const { id, frames, carries } = this.#delivery!
    if (carries !== undefined && carries[topic] !== true) return
    this.#count(
      subscriber,
      subscriber.deliver(id, frames[topic] ?? frames[0]!, this.#tokens[topic]),
    )
  }

  /** `broker` is what diagnostics messages name. */
  constructor(broker: object, index: TopicIndex<Subscriber>, counters: BrokerCounters) {
    this.#broker = broker
    this.#index = index
    this.#counters = counters
  }

  /** Hands `delivery` to every subscriber of its topics. */
  deliver(delivery: Delivery): void {
    const { topics, key } = delivery
    if (topics.length === 1 && delivery.carries === undefined) {
      const set = this.#index.of(topics[0]!)
      if (set === undefined) return
      const { id, frames } = delivery
      const frame = frames[0]!
      const token = key === undefined ? undefined : conflationToken(topics[0]!, key)
      for (const subscriber of set) this.#count(subscriber, subscriber.deliver(id, frame, token))
      return
    }
    this.#delivery = delivery
    if (key !== undefined) this.#tokens = topics.map((topic) => conflationToken(topic, key))
    try {
      this.#index.visit(topics, this.#visit)
    } finally {
      this.#delivery = undefined
      this.#tokens = NO_TOKENS
    }
  }

  #count(subscriber: Subscriber, result: KeyedResult): void {
    if ((result & SENT) !== 0) this.#counters.delivered++
    if ((result & REPLACED) !== 0) countConflated(this.#broker, this.#counters, subscriber.stream)
  }
}
