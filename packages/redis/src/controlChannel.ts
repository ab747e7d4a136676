import { randomUUID } from 'node:crypto'
import { SSEError } from '@sse/core'
import type { ControlMessage } from '@sse/core/kit'
import { connect, duplicate, quit } from './connection.js'
import type { RedisClient } from './redisClient.js'
import type { TransportCounters } from './transportCounters.js'
import { commandError, unavailable } from './transportError.js'

/** Where the control channel hands what it receives. */
export interface ControlSink {
  control(message: ControlMessage): void
  error(error: SSEError): void
}

function ignore(): void {}

/** A decoded payload that has the shape of a {@link ControlMessage} (the broker checks the rest). */
function asControlMessage(value: unknown): ControlMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { type, tags, frame } = value as Record<string, unknown>
  if (type !== 'disconnect' || !Array.isArray(tags)) return undefined
  if (!tags.every((tag) => typeof tag === 'string')) return undefined
  if (frame === undefined) return { type, tags }
  return typeof frame === 'string' ? { type, tags, frame } : undefined
}

/**
 * Control messages between instances (`broker.disconnect()`) over Redis pub/sub on
 * `<keyPrefix>:control`: a `PUBLISH`, never an `XADD`, so they never enter the stream that is the
 * history, take no id, and are never replayed. Each instance listens on a connection of its own and
 * skips the messages it sent itself (they carry its origin). At most once: an instance whose
 * listening connection is down while a message is published misses it.
 */
export class ControlChannel {
  readonly #origin = randomUUID()
  readonly #publisher: RedisClient
  readonly #channel: string
  readonly #counters: TransportCounters
  #subscriber: RedisClient | undefined
  #sink: ControlSink | undefined
  #listening = false
  #subscribing: Promise<void> | undefined
  #reportedMalformed = false
  #reportedRefused = false

  constructor(publisher: RedisClient, channel: string, counters: TransportCounters) {
    this.#publisher = publisher
    this.#channel = channel
    this.#counters = counters
  }

  /** `true` unless it listens and its connection is not subscribed right now. */
  get healthy(): boolean {
    return this.#subscriber === undefined || this.#listening
  }

  /**
   * Opens the listening connection (a duplicate of `publisher`) and subscribes, again after every
   * reconnect. Resolves once subscribed; rejects on the first failure (it keeps trying).
   */
  listen(sink: ControlSink): Promise<void> {
    this.#sink = sink
    const subscriber = duplicate(this.#publisher, true)
    this.#subscriber = subscriber
    subscriber.on('error', ignore)
    subscriber.on('message', this.#onMessage)
    subscriber.on('ready', this.#onReady)
    subscriber.on('close', () => {
      this.#listening = false
    })
    return connect(subscriber).then(() => {
      this.#subscribing ??= this.#subscribe()
      return this.#subscribing
    })
  }

  /**
   * Publishes `message` for the other instances. Throws `TRANSPORT_UNAVAILABLE` at once while Redis
   * is unreachable; rejects if the connection drops before Redis answers.
   */
  send(message: ControlMessage): Promise<void> {
    const status = this.#publisher.status
    if (status !== 'ready') {
      throw unavailable(
        `Redis is unreachable (connection ${status}); the control message was not sent`,
      )
    }
    const payload = JSON.stringify({ origin: this.#origin, ...message })
    return this.#publisher.publish(this.#channel, payload).then(
      () => {
        this.#counters.controlSent++
      },
      (cause: unknown) => {
        throw commandError(cause, 'sending a control message')
      },
    )
  }

  /** Closes the listening connection. */
  async close(): Promise<void> {
    const subscriber = this.#subscriber
    if (subscriber === undefined) return
    subscriber.off('ready', this.#onReady)
    subscriber.off('message', this.#onMessage)
    this.#listening = false
    await quit(subscriber, false)
  }

  readonly #onReady = (): void => {
    this.#subscribing = this.#subscribe()
    this.#subscribing.catch(ignore)
  }

  #subscribe(): Promise<void> {
    return this.#subscriber!.subscribe(this.#channel).then(
      () => {
        this.#listening = true
      },
      (cause: unknown) => {
        const error = commandError(cause, `subscribing to "${this.#channel}"`)
        // A lost connection is reported by the stream reader; a refusal (an ACL, say) only here.
        if (error.code === 'TRANSPORT_ERROR' && !this.#reportedRefused) {
          this.#reportedRefused = true
          this.#sink?.error(error)
        }
        throw error
      },
    )
  }

  readonly #onMessage = (channel: string, payload: string): void => {
    if (channel !== this.#channel) return
    let decoded: unknown
    try {
      decoded = JSON.parse(payload)
    } catch {
      decoded = undefined
    }
    if (typeof decoded === 'object' && decoded !== null) {
      if ((decoded as { origin?: unknown }).origin === this.#origin) return
    }
    const message = asControlMessage(decoded)
    if (message === undefined) {
      this.#counters.controlSkipped++
      if (this.#reportedMalformed) return
      this.#reportedMalformed = true
      this.#sink?.error(
        new SSEError(
          'TRANSPORT_ERROR',
          `@sse/redis: skipped a message on "${this.#channel}" that is not a control message of @sse/redis (further ones are only counted, in stats().controlSkipped)`,
        ),
      )
      return
    }
    this.#counters.controlReceived++
    this.#sink?.control(message)
  }
}
