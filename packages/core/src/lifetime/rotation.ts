import { diagnostics } from '../diagnostics.js'
import { drawLifetime } from '../options/streamLifetime.js'
import type { BrokerCounters } from '../subscribers/brokerCounters.js'
import type { Subscriber } from '../subscribers/subscriber.js'
import { DeadlineQueue } from './deadlineQueue.js'

/** What rotation needs of the broker. */
export interface RotationContext {
  /** The broker, as diagnostics messages name it. */
  readonly broker: object
  readonly counters: BrokerCounters
}

/**
 * Ends each stream that has a `maxDuration` once its lifetime (drawn when it opens, ± the jitter)
 * is over, gracefully: what is queued is written, then the connection is let go of, so the client
 * reconnects (with `Last-Event-ID`, through `authorize`, maybe to another instance). Every stream
 * of the broker shares one timer.
 */
export class Rotation {
  readonly #context: RotationContext
  readonly #deadlines = new DeadlineQueue<Subscriber>((subscriber, lifetime) =>
    this.#rotate(subscriber, lifetime),
  )

  constructor(context: RotationContext) {
    this.#context = context
  }

  /** Streams waiting for their deadline. */
  get size(): number {
    return this.#deadlines.size
  }

  /** `true` while the shared timer is set (never without a stream waiting). */
  get armed(): boolean {
    return this.#deadlines.armed
  }

  /** A stream opened: its lifetime starts (a stream already closed again has none). */
  start(subscriber: Subscriber): void {
    if (!subscriber.stream.isOpen) return
    const lifetime = drawLifetime(subscriber.lifetime)
    if (lifetime > 0) this.#deadlines.add(subscriber, lifetime)
  }

  /** A stream closed. */
  stop(subscriber: Subscriber): void {
    this.#deadlines.delete(subscriber)
  }

  /** Forgets every deadline (the broker is closing). */
  clear(): void {
    this.#deadlines.clear()
  }

  #rotate(subscriber: Subscriber, lifetime: number): void {
    const stream = subscriber.stream
    if (!stream.isOpen) return
    const { broker, counters } = this.#context
    counters.rotated++
    if (diagnostics.rotate.hasSubscribers) {
      diagnostics.rotate.publish({ broker, stream, duration: lifetime })
    }
    stream.shutdown()
  }
}
