/** Stable machine-readable codes carried by every {@link SSETestError}. */
export type SSETestErrorCode =
  /** A wait (response head, `take`, `until`, `waitFor`, `ended`) outlasted its `timeout`. */
  | 'TEST_TIMEOUT'
  /** The stream ended or was closed before `take`, `until` or `waitFor` was satisfied. */
  | 'TEST_STREAM_ENDED'
  /** The request failed before a response head arrived (refused, reset, aborted). */
  | 'TEST_REQUEST_FAILED'
  /** A line of the event stream grew past `maxLineLength` (`openStream` closes the stream). */
  | 'TEST_LINE_TOO_LONG'
  /** `openStream` was given something it cannot open a stream against. */
  | 'INVALID_TEST_TARGET'

/**
 * What the test kit throws when a stream does not do what the test waits for. Check `code`, never
 * the message. (Bad options are `SSEError`s `INVALID_OPTION` from `@sse/core`, as everywhere else.)
 *
 * @example
 * try { await stream.take(1) } catch (err) {
 *   if (err instanceof SSETestError && err.code === 'TEST_TIMEOUT') ...
 * }
 */
export class SSETestError extends Error {
  override readonly name = 'SSETestError'
  readonly code: SSETestErrorCode

  constructor(code: SSETestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
