/** Stable machine-readable codes carried by every {@link SSEError}. */
export type SSEErrorCode =
  /** An event name contains CR or LF. */
  | 'INVALID_EVENT_NAME'
  /** An event id contains CR, LF or NUL. */
  | 'INVALID_EVENT_ID'
  /** A `retry` value is not a non-negative integer. */
  | 'INVALID_RETRY'
  /** A comment or other event field has an unusable value. */
  | 'INVALID_EVENT'
  /** A topic is empty, too long, or contains CR, LF or NUL. */
  | 'INVALID_TOPIC'
  /** An option has the wrong type or an unknown key. */
  | 'INVALID_OPTION'
  /** The broker was closed; it accepts no more publishes or streams. */
  | 'BROKER_CLOSED'
  /** The transport cannot accept a publish right now (for example Redis is down). */
  | 'TRANSPORT_UNAVAILABLE'
  /** The transport failed while carrying out an operation. */
  | 'TRANSPORT_ERROR'
  /** The `authorize` hook threw, rejected, or answered something that is not a verdict (answered 500). */
  | 'AUTHORIZE_FAILED'
  /** An async iterable piped into a stream threw. */
  | 'SOURCE_FAILED'
  /** A stream asked for more topics than the broker's `maxTopicsPerStream` (answered 400). */
  | 'TOO_MANY_TOPICS'
  /** A stream's `snapshot` function threw or rejected (the reset event was sent instead). */
  | 'SNAPSHOT_FAILED'
  /** Writing a stream's status and headers failed, e.g. a header value Node refuses (answered 500). */
  | 'OPEN_FAILED'
  /** An `html` value has no usable `toString()`, or is an array that contains itself. */
  | 'INVALID_HTML_VALUE'

/**
 * The one error class of the `@sse/*` runtime packages (the test kit, `@sse/testing`, has its own:
 * `SSETestError`). Check `code`, never the message.
 *
 * @example
 * try { broker.publish('t', { event: 'a\nb' }) } catch (err) {
 *   if (err instanceof SSEError && err.code === 'INVALID_EVENT_NAME') ...
 * }
 */
export class SSEError extends Error {
  override readonly name = 'SSEError'
  readonly code: SSEErrorCode

  constructor(code: SSEErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** How an argument looks, for error messages: `null`, `an array`, or its `typeof`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'an array' : typeof value
}
