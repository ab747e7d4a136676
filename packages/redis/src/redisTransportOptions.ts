import { SSEError } from '@sse/core'
import { createOptionsValidator, type OptionsValidator } from '@sse/core/kit'
import type { Cluster, Redis } from 'ioredis'

/** Options of `redisTransport()`. */
export interface RedisTransportOptions {
  /**
   * Where Redis is (`redis://` or `rediss://`, with credentials and database if needed). The
   * transport opens three connections there (publishing and replays, the stream reader, control
   * messages) and closes them on `broker.close()`.
   * Give either `url` or `client`.
   * @default 'redis://127.0.0.1:6379'
   * @example redisTransport({ url: process.env.REDIS_URL })
   */
  url?: string
  /**
   * An ioredis client to publish and replay through (its options, TLS, Sentinel and all, apply):
   * a `Redis`, or a `Cluster` for Redis Cluster. On a Cluster, the single-stream layout's keys
   * share a hash tag (`{<keyPrefix>}:events`, `{<keyPrefix>}:head`), so one master carries it all;
   * `partitions` spreads the topics over the masters. The transport also opens duplicates of it, for its blocking readers and for
   * control messages (`broker.disconnect()`), and closes them itself. The client stays open on
   * `broker.close()` unless `closeClient` is set.
   * @example redisTransport({ client: new Cluster([{ host: '10.0.0.1', port: 6379 }]), partitions: 3 })
   */
  client?: Redis | Cluster
  /**
   * Quit `client` on `broker.close()`.
   * @default false
   */
  closeClient?: boolean
  /**
   * Prefix of the transport's keys: `<keyPrefix>:events` (the stream) and `<keyPrefix>:head`.
   * Brokers that share a prefix share events and history; give each app its own.
   * @default 'sse'
   */
  keyPrefix?: string
  /**
   * Stream keys the topics are spread over (1 to 16): the partitioned layout, where each topic has
   * a stream of its own in one partition, each instance reads only the topics its clients want, and
   * history is kept per topic (`topicHistory`). On Redis Cluster the partitions' hash tags land on
   * different masters. Without this option (or with 1), `topicHistory` or `maxTopics`, the
   * transport keeps today's layout: one stream for every topic, with ids that are stream ids.
   * @default 1
   */
  partitions?: number
  /**
   * Partitioned layout: events of each topic a reconnecting client can replay, however busy the
   * other topics are; a client further behind on a topic gets the reset event instead.
   * @default 100
   */
  topicHistory?: number
  /**
   * Partitioned layout: topics that keep history, across all partitions. Past it, a partition drops
   * the history of the topics published to least recently. With `topicHistory` and
   * `maxReaderLag`, this bounds what the transport keeps in Redis (see the README).
   * @default 10000
   */
  maxTopics?: number
  /**
   * Single-stream layout: events (all topics together) a reconnecting client can replay with
   * `Last-Event-ID`; a client further behind gets the reset event instead.
   * @default 1000
   */
  historySize?: number
  /**
   * Events a stream keeps beyond the history, so that an instance whose reader falls behind (a
   * burst of publishes, a busy event loop, a network blip) still reads every event. A stream is
   * trimmed approximately to `historySize + maxReaderLag` entries (per topic in the partitioned
   * layout: `topicHistory + maxReaderLag`; `MAXLEN ~`: Redis drops old entries in whole blocks of
   * about 100). A reader further behind misses events: it counts them (`stats().missed`) and
   * reports them to the broker's `onError`.
   * @default 10000 (single stream), 1000 (partitioned, per topic)
   */
  maxReaderLag?: number
}

/** JSON Schema properties of {@link RedisTransportOptions}. */
export const redisTransportOptionsProperties = {
  url: { type: 'string', minLength: 1 },
  client: {
    methods: ['duplicate', 'evalsha', 'eval', 'script', 'xrangeBuffer', 'quit', 'disconnect'],
  },
  closeClient: { type: 'boolean' },
  keyPrefix: { type: 'string', minLength: 1 },
  partitions: { type: 'integer', minimum: 1, maximum: 16 },
  topicHistory: { type: 'integer', minimum: 1 },
  maxTopics: { type: 'integer', minimum: 1 },
  historySize: { type: 'integer', minimum: 1 },
  maxReaderLag: { type: 'integer', minimum: 0 },
} as const

const validator: OptionsValidator<RedisTransportOptions> = createOptionsValidator('@sse/redis', {
  type: 'object',
  additionalProperties: false,
  properties: redisTransportOptionsProperties,
})

/**
 * Checks the options of `redisTransport()` and throws an {@link SSEError} `INVALID_OPTION`
 * naming the bad one.
 */
export function assertRedisTransportOptions(
  options: unknown,
): asserts options is RedisTransportOptions {
  validator.assert(options)
  const { url, client } = options
  if (url !== undefined && client !== undefined) {
    throw new SSEError(
      'INVALID_OPTION',
      '@sse/redis: give either option "url" or option "client", not both',
    )
  }
  if (options.historySize !== undefined && partitioned(options)) {
    throw new SSEError(
      'INVALID_OPTION',
      '@sse/redis: option "historySize" belongs to the single-stream layout; the partitioned layout (partitions, topicHistory or maxTopics) keeps history per topic: use "topicHistory"',
    )
  }
  const { maxTopics, partitions = 1 } = options
  if (maxTopics !== undefined && maxTopics < partitions) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/redis: option "maxTopics" (${maxTopics}) must be at least "partitions" (${partitions}): each partition keeps maxTopics / partitions topics with history`,
    )
  }
  if (partitioned(options) && options.keyPrefix !== undefined && /[{}]/.test(options.keyPrefix)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/redis: option "keyPrefix" cannot hold "{" or "}" in the partitioned layout (its keys carry hash tags), got ${JSON.stringify(options.keyPrefix)}`,
    )
  }
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/redis: option "url" must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`,
    )
  }
}

/** Whether the options ask for the partitioned layout (a topic stream per topic, in partitions). */
export function partitioned(options: RedisTransportOptions): boolean {
  return (
    (options.partitions !== undefined && options.partitions > 1) ||
    options.topicHistory !== undefined ||
    options.maxTopics !== undefined
  )
}
