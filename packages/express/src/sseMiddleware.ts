import {
  type AdapterOptions,
  type Broker,
  type BrokerStreamOptions,
  isStreamSource,
  SSEError,
  type SSEEvent,
  type SSEStream,
  type StreamSource,
  setUpAdapter,
} from '@sse/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** What `res.sse()` streams besides published events: the values of an (async) iterable. */
export type SSESource = StreamSource

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
       * Answers this request with an SSE stream and returns it. Without topics the stream carries
       * only what the handler sends. Refusals (`authorize`, `maxConnections`) answer with a plain
       * status instead.
       *
       * @example
       * app.get('/events', (req, res) => res.sse({ topics: ['notifications'] }))
       */
      sse(options?: BrokerStreamOptions): SSEStream
      /**
       * Streams every value of `source` (an event, or a string sent as data) and ends the stream
       * when it ends. If `source` throws, the stream ends and the error goes to the app's error
       * handlers as an `SSEError` `SOURCE_FAILED` whose `cause` is what was thrown.
       *
       * @example
       * app.get('/jobs/:id/progress', (req, res) => res.sse(progressOf(req.params.id)))
       */
      sse(source: SSESource, options?: BrokerStreamOptions): SSEStream
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
   * it. Later `res.sse()` calls answer 503 with `Retry-After`. Idempotent.
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

  function open(req: Request, res: Response, next: NextFunction, arg: unknown, more: unknown) {
    const source = isStreamSource(arg) ? arg : undefined
    const given = source === undefined ? arg : more
    if (given !== undefined && (typeof given !== 'object' || given === null)) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/express: res.sse() takes stream options or an (async) iterable, got ${typeof given}`,
      )
    }
    const stream = group.stream(req, res, given as BrokerStreamOptions | undefined)
    if (source !== undefined) {
      // The innermost router's `next` at this point, so its error handlers see the failure.
      const forward = req.next ?? next
      stream.pipe(source).catch(forward)
    }
    return stream
  }

  const middleware: RequestHandler = (req, res, next) => {
    req.broker = broker
    res.sse = (arg?: unknown, more?: unknown) => open(req, res, next, arg, more)
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
