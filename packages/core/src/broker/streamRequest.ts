import type {
  BrokerStreamOptions,
  SnapshotFunction,
  StreamLifetimeOptions,
} from '../options/brokerOptions.js'
import { brokerStreamOptionsValidator } from '../options/options.js'
import { overrideLifetime, type StreamLifetime } from '../options/streamLifetime.js'
import { kindOf, SSEError } from '../sseError.js'
import type { SSEStreamOptions } from '../types.js'
import { readTopics } from '../wire/topics.js'

/** What one `broker.stream()` call asks for, its options read and checked once. */
export interface StreamRequest {
  readonly topics: readonly string[]
  readonly snapshot: SnapshotFunction | undefined
  /** The broker's stream defaults under this call's own stream options. */
  readonly streamOptions: SSEStreamOptions
  readonly tags: readonly string[] | undefined
  readonly lifetime: StreamLifetime
}

/** A `broker.stream()` call to answer with a refusal: 400 for bad topics, 500 for bad options. */
export interface StreamRefusal {
  readonly status: 400 | 500
  readonly message: string
  readonly error: SSEError
  /** The broker's stream defaults: the refused stream is still made, to answer the request. */
  readonly streamOptions: SSEStreamOptions
}

/** The broker's defaults a stream request starts from. */
export interface StreamDefaults {
  readonly stream: SSEStreamOptions
  readonly lifetimeOptions: StreamLifetimeOptions
  readonly lifetime: StreamLifetime
  readonly maxTopics: number
}

/**
 * Reads the options of one `broker.stream()` call over the broker's `defaults`. Anything wrong is a
 * {@link StreamRefusal} rather than a throw: options are often built from the request, and a bad
 * value must not throw into a request handler. Invalid topics, or more than `maxTopics`, are 400;
 * invalid options 500 (`INVALID_OPTION`).
 */
export function readStreamRequest(
  options: BrokerStreamOptions | undefined,
  defaults: StreamDefaults,
): StreamRequest | StreamRefusal {
  const asked = readOptions(options, defaults)
  if (asked instanceof SSEError) {
    const message = 'The event stream could not be opened.'
    return { status: 500, message, error: asked, streamOptions: defaults.stream }
  }
  const topics = readTopics(asked.topics, defaults.maxTopics)
  if (topics instanceof SSEError) {
    const message = topics.code === 'TOO_MANY_TOPICS' ? 'Too many topics.' : 'Invalid topic.'
    return { status: 400, message, error: topics, streamOptions: asked.streamOptions }
  }
  return { ...asked, topics }
}

function readOptions(
  options: BrokerStreamOptions | undefined,
  defaults: StreamDefaults,
): (Omit<StreamRequest, 'topics'> & { topics: unknown }) | SSEError {
  if (options === undefined) {
    return {
      topics: undefined,
      snapshot: undefined,
      streamOptions: defaults.stream,
      tags: undefined,
      lifetime: defaults.lifetime,
    }
  }
  try {
    if (typeof options !== 'object' || options === null) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/core: stream options must be an object, got ${kindOf(options)}`,
      )
    }
    const { topics, snapshot, ...overrides } = options
    if (snapshot !== undefined && typeof snapshot !== 'function') {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/core: option "snapshot" must be a function, got ${kindOf(snapshot)}`,
      )
    }
    let streamOptions = defaults.stream
    let lifetime = defaults.lifetime
    let tags: readonly string[] | undefined
    if (Object.keys(overrides).length > 0) {
      brokerStreamOptionsValidator.assert(overrides)
      const { tags: givenTags, maxDuration, maxDurationJitter, ...own } = overrides
      tags = givenTags
      if (maxDuration !== undefined || maxDurationJitter !== undefined) {
        lifetime = overrideLifetime(defaults.lifetimeOptions, overrides)
      }
      if (Object.keys(own).length > 0) streamOptions = { ...defaults.stream, ...own }
    }
    return { topics, snapshot, streamOptions, tags, lifetime }
  } catch (cause) {
    return cause instanceof SSEError ? cause : new SSEError('INVALID_OPTION', String(cause))
  }
}
