/**
 * `@sse/testing`: open an event stream against your server, app or URL in a test, and read
 * it: parsed events with `take()`, `until()` and `for await`, the status and headers, the exact
 * bytes, `reconnect()` with `Last-Event-ID`. Works with any test runner. Authors of transports find
 * the transport contract in `@sse/testing/transport`.
 *
 * @example
 * const stream = await openStream(app, '/events?topics=news')
 * await broker.publish('news', 'hello')
 * const [event] = await stream.take(1)
 * expect(event?.data).toBe('hello')
 * @packageDocumentation
 */
export {
  type EventStreamHandlers,
  EventStreamParser,
  type EventStreamParserOptions,
} from './client/eventStreamParser.js'
export { openStream } from './client/openStream.js'
export { closeStreams, TestStream } from './client/testStream.js'
export type {
  FastifyLike,
  OpenStreamOptions,
  ServerSentEvent,
  StreamTarget,
  TestStreamState,
} from './client/types.js'
export { SSETestError, type SSETestErrorCode } from './sseTestError.js'
