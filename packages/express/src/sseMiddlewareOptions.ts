import {
  type Broker,
  type BrokerOptions,
  brokerOptionsProperties,
  createOptionsValidator,
  type OptionsValidator,
  SSEError,
  type SSEStreamOptions,
  streamOptionsProperties,
} from '@sse/core'

/** Options of a middleware that creates its own broker: every {@link BrokerOptions} key. */
export interface OwnBrokerOptions extends BrokerOptions {
  broker?: undefined
}

/**
 * Options of a middleware on a broker you created. Only stream options may come with it; they are
 * the defaults of the streams this middleware opens. Broker options belong to `createBroker()`.
 */
export type SharedBrokerOptions = SSEStreamOptions & {
  /**
   * A broker to share, for example between several apps or with background jobs. The middleware's
   * `close()` ends the streams it opened but leaves this broker open: it stays yours to close.
   */
  broker: Broker
} & { [TKey in Exclude<keyof BrokerOptions, keyof SSEStreamOptions>]?: never }

/** Options of {@link sseMiddleware}: broker options, or `{ broker }` to use a broker you created. */
export type SSEMiddlewareOptions = OwnBrokerOptions | SharedBrokerOptions

const validator: OptionsValidator<SSEMiddlewareOptions> =
  createOptionsValidator<SSEMiddlewareOptions>('@sse/express', {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...brokerOptionsProperties,
      broker: { methods: ['publish', 'stream', 'group', 'close'] },
    },
  })

/**
 * Checks `options` and throws an {@link SSEError} `INVALID_OPTION` naming the bad key, including a
 * broker option given together with `broker`.
 */
export function assertMiddlewareOptions(options: unknown): asserts options is SSEMiddlewareOptions {
  validator.assert(options)
  const { broker, ...rest } = options as Record<string, unknown>
  if (broker === undefined) return
  for (const key of Object.keys(rest)) {
    if (rest[key] !== undefined && !(key in streamOptionsProperties)) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/express: option "${key}" cannot be combined with "broker"; give it to createBroker() instead`,
      )
    }
  }
}
