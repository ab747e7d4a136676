import { conflationToken } from '../conflation/conflationKey.js'
import { type KeyedResult, REPLACED, SENT } from '../conflation/keyedSlots.js'
import type { Delivery } from '../types.js'
import type { BrokerCounters } from './brokerCounters.js'
import { diagnostics } from './diagnostics.js'
import type { Subscriber } from './subscriber.js'
import type { TopicIndex } from './topicIndex.js'

/**
 * The broker's fan-out of keyed events (`publish(..., { key })`): like the plain one, plus the
 * conflation token of each topic, built once per event and compared by every subscriber, so that a
 * subscriber that has fallen behind keeps only the newest pending frame per topic and key.
 */
export class KeyedFanOut {
  readonly #broker: object
  readonly #index: TopicIndex<Subscriber>
  readonly #counters: BrokerCounters
  #delivery: Delivery | undefined
  #tokens: string[] = []

  /** Visits one subscriber of a multi-topic event (bound once: no closure per publish). */
  readonly #visit = (subscriber: Subscriber, topic: number): void => {
    const { id, frames } = this.#delivery!
    const frame = frames[topic] ?? frames[0]!
    this.#count(subscriber, subscriber.deliverKeyed(id, frame, this.#tokens[topic]!))
  }

  constructor(broker: object, index: TopicIndex<Subscriber>, counters: BrokerCounters) {
    this.#broker = broker
    this.#index = index
    this.#counters = counters
  }

  /** Hands `delivery`, whose conflation key is `key`, to every subscriber of its topics. */
  deliver(delivery: Delivery, key: string): void {
    const topics = delivery.topics
    if (topics.length === 1) {
      const set = this.#index.of(topics[0]!)
      if (set === undefined) return
      const { id, frames } = delivery
      const frame = frames[0]!
      const token = conflationToken(topics[0]!, key)
      for (const subscriber of set)
        this.#count(subscriber, subscriber.deliverKeyed(id, frame, token))
      return
    }
    // A subscriber of several of the event's topics gets the frame of the first: and its token.
    this.#delivery = delivery
    this.#tokens = topics.map((topic) => conflationToken(topic, key))
    try {
      this.#index.visit(topics, this.#visit)
    } finally {
      this.#delivery = undefined
      this.#tokens = []
    }
  }

  #count(subscriber: Subscriber, result: KeyedResult): void {
    if ((result & SENT) !== 0) this.#counters.delivered++
    if ((result & REPLACED) === 0) return
    this.#counters.conflated++
    if (diagnostics.conflate.hasSubscribers) {
      diagnostics.conflate.publish({ broker: this.#broker, stream: subscriber.stream })
    }
  }
}
