import {
  type AuthorizeResult,
  type Broker,
  type BrokerStreamOptions,
  type OwnBrokerOptions,
  type SharedBrokerOptions,
  type SnapshotContext,
  SSEError,
  type SSEEvent,
  type SSERequest,
  type SSEResponse,
  type SSEStream,
  type StreamSource,
} from '@sse/core'
import { readSSECall, setUpAdapter } from '@sse/core/kit'
import { alreadySentResponse } from './internals/honoNodeSent.js'
import { honoNodeConnection } from './internals/honoNodeSocket.js'
import { type NodeBindings, readNodeBindings } from './nodeBindings.js'
import { RequestView, rememberWebRequest, webRequestOf } from './requestView.js'
import { ResponseBridge } from './responseBridge.js'
import { withRuntimeDefaults } from './runtimeDefaults.js'

const PACKAGE = '@sse/fetch'

/** Decides whether a `Request` may subscribe to `topics`; runs before any byte is written. */
export type FetchAuthorizeHook = (
  request: Request,
  topics: readonly string[],
) => AuthorizeResult | Promise<AuthorizeResult>

/** Options of {@link createSSE}: broker options, or `{ broker }` (plus stream defaults) to share one. */
export type FetchSSEOptions =
  | (Omit<OwnBrokerOptions, 'authorize'> & {
      /**
       * Decides per request whether it may subscribe to its topics: `true` admits; `false`, `null`
       * or `undefined` answer 403; `{ status, message? }` answers that status.
       */
      authorize?: FetchAuthorizeHook
    })
  | SharedBrokerOptions

/** What a Fetch stream's `snapshot` is called with: the `Request`, its topics and the cursor. */
export interface FetchSnapshotContext extends Omit<SnapshotContext, 'request'> {
  readonly request: Request
}

/** Options of one stream: those of `broker.stream()`, with a snapshot that reads the `Request`. */
export interface FetchStreamOptions extends Omit<BrokerStreamOptions, 'snapshot'> {
  /**
   * The whole state a page shows, for a client whose `Last-Event-ID` cannot be resumed from (see
   * `BrokerStreamOptions.snapshot`).
   */
  snapshot?: (
    context: FetchSnapshotContext,
  ) => SSEEvent | readonly SSEEvent[] | Promise<SSEEvent | readonly SSEEvent[]>
  /**
   * On Node, `@hono/node-server`'s bindings (`c.env` in Hono): the stream writes to Node's response
   * directly, as `@sse/core` does on `node:http` (its memory per connection, its writes), instead of
   * through a web `ReadableStream`, and the `Response` returned tells `@hono/node-server` the answer
   * is sent. `c.env` of another runtime (no `incoming` and `outgoing`) is ignored. Headers that
   * Hono middleware sets do not reach such a stream (give them in `headers`), and middleware that
   * calls `c.header()` after the handler makes `@hono/node-server` write over it (see the guide).
   *
   * @example app.get('/events', (c) => sse.response(c.req.raw, { topics: ['news'], node: c.env }))
   */
  node?: NodeBindings | object
}

/** An opened stream and the `Response` that carries it. */
export interface FetchStream {
  /** The stream: `send()` to this client alone, `signal`, `closed`, `close()`. */
  readonly stream: SSEStream
  /**
   * Settles once the stream has written its head (status 200 and the SSE headers), or with the
   * refusal it answers instead: 400 for a bad topic, 403 or your status from `authorize`, 503
   * with `Retry-After` past `maxConnections` or while shutting down. Never rejects. With the
   * option `node`, it settles at once with the "already sent" answer for `@hono/node-server`: the
   * head, or the refusal, goes to Node's response.
   */
  readonly response: Promise<Response>
}

/** What {@link createSSE} returns: the route's one line, the broker to publish on, and shutdown. */
export interface FetchSSE {
  /** The broker: `sse.broker.publish(topic, event)` from any route or job. */
  readonly broker: Broker
  /**
   * Answers `request` with an event stream subscribed to `options.topics`, or streaming the values
   * of `source`: the `Response` to return from a Fetch handler.
   *
   * @example app.get('/events', (c) => sse.response(c.req.raw, { topics: ['news'] }))
   */
  response(request: Request, options?: FetchStreamOptions): Promise<Response>
  response(request: Request, source: StreamSource, options?: FetchStreamOptions): Promise<Response>
  /** {@link FetchSSE.response}, with the stream too (to `send()` to this client alone). */
  open(request: Request, options?: FetchStreamOptions): FetchStream
  open(request: Request, source: StreamSource, options?: FetchStreamOptions): FetchStream
  /**
   * Ends every stream opened here (after an optional final event); closes the broker too if this
   * adapter created it. Later requests answer 503 with `Retry-After`. Idempotent.
   */
  close(options?: { event?: SSEEvent }): Promise<void>
}

/**
 * Whether `value` has a `Request`'s members. Those read on the web path only (`headers`, `signal`)
 * are looked for, not read: `@hono/node-server` builds them on first read, and a stream on Node's
 * response (the option `node`) keeps its `Request` for the hooks.
 */
function isRequest(value: unknown): value is Request {
  if (typeof value !== 'object' || value === null) return false
  const request = value as Partial<Request>
  return (
    typeof request.url === 'string' &&
    typeof request.method === 'string' &&
    'headers' in request &&
    'signal' in request
  )
}

/** Whether a `Request` has what the web path reads: headers to copy, a signal to watch. */
function hasWebMembers(request: Request): boolean {
  return (
    typeof request.headers?.forEach === 'function' &&
    typeof request.signal?.addEventListener === 'function'
  )
}

function notARequest(request: unknown): SSEError {
  return new SSEError(
    'INVALID_OPTION',
    `${PACKAGE}: response() takes the Request first (in Hono: c.req.raw), got ${request === null ? 'null' : typeof request}`,
  )
}

/** Gives the hook the `Request`; a Node request (on a shared broker) is not this hook's to admit. */
function fetchAuthorize(hook: FetchAuthorizeHook) {
  return (request: SSERequest, topics: readonly string[]) => {
    const raw = webRequestOf(request)
    return raw === undefined ? false : hook(raw, topics)
  }
}

/** What core's adapter set-up is given: the runtime's defaults, and `authorize` reading `Request`s. */
function brokerOptions(options: FetchSSEOptions): unknown {
  const given = withRuntimeDefaults(options)
  if (typeof given !== 'object' || given === null || !('authorize' in given)) return given
  const { authorize } = given
  if (typeof authorize !== 'function') return given
  return { ...given, authorize: fetchAuthorize(authorize as FetchAuthorizeHook) }
}

/** The stream options core reads: without `node`, the snapshot given the `Request`. */
function coreOptions(
  options: FetchStreamOptions | undefined,
  request: Request,
): BrokerStreamOptions | undefined {
  if (options === undefined) return undefined
  let core: object = options
  if ('node' in options) {
    const { node: _node, ...rest } = options
    core = rest
  }
  const snapshot = options.snapshot
  if (typeof snapshot === 'function') {
    core = { ...core, snapshot: (context: SnapshotContext) => snapshot({ ...context, request }) }
  }
  return core as BrokerStreamOptions
}

/**
 * The Fetch adapter: one broker for `(request: Request) => Response` handlers (Hono, `Bun.serve`,
 * `Deno.serve`, Next.js route handlers, srvx), with the guarantees of the Node adapters: topics,
 * replay by `Last-Event-ID` and `?lastEventId=`, cursor and snapshot, tags and revocation,
 * rotation, conflation, `authorize`, `maxConnections`, bounded buffers. On Bun, `keepAlive`
 * defaults to 5 s, under `Bun.serve`'s 10 s `idleTimeout`. Throws an `SSEError` `INVALID_OPTION`
 * naming the bad key.
 *
 * @example
 * const sse = createSSE()
 * app.get('/events', (c) => sse.response(c.req.raw, { topics: ['news'] }))
 * app.post('/news', async (c) => {
 *   await sse.broker.publish('news', { data: await c.req.text() })
 *   return c.body(null, 204)
 * })
 */
export function createSSE(options: FetchSSEOptions = {}): FetchSSE {
  const { broker, ownsBroker, group } = setUpAdapter(PACKAGE, brokerOptions(options))
  const onError =
    'onError' in options && typeof options.onError === 'function'
      ? options.onError
      : (error: SSEError) => console.error(error)
  let closing: Promise<void> | undefined

  // Checked when a stream on Node's response closes (`this`: that response; one function for all).
  function reportOverwritten(this: SSEResponse): void {
    const errored: unknown = (this as { errored?: unknown }).errored
    if ((errored as { code?: unknown } | null | undefined)?.code !== 'ERR_HTTP_HEADERS_SENT') return
    onError(
      new SSEError(
        'OPEN_FAILED',
        `${PACKAGE}: @hono/node-server wrote a response over a stream opened with the option node: Hono rebuilt the handler's Response (middleware that calls c.header() after the handler, or reads c.res before it). Keep that middleware off the stream's route, or leave node out there`,
        { cause: errored },
      ),
    )
  }

  function open(request: unknown, first?: unknown, second?: unknown): FetchStream {
    if (!isRequest(request)) throw notARequest(request)
    const { source, options: streamOptions } = readSSECall(PACKAGE, first, second)
    const given = streamOptions as FetchStreamOptions | undefined
    const node = readNodeBindings(PACKAGE, given?.node)
    // A HEAD answer holds nothing, and Hono rebuilds it (without its body) into a `Response` that
    // `@hono/node-server` writes itself: it takes the web path.
    if (node !== undefined && request.method !== 'HEAD') {
      // Node's request for core, which reads its socket; hooks still get the `Request`.
      rememberWebRequest(node.incoming, request)
      const stream = group.stream(node.incoming, node.outgoing, coreOptions(given, request))
      node.outgoing.on('close', reportOverwritten)
      if (source !== undefined) stream.pipe(source).catch(onError)
      return { stream, response: Promise.resolve(alreadySentResponse()) }
    }
    if (!hasWebMembers(request)) throw notARequest(request)
    let settle!: (response: Response) => void
    const response = new Promise<Response>((resolve) => {
      settle = resolve
    })
    const view = new RequestView(request)
    const bridge = new ResponseBridge(settle, request.signal, honoNodeConnection(request))
    // Core reads a request and a response through the members RequestView and ResponseBridge
    // give; its parameter types name Node's, whose other members it does not touch.
    const stream = group.stream(
      view as unknown as SSERequest,
      bridge as unknown as SSEResponse,
      coreOptions(given, request),
    )
    if (source !== undefined) stream.pipe(source).catch(onError)
    return { stream, response }
  }

  return {
    broker,
    open: open as FetchSSE['open'],
    response: ((request: Request, first?: unknown, second?: unknown) =>
      open(request, first, second).response) as FetchSSE['response'],
    close(closeOptions?: { event?: SSEEvent }): Promise<void> {
      if (closing === undefined) {
        group.close(closeOptions)
        closing = ownsBroker ? broker.close() : Promise.resolve()
      }
      return closing
    },
  }
}
