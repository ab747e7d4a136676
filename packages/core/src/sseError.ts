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
  /** `@sse/core/testing`: a wait (response head, `take`, `until`, `waitFor`, `ended`) outlasted its `timeout`. */
  | 'TEST_TIMEOUT'
  /** `@sse/core/testing`: the stream ended or was closed before `take`, `until` or `waitFor` was satisfied. */
  | 'TEST_STREAM_ENDED'
  /** `@sse/core/testing`: the request failed before a response head arrived (refused, reset, aborted). */
  | 'TEST_REQUEST_FAILED'
  /** `@sse/core/testing`: a line of the event stream grew past `maxLineLength` (`openStream` closes the stream). */
  | 'TEST_LINE_TOO_LONG'
  /** `@sse/core/testing`: `openStream` was given something it cannot open a stream against. */
  | 'INVALID_TEST_TARGET'

/**
 * The one error class of the `@sse/*` packages. Check `code`, never the message.
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
