import type { Server } from 'node:http'
import {
  type Broker,
  type SSEMiddleware,
  type SSEMiddlewareOptions,
  sseMiddleware,
} from '@sse/express'
import { openStream, type TestStream } from '@sse/testing'
import { type Cleanups, type Listening, listen } from '@sse/testkit'
import type express5 from 'express'
import type { ErrorRequestHandler, Express } from 'express'

/** What {@link errorRecorder} returns. */
export interface ErrorRecorder {
  readonly errors: unknown[]
  readonly handler: ErrorRequestHandler
  /** Resolves when the next error reaches the handler. */
  next(): Promise<void>
}

/** An error handler, placed last, that records every error reaching it and lets Express finish. */
export function errorRecorder(): ErrorRecorder {
  const errors: unknown[] = []
  let signal: () => void = () => {}
  const handler: ErrorRequestHandler = (error, _req, res, next) => {
    errors.push(error)
    signal()
    if (res.headersSent) return next(error)
    res.status(500).type('text').send('failed')
  }
  const next = () => new Promise<void>((resolve) => (signal = resolve))
  return { errors, handler, next }
}

/** What {@link setupApp} returns. */
export interface AppUnderTest {
  readonly app: Express
  readonly sse: SSEMiddleware
  readonly broker: Broker
  readonly server: Listening<Server>
  connect(path: string, headers?: Record<string, string>): Promise<TestStream>
}

/**
 * An app of `express` with `express.json()`, the middleware and the routes of `routes`, on a real
 * listening server closed by `cleanups`; `connect(path)` opens a stream on it.
 */
export async function setupApp(
  express: typeof express5,
  cleanups: Cleanups,
  routes: (app: Express, sse: SSEMiddleware) => void,
  options: SSEMiddlewareOptions = { keepAlive: 0 },
): Promise<AppUnderTest> {
  const app = express()
  const sse = sseMiddleware(options)
  app.use(express.json())
  app.use(sse)
  routes(app, sse)
  const server = await listen(app)
  cleanups.push(
    () => server.close(),
    () => sse.close(),
  )
  const connect = (path: string, headers: Record<string, string> = {}) =>
    openStream(`${server.url}${path}`, { headers })
  return { app, sse, broker: sse.broker, server, connect }
}
