import type {
  ControlMessage,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from '@sse/core/kit'
import { type Cluster, Redis } from 'ioredis'
import { CONNECTION_OPTIONS } from './connection.js'
import { TopicStreamsTransport } from './partitioned/topicStreamsTransport.js'
import {
  assertRedisTransportOptions,
  partitioned,
  type RedisTransportOptions,
} from './redisTransportOptions.js'
import { SingleStreamTransport } from './singleStreamTransport.js'

export type { RedisTransportOptions } from './redisTransportOptions.js'

/** Counters of one transport (one instance), from {@link RedisTransport.stats}. */
export interface RedisTransportStats {
  /** Whether every connection is up, the readers are following and control messages are heard. */
  connected: boolean
  /**
   * This instance's position: the id of the last stream entry read (`'0-0'`: none yet) in the
   * single-stream layout, its cursor in the partitioned one; `undefined` before start.
   */
  position: string | undefined
  /** Partitions this instance reads now (the single stream counts as one). */
  partitionsRead: number
  /** Topics this instance reads now (partitioned layout; 0 in the single-stream one, which reads all). */
  topicsRead: number
  /** Events this instance added to Redis. */
  published: number
  /** Entries read from Redis and handed to this instance's broker. */
  delivered: number
  /** Entries not written by `@sse/redis` (or garbled) that were skipped, live or during replays. */
  skipped: number
  /** Events trimmed from a stream before this instance's reader got to them. */
  missed: number
  /** Times a stream had lost what this instance read (Redis lost its data, or history was evicted). */
  resets: number
  /** Control messages (`broker.disconnect()`) this instance sent to the others. */
  controlSent: number
  /** Control messages from other instances handed to this instance's broker. */
  controlReceived: number
  /** Messages on the control channel that were not control messages of `@sse/redis`, skipped. */
  controlSkipped: number
}

function ignore(): void {}

/**
 * Carries events between broker instances through Redis Streams, which are also the shared
 * history, so a client can resume on any instance. Two layouts:
 * - **single stream** (the default): every topic in one stream, `<keyPrefix>:events`; event ids are
 *   stream ids; every instance reads every event; history is `historySize` events of all topics.
 * - **partitioned** (`partitions` above 1, `topicHistory` or `maxTopics`): a stream per
 *   topic, spread over partitions whose hash tags balance Redis Cluster's slots; each instance
 *   reads only the topics its streams want; history is `topicHistory` events per topic; an event
 *   id is a cursor with a position per partition.
 *
 * `publish` runs a Lua script that assigns the id and `XADD`s the event. While Redis is unreachable
 * it fails with `TRANSPORT_UNAVAILABLE`; `broker.publish()` then returns a rejected promise (never
 * throws), counts the failure and reports it to `onError` once per outage. Readers follow with
 * `XREAD BLOCK` on their own connections; `replay` reads with `XRANGE`, or answers a reset.
 * `sendControl` carries `broker.disconnect()` over Redis pub/sub on `<keyPrefix>:control`.
 *
 * @example
 * const broker = createBroker({ transport: redisTransport({ url: process.env.REDIS_URL }) })
 * await broker.ready
 */
export class RedisTransport implements Transport {
  readonly #layout: SingleStreamTransport | TopicStreamsTransport
  /**
   * Partitioned layout only: starts reading `topics` where this instance does not read them yet,
   * and resolves once it does (and has read up to `lastEventId`). The single stream reads
   * everything: without it, the broker skips the step.
   */
  readonly follow?: (
    topics: readonly string[],
    lastEventId: string | undefined,
  ) => void | Promise<void>
  /** Partitioned layout only: a stream on `topics` ended; topics nobody here follows stop being read. */
  readonly unfollow?: (topics: readonly string[]) => void

  /** Prefer {@link redisTransport}. Throws an `SSEError` `INVALID_OPTION` for bad options. */
  constructor(options: RedisTransportOptions = {}) {
    assertRedisTransportOptions(options)
    const { url, closeClient = false, keyPrefix = 'sse' } = options
    let client: Redis | Cluster | undefined = options.client
    let quitClient = closeClient
    if (client === undefined) {
      client = new Redis(url ?? 'redis://127.0.0.1:6379', CONNECTION_OPTIONS)
      // Outages are reported once by the readers; the connection itself retries quietly.
      client.on('error', ignore)
      quitClient = true
    }
    const { maxReaderLag } = options
    if (partitioned(options)) {
      const layout = new TopicStreamsTransport({
        client,
        quitClient,
        keyPrefix,
        partitions: options.partitions ?? 1,
        topicHistory: options.topicHistory ?? 100,
        maxTopics: options.maxTopics ?? 10_000,
        maxReaderLag: maxReaderLag ?? 1000,
      })
      this.#layout = layout
      this.follow = (topics, lastEventId) => layout.follow(topics, lastEventId)
      this.unfollow = (topics) => layout.unfollow(topics)
    } else {
      this.#layout = new SingleStreamTransport({
        // A Cluster client serves the single stream through the same commands.
        client: client as Redis,
        quitClient,
        keyPrefix,
        historySize: options.historySize ?? 1000,
        maxReaderLag: maxReaderLag ?? 10_000,
      })
    }
  }

  /**
   * Connects and gets ready to read. Resolves when ready; rejects with `TRANSPORT_UNAVAILABLE` if
   * Redis cannot be reached, and keeps trying in the background (the broker reports the rejection
   * to `onError`; publishing works once Redis is reachable).
   */
  start(sink: TransportSink): Promise<void> {
    return this.#layout.start(sink)
  }

  /**
   * Adds the event to Redis and resolves to its id. Throws `TRANSPORT_UNAVAILABLE` at once while
   * Redis is unreachable; the promise rejects with it if the connection drops before Redis answers
   * (the event may then have been published or not). A publish made while the transport is still
   * starting waits for the start. Publishes that succeed get increasing ids in call order (per
   * partition, in the partitioned layout).
   */
  publish(message: OutgoingMessage): Promise<string> {
    return this.#layout.publish(message)
  }

  /**
   * The events after `lastEventId` on `topics`, up to what this instance has delivered live (later
   * ones reach the client live), or a reset: when `lastEventId` is not one of this transport's ids,
   * is too old for the history, or the replay would pass `limits` (`capped: true`).
   */
  replay(
    topics: readonly string[],
    lastEventId: string,
    limits?: ReplayLimits,
  ): ReplayResult | Promise<ReplayResult> {
    return this.#layout.replay(topics, lastEventId, limits ?? NO_LIMITS)
  }

  /** This instance's position, as an id to resume from; no round trip. `undefined` before start. */
  cursor(): string | undefined {
    return this.#layout.cursor()
  }

  /**
   * Publishes `message` on `<keyPrefix>:control` (Redis `PUBLISH`: never history) for the other
   * instances. Throws `TRANSPORT_UNAVAILABLE` at once while Redis is unreachable or the transport
   * is closed; rejects if the connection drops before Redis answers.
   */
  sendControl(message: ControlMessage): Promise<void> {
    return this.#layout.sendControl(message)
  }

  /** Closes the connections the transport opened (and `client` if `closeClient` is set). */
  close(): Promise<void> {
    return this.#layout.close()
  }

  /** This instance's counters. */
  stats(): RedisTransportStats {
    const { counters, connected, position, partitionsRead, topicsRead } = this.#layout.state()
    return { connected, position, partitionsRead, topicsRead, ...counters }
  }
}

const NO_LIMITS: ReplayLimits = {
  maxEvents: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
}

/**
 * Creates a {@link RedisTransport} for `createBroker({ transport })`. Throws an `SSEError`
 * `INVALID_OPTION` naming a bad option.
 *
 * @example
 * import { createBroker } from '@sse/core'
 * import { redisTransport } from '@sse/redis'
 *
 * const broker = createBroker({ transport: redisTransport({ url: 'redis://127.0.0.1:6379' }) })
 */
export function redisTransport(options?: RedisTransportOptions): RedisTransport {
  return new RedisTransport(options)
}
