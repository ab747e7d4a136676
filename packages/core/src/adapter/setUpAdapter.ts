import { type Broker, createBroker } from '../broker/broker.js'
import type { BrokerOptions, StreamLifetimeOptions } from '../options/brokerOptions.js'
import {
  brokerOptionsProperties,
  createOptionsValidator,
  lifetimeOptionsProperties,
  type OptionsValidator,
  streamOptionsProperties,
} from '../options/options.js'
import { readLifetime } from '../options/streamLifetime.js'
import { SSEError } from '../sseError.js'
import type { StreamGroup } from '../subscribers/streamGroup.js'
import type { SSEStreamOptions } from '../types.js'

/** Adapter options when the adapter creates its own broker: every {@link BrokerOptions} key. */
export interface OwnBrokerOptions extends BrokerOptions {
  broker?: undefined
}

/**
 * Adapter options on a broker you created. Only stream options may come with it; they are the
 * defaults of the streams the adapter opens. Broker options belong to `createBroker()`.
 */
export type SharedBrokerOptions = SSEStreamOptions &
  StreamLifetimeOptions & {
    /**
     * A broker to use instead of creating one, e.g. a Redis-backed broker shared with other apps or
     * background jobs. Shutting the adapter down ends the streams it opened and leaves this broker
     * open: it stays yours to close.
     */
    broker: Broker
  } & {
    [TKey in Exclude<
      keyof BrokerOptions,
      keyof SSEStreamOptions | keyof StreamLifetimeOptions
    >]?: never
  }

/** Options of a framework adapter: broker options, or `{ broker }` to use a broker you created. */
export type AdapterOptions = OwnBrokerOptions | SharedBrokerOptions

/** What an adapter works with, from {@link setUpAdapter}. */
export interface AdapterSetup {
  /** The broker behind `request.broker`. */
  readonly broker: Broker
  /** `true` when the adapter created the broker, and so must close it on shutdown. */
  readonly ownsBroker: boolean
  /** The adapter's streams, with the stream defaults given next to a shared broker. */
  readonly group: StreamGroup
}

const validators = new Map<string, OptionsValidator<AdapterOptions>>()

function validatorFor(packageName: string): OptionsValidator<AdapterOptions> {
  let validator = validators.get(packageName)
  if (validator === undefined) {
    validator = createOptionsValidator<AdapterOptions>(packageName, {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...brokerOptionsProperties,
        broker: { methods: ['publish', 'stream', 'group', 'close'] },
      },
    })
    validators.set(packageName, validator)
  }
  return validator
}

/**
 * Validates a framework adapter's options and gives it its broker and stream group: the broker
 * passed in (stream options next to it become the group's defaults), or a new one built from the
 * options. Throws an {@link SSEError} `INVALID_OPTION` prefixed with `packageName` that names the
 * bad key, including a broker option given together with `broker`.
 */
export function setUpAdapter(packageName: string, options: unknown): AdapterSetup {
  const validator: OptionsValidator<AdapterOptions> = validatorFor(packageName)
  validator.assert(options)
  readLifetime(options, packageName)
  const { broker: shared, ...rest } = options
  if (shared === undefined) {
    const broker = createBroker(rest)
    return { broker, ownsBroker: true, group: broker.group() }
  }
  const defaults: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue
    if (!(key in streamOptionsProperties) && !(key in lifetimeOptionsProperties)) {
      throw new SSEError(
        'INVALID_OPTION',
        `${packageName}: option "${key}" cannot be combined with "broker"; give it to createBroker() instead`,
      )
    }
    defaults[key] = value
  }
  // Checked above, under this adapter's name: the broker need not check them again.
  const group = shared.group(
    Object.keys(defaults).length > 0
      ? (defaults as SSEStreamOptions & StreamLifetimeOptions)
      : undefined,
    true,
  )
  return { broker: shared, ownsBroker: false, group }
}

/**
 * Takes an adapter's own options (`ownKeys`) out of the options it was given and checks them with
 * `validator`; the rest is for {@link setUpAdapter}. `ignored` keys (the framework's own, which
 * reach the adapter too) are dropped. Anything but a plain object is passed on as it is, for
 * `setUpAdapter` to refuse. Throws an {@link SSEError} `INVALID_OPTION` naming a bad own key.
 */
export function splitAdapterOptions<TOwn extends object>(
  options: unknown,
  ownKeys: readonly (keyof TOwn & string)[],
  validator: OptionsValidator<TOwn>,
  ignored: readonly string[] = [],
): { own: Partial<TOwn>; rest: unknown } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return { own: {}, rest: options }
  }
  const rest: Record<string, unknown> = { ...options }
  for (const key of ignored) delete rest[key]
  const own: Record<string, unknown> = {}
  for (const key of ownKeys) {
    if (!(key in rest)) continue
    own[key] = rest[key]
    delete rest[key]
  }
  validator.assert(own)
  return { own, rest }
}
