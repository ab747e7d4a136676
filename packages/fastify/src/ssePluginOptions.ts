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

/** Options of a plugin that creates its own broker: every {@link BrokerOptions} key. */
export interface OwnBrokerOptions extends BrokerOptions {
  broker?: undefined
}

/**
 * Options of a plugin on a broker you created. Only stream options may come with it; they are the
 * defaults of the streams `reply.sse()` opens. Broker options belong to `createBroker()`.
 */
export type SharedBrokerOptions = SSEStreamOptions & {
  /**
   * A broker to use instead of creating one, for example a Redis-backed broker shared with other
   * apps or background workers. `app.close()` ends the streams this plugin opened but leaves this
   * broker open: it stays yours to close.
   */
  broker: Broker
} & { [TKey in Exclude<keyof BrokerOptions, keyof SSEStreamOptions>]?: never }

/** Options of `ssePlugin`: broker options, or `{ broker }` to use a broker you created. All optional. */
export type SSEPluginOptions = OwnBrokerOptions | SharedBrokerOptions

/** Keys Fastify's `register()` itself reads; they reach the plugin's options too. */
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

const validator: OptionsValidator<SSEPluginOptions> = createOptionsValidator<SSEPluginOptions>(
  '@sse/fastify',
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...brokerOptionsProperties,
      broker: { methods: ['publish', 'stream', 'group', 'close'] },
    },
  },
)

/**
 * Checks the options given to `register()` and returns them without Fastify's own keys. Throws an
 * {@link SSEError} `INVALID_OPTION` naming the bad key, including a broker option given together
 * with `broker`.
 */
export function pluginOptions(options: unknown): SSEPluginOptions {
  let own = options
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) {
    const copy: Record<string, unknown> = { ...options }
    for (const key of REGISTER_KEYS) delete copy[key]
    own = copy
  }
  validator.assert(own)
  const { broker, ...rest } = own as Record<string, unknown>
  if (broker === undefined) return own
  for (const key of Object.keys(rest)) {
    if (rest[key] !== undefined && !(key in streamOptionsProperties)) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/fastify: option "${key}" cannot be combined with "broker"; give it to createBroker() instead`,
      )
    }
  }
  return own
}
