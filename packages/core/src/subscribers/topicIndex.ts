/** What the topic index needs of a subscriber. */
export interface Subscription {
  readonly topics: readonly string[]
  /** The last multi-topic fan-out stamp this subscription was visited with (see {@link TopicIndex.visit}). */
  stamp: number
}

/**
 * Which subscriptions listen to which topic. A multi-topic event visits each subscription once,
 * however many of the event's topics it listens to.
 */
export class TopicIndex<TSubscription extends Subscription> {
  readonly #topics = new Map<string, Set<TSubscription>>()
  #stamp = 0

  /** Topics with at least one subscription. */
  get size(): number {
    return this.#topics.size
  }

  add(subscription: TSubscription): void {
    for (const topic of subscription.topics) {
      let set = this.#topics.get(topic)
      if (set === undefined) {
        set = new Set()
        this.#topics.set(topic, set)
      }
      set.add(subscription)
    }
  }

  delete(subscription: TSubscription): void {
    for (const topic of subscription.topics) {
      const set = this.#topics.get(topic)
      if (set === undefined) continue
      set.delete(subscription)
      if (set.size === 0) this.#topics.delete(topic)
    }
  }

  /** Subscriptions of `topic` on this instance. */
  count(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0
  }

  /** The subscriptions of one topic (the common, single-topic case: no de-duplication needed). */
  of(topic: string): ReadonlySet<TSubscription> | undefined {
    return this.#topics.get(topic)
  }

  /**
   * Calls `visit` once per subscription of any of `topics`, with the index of the first of those
   * topics it listens to.
   */
  visit(
    topics: readonly string[],
    visit: (subscription: TSubscription, topic: number) => void,
  ): void {
    const stamp = ++this.#stamp
    for (let i = 0; i < topics.length; i++) {
      const set = this.#topics.get(topics[i]!)
      if (set === undefined) continue
      for (const subscription of set) {
        if (subscription.stamp === stamp) continue
        subscription.stamp = stamp
        visit(subscription, i)
      }
    }
  }
}
