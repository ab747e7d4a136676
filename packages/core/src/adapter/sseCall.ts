import type { BrokerStreamOptions } from '../options/brokerOptions.js'
import { SSEError } from '../sseError.js'
import type { SSESourceValue } from '../stream/pipeSource.js'
import type { SSEStream } from '../stream/sseStream.js'

/** What `sse()` can stream from: each value is sent as an event (a string becomes `data`). */
export type StreamSource = AsyncIterable<SSESourceValue> | Iterable<SSESourceValue>

/**
 * The `sse()` method of the framework adapters (`reply.sse()`, `res.sse()`): the same inputs, the
 * same types and the same errors in every adapter.
 */
export interface SSEMethod {
  /**
   * Answers the request with an event stream subscribed to `options.topics` (none: the stream is
   * for your own `send()` calls), and returns it. Refusals (a bad topic, `authorize`,
   * `maxConnections`) answer with a plain status instead.
   *
   * @example reply.sse({ topics: ['notifications', `user:${id}`] })
   */
  (options?: BrokerStreamOptions): SSEStream
  /**
   * Sends every value of `source` (an event, or a string sent as `data`) and ends the stream when
   * the source ends; `options.topics` also subscribes it to topics meanwhile.
   *
   * @example res.sse(progressOf(job), { retry: 1000 })
   */
  (source: StreamSource, options?: BrokerStreamOptions): SSEStream
}

/** An `sse()` call, read by {@link readSSECall}. */
export interface SSECall {
  readonly source: StreamSource | undefined
  readonly options: BrokerStreamOptions | undefined
}

function isStreamSource(value: unknown): value is StreamSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
  )
}

function isOptions(value: unknown): value is BrokerStreamOptions | undefined {
  return (
    value === undefined || (typeof value === 'object' && value !== null && !isStreamSource(value))
  )
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return 'a string'
  if (isStreamSource(value)) return 'an iterable'
  return typeof value
}

/**
 * Reads the arguments of an adapter's `sse()` ({@link SSEMethod}): options, or a source and
 * options. Anything else is a programming error: an {@link SSEError} `INVALID_OPTION` prefixed with
 * `packageName`. What the options hold is checked when the stream opens.
 */
export function readSSECall(packageName: string, first: unknown, second: unknown): SSECall {
  if (isStreamSource(first)) {
    if (isOptions(second)) return { source: first, options: second }
    throw new SSEError(
      'INVALID_OPTION',
      `${packageName}: sse(source, options) takes stream options second, got ${describe(second)}`,
    )
  }
  if (isOptions(first) && second === undefined) return { source: undefined, options: first }
  throw new SSEError(
    'INVALID_OPTION',
    `${packageName}: sse() takes stream options, or an (async) iterable and stream options, got ${describe(first)}${second === undefined ? '' : ` and ${describe(second)}`}`,
  )
}
