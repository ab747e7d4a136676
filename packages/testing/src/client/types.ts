import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Http2Server, Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Server as NetServer } from 'node:net'

/** One event as the WHATWG "event stream interpretation" dispatches it. */
export interface ServerSentEvent {
  /** The `event:` field, or `undefined` when the event had none (an `EventSource` calls it `message`). */
  event: string | undefined
  /** The `data:` lines, joined with LF. */
  data: string
  /**
   * The `id:` field of this event's own lines, or `undefined` when it had none. (An `EventSource`
   * carries the last id over to later events; the stream's `lastEventId` is that one.)
   */
  id: string | undefined
}

/** A Fastify instance, as far as `openStream` needs it. */
export interface FastifyLike {
  readonly server: NetServer
  ready(): PromiseLike<unknown>
  listen(...args: never[]): unknown
}

/**
 * What `openStream` can open a stream against:
 * - an absolute `http:` or `https:` URL (string or `URL`) of a server that is already listening;
 * - an `http.Server`, `https.Server`, or `http2` server (plain or secure), used as is when listening,
 *   else listened on 127.0.0.1 on an ephemeral port and closed after;
 * - a request listener `(req, res)`, such as an Express app, served by a new `http.Server` for as
 *   long as a stream needs it;
 * - a Fastify instance, made ready and listened on 127.0.0.1 on an ephemeral port if it is not
 *   listening (`fastify.close()` stays yours to call).
 */
export type StreamTarget =
  | string
  | URL
  | Server
  | Http2Server
  | NetServer
  | FastifyLike
  | ((req: IncomingMessage, res: ServerResponse) => void)
  | ((req: Http2ServerRequest, res: Http2ServerResponse) => void)

/**
 * Where a {@link TestStream} stands:
 * - `open`: the response is still arriving;
 * - `ended`: the server ended the response cleanly;
 * - `cut`: the connection closed before the response ended (the server destroyed it, say; over
 *   HTTP/2, Node's client reports a stream the server destroyed as `ended`);
 * - `closed`: this client closed it (`close()`, a timeout, or the `signal`).
 */
export type TestStreamState = 'open' | 'ended' | 'cut' | 'closed'

/** How `openStream` asks and reads. */
export interface OpenStreamOptions {
  /** Request headers, added to `Accept: text/event-stream`. */
  headers?: Record<string, string>
  /** Sent as the `Last-Event-ID` header, and the stream's `lastEventId` until an event says otherwise. */
  lastEventId?: string
  /**
   * The longest line of the body the kit parses, in characters, its line ending left out. A longer
   * line closes the stream, and its waits (`take()`, `until()`, `waitFor()`, `ended()`, iterating)
   * reject with `TEST_LINE_TOO_LONG`: however long a line the server sends, the kit holds at most
   * this much of it. Lines are not parsed with `raw: true`.
   * @default 1_048_576 (1 MiB of ASCII)
   */
  maxLineLength?: number
  /**
   * The request method; `HEAD` is the usual other one.
   * @default 'GET'
   */
  method?: string
  /**
   * Parse nothing: the body is kept as bytes only (`bytes()`, `text()`), for exact wire assertions
   * on bodies that need not be valid event streams; `received` then counts chunks.
   * @default false
   */
  raw?: boolean
  /**
   * Keep what arrives: every event in `events`, every comment in `comments`, the whole body in
   * `bytes()`/`text()`. With `false` the stream only counts (`received`) and keeps the last 4 KiB of
   * text (and, while parsing, at most `maxLineLength` of the line being read): for streams of many
   * megabytes, where `take()`, `until()` and iterating are refused.
   * @default true
   */
  record?: boolean
  /**
   * Longest wait, in ms, for each of: the response head (and a refusal's body), `take()`,
   * `until()`, `waitFor()`, `ended()` and each step of iterating. A wait that outlasts it rejects
   * with `TEST_TIMEOUT` and closes the stream. The kit's timers are real ones, even under a test
   * runner's fake timers.
   * @default 5000
   */
  timeout?: number
  /** Aborting it closes the stream, as `close()` does. */
  signal?: AbortSignal
}
