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
import { honoNodeConnection } from './internals/honoNodeSocket.js'
import { RequestView, webRequestOf } from './requestView.js'
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
}

/** An opened stream and the `Response` that carries it. */
export interface FetchStream {
  /** The stream: `send()` to this client alone, `signal`, `closed`, `close()`. */
  readonly stream: SSEStream
  /**
   * Settles once the stream has written its head (status 200 and the SSE headers), or with the
   * refusal it answers instead: 400 for a bad topic, 403 or your status from `authorize`, 503
   * with `Retry-After` past `maxConnections` or while shutting down. Never rejects.
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

function isRequest(value: unknown): value is Request {
  if (typeof value !== 'object' || value === null) return false
  const request = value as Partial<Request>
  return (
    typeof request.url === 'string' &&
    typeof request.method === 'string' &&
    typeof request.headers?.forEach === 'function' &&
    typeof request.signal?.addEventListener === 'function'
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

/** The stream options core reads: the snapshot given the `Request` instead of its view. */
function coreOptions(
  options: FetchStreamOptions | undefined,
  view: RequestView,
): BrokerStreamOptions | undefined {
  const snapshot = options?.snapshot
  if (typeof snapshot !== 'function') return options as BrokerStreamOptions | undefined
  return {
    ...options,
    snapshot: (context: SnapshotContext) => snapshot({ ...context, request: view.raw }),
  }
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

  function open(request: unknown, first?: unknown, second?: unknown): FetchStream {
    if (!isRequest(request)) {
      throw new SSEError(
        'INVALID_OPTION',
        `${PACKAGE}: response() takes the Request first (in Hono: c.req.raw), got ${request === null ? 'null' : typeof request}`,
      )
    }
    const { source, options: streamOptions } = readSSECall(PACKAGE, first, second)
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
      coreOptions(streamOptions as FetchStreamOptions | undefined, view),
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
