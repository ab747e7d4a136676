/**
 * `@sse/core/testing`: open an event stream against your server, app or URL in a test, and read
 * it: parsed events with `take()`, `until()` and `for await`, the status and headers, the exact
 * bytes, `reconnect()` with `Last-Event-ID`. Works with any test runner; no dependencies.
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
} from './testing/eventStreamParser.js'
export { openStream } from './testing/openStream.js'
export { closeStreams, type TestStream } from './testing/testStream.js'
export type {
  FastifyLike,
  OpenStreamOptions,
  ServerSentEvent,
  StreamTarget,
  TestStreamState,
} from './testing/types.js'
