import type {
  AuthorizeHook,
  BrokerOptions,
  StreamLifetimeOptions,
} from '../options/brokerOptions.js'
import { BROKER_DEFAULTS } from '../options/defaults.js'
import { brokerOptionsValidator } from '../options/options.js'
import { readLifetime, type StreamLifetime } from '../options/streamLifetime.js'
import { SSEError } from '../sseError.js'
import type { ReplayLimits, SSEStreamOptions, Transport } from '../types.js'

/** A broker's options, checked once, with the defaults applied. */
export interface BrokerSettings {
  /** Stream options given to the broker: the defaults of every stream. */
  readonly streamDefaults: SSEStreamOptions
  readonly lifetimeOptions: StreamLifetimeOptions
  readonly lifetime: StreamLifetime
  readonly maxConnections: number
  readonly maxTopicsPerStream: number
  readonly replayLimits: ReplayLimits
  readonly defaultEventName: 'topic' | 'none'
  readonly resetEvent: string
  readonly snapshotTimeout: number
  readonly authorize: AuthorizeHook | undefined
  readonly onError: ((error: SSEError) => void) | undefined
  /** The transport given, if any. */
  readonly transport: Transport | undefined
  /** History options for the in-memory transport (only those given). */
  readonly history: Readonly<Record<string, number>>
}

/**
 * Checks `options` (an {@link SSEError} `INVALID_OPTION` names the bad key) and reads them with
 * their defaults. History options next to a `transport` are refused: they belong to the transport.
 */
export function readBrokerSettings(options: BrokerOptions): BrokerSettings {
  brokerOptionsValidator.assert(options)
  const {
    historySize,
    historyMaxAge,
    historyMaxBytes,
    maxConnections,
    maxTopicsPerStream,
    maxReplayEvents,
    maxReplayBytes,
    defaultEventName,
    resetEvent,
    snapshotTimeout,
    authorize,
    transport,
    onError,
    maxDuration,
    maxDurationJitter,
    ...streamDefaults
  } = options
  const history: Record<string, number> = {}
  for (const [key, value] of Object.entries({ historySize, historyMaxAge, historyMaxBytes })) {
    if (value === undefined) continue
    if (transport !== undefined) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/core: option "${key}" configures the in-memory transport; with "transport", give history options to the transport`,
      )
    }
    history[key] = value
  }
  const lifetimeOptions: StreamLifetimeOptions = {
    ...(maxDuration === undefined ? {} : { maxDuration }),
    ...(maxDurationJitter === undefined ? {} : { maxDurationJitter }),
  }
  return {
    streamDefaults,
    lifetimeOptions,
    lifetime: readLifetime(lifetimeOptions),
    maxConnections: maxConnections ?? BROKER_DEFAULTS.maxConnections,
    maxTopicsPerStream: maxTopicsPerStream ?? BROKER_DEFAULTS.maxTopicsPerStream,
    replayLimits: {
      maxEvents: maxReplayEvents ?? BROKER_DEFAULTS.maxReplayEvents,
      maxBytes: maxReplayBytes ?? BROKER_DEFAULTS.maxReplayBytes,
    },
    defaultEventName: defaultEventName ?? BROKER_DEFAULTS.defaultEventName,
    resetEvent: resetEvent ?? BROKER_DEFAULTS.resetEvent,
    snapshotTimeout: snapshotTimeout ?? BROKER_DEFAULTS.snapshotTimeout,
    authorize,
    onError,
    transport,
    history,
  }
}
