import type { AdapterOptions, Broker, SSEEvent, SSEMethod, SSEStream } from '@sse/core'
import { readSSECall, setUpAdapter } from '@sse/core/kit'
import type { NextFunction, RequestHandler, Response } from 'express'

/** Options of {@link sseMiddleware}: broker options, or `{ broker }` (plus stream defaults) to share one. */
export type SSEMiddlewareOptions = AdapterOptions

declare global {
  namespace Express {
    interface Request {
      /** The broker of the {@link sseMiddleware} that handled this request: publish from here. */
      broker: Broker
    }
    interface Response {
      /**
       * Answers this request with an SSE stream and returns it: `res.sse({ topics })`, or
       * `res.sse(source, options?)` to stream the values of an (async) iterable. The same contract
       * as `reply.sse()` in `@sse/fastify`. If `source` throws, the stream ends and the error goes
       * to the app's error handlers as an `SSEError` `SOURCE_FAILED` whose `cause` is what was thrown.
       *
       * @example
       * app.get('/events', (req, res) => res.sse({ topics: ['notifications'] }))
       * app.get('/jobs/:id/progress', (req, res) => res.sse(progressOf(req.params.id)))
       */
      sse: SSEMethod
    }
  }
}

/** The value of {@link sseMiddleware}: the middleware itself, plus its broker and shutdown. */
export interface SSEMiddleware extends RequestHandler {
  /** The broker behind `req.broker`, for publishing from outside a request (background jobs). */
  readonly broker: Broker
  /**
   * Ends every stream this middleware opened (after an optional final event) and lets go of their
   * connections, so `server.close()` can finish. Closes the broker too if the middleware created
   * it. Later `res.sse()` calls answer 503 with `Retry-After`, and every later response through
   * the middleware closes its connection (`Connection: close`), so no connection it serves is kept
   * alive for another request. Idempotent.
   */
  close(options?: { event?: SSEEvent }): Promise<void>
}

/**
 * Express middleware that gives every request `req.broker` and `res.sse()`. Works with Express 4
 * and 5. Throws an {@link SSEError} `INVALID_OPTION` naming the bad key.
 *
 * @example
 * const sse = sseMiddleware()
 * app.use(sse)
 * app.get('/events', (req, res) => res.sse({ topics: ['notifications'] }))
 * app.post('/notes', (req, res) => {
 *   req.broker.publish('notifications', { data: html`<li>${req.body.title}</li>` })
 *   res.status(201).end()
 * })
 * // on shutdown
 * await sse.close()
 */
export function sseMiddleware(options: SSEMiddlewareOptions = {}): SSEMiddleware {
  const { broker, ownsBroker, group } = setUpAdapter('@sse/express', options)
  let closing: Promise<void> | undefined

  // One `sse` function for every response of this middleware: no closure per request.
  const sse = function sse(this: Response, first?: unknown, second?: unknown): SSEStream {
    const { source, options } = readSSECall('@sse/express', first, second)
    const req = this.req
    const stream = group.stream(req, this, options)
    if (source !== undefined) {
      // The innermost router's `next` at this point, so its error handlers see the failure.
      const forward: NextFunction | undefined = req.next
      stream.pipe(source).catch((error: unknown) => forward?.(error))
    }
    return stream
  } as SSEMethod

  // Assigned to each request it handles, as express-session assigns `req.session`: nothing on
  // Express's prototypes, so other apps, routers and requests of the process are left as they are,
  // and the values stay when the request falls through to an enclosing app.
  const middleware: RequestHandler = (req, res, next) => {
    req.broker = broker
    res.sse = sse
    // Once closed, the server is shutting down: a request that still reaches it came on a
    // connection busy when the server closed, which kept alive would idle until the keep-alive
    // timeout and hold `server.close()` open.
    if (closing !== undefined && req.httpVersionMajor < 2) res.setHeader('Connection', 'close')
    next()
  }

  return Object.assign(middleware, {
    broker,
    close(closeOptions?: { event?: SSEEvent }): Promise<void> {
      if (closing === undefined) {
        group.close(closeOptions)
        closing = ownsBroker ? broker.close() : Promise.resolve()
      }
      return closing
    },
  })
}
