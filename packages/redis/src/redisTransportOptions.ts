import { SSEError } from '@sse/core'
import { createOptionsValidator, type OptionsValidator } from '@sse/core/kit'
import type { Redis } from 'ioredis'

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
   * An ioredis client to publish and replay through (its options, TLS, Sentinel and all, apply).
   * The transport also opens two duplicates of it, for the blocking stream reader and for control
   * messages (`broker.disconnect()`), and closes them itself. The client stays open on `broker.close()` unless `closeClient` is set.
   */
  client?: Redis
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
   * Events (all topics together) a reconnecting client can replay with `Last-Event-ID`; a client
   * further behind gets the reset event instead.
   * @default 1000
   */
  historySize?: number
  /**
   * Events the stream keeps beyond `historySize`, so that an instance whose reader falls behind
   * (a burst of publishes, a busy event loop, a network blip) still reads every event. The stream
   * is trimmed approximately to `historySize + maxReaderLag` entries (`MAXLEN ~`: Redis drops old
   * entries in whole blocks of about 100). A reader further behind misses events: it counts them
   * (`stats().missed`) and reports them to the broker's `onError`.
   * @default 10000
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
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/redis: option "url" must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`,
    )
  }
}
