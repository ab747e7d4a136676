import type { Broker, SSEStream } from '@sse/core'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
import { useCleanups } from '@sse/testkit'
import express, { type Request, type RequestHandler, type Response } from 'express'
import { describe, expectTypeOf, test } from 'vitest'

const cleanups = useCleanups()

function make(...args: Parameters<typeof sseMiddleware>): SSEMiddleware {
  const sse = sseMiddleware(...args)
  cleanups.push(() => sse.close())
  return sse
}

describe('types', () => {
  test('sseMiddleware() is a request handler that carries its broker and close()', () => {
    const sse = make()
    expectTypeOf(sse).toExtend<RequestHandler>()
    expectTypeOf(sse.broker).toEqualTypeOf<Broker>()
    expectTypeOf(sse.close).returns.toEqualTypeOf<Promise<void>>()
    express().use(sse)
  })

  test('req.broker and res.sse are typed on every Express request and response', () => {
    expectTypeOf<Request['broker']>().toEqualTypeOf<Broker>()
    expectTypeOf<Response['sse']>().returns.toEqualTypeOf<SSEStream>()
    const app = express()
    app.get('/events/:id', (req, res) => {
      expectTypeOf(req.broker.publish(`project:${req.params.id}`, 'hi')).toEqualTypeOf<
        Promise<string>
      >()
      expectTypeOf(res.sse({ topics: ['a'], retry: 1000 })).toEqualTypeOf<SSEStream>()
      expectTypeOf(res.sse()).toEqualTypeOf<SSEStream>()
    })
  })

  test('res.sse() takes an async iterable of events or strings, with stream options', () => {
    const app = express()
    app.get('/progress', (_req, res) => {
      async function* progress() {
        yield 'started'
        yield { event: 'done', data: { percent: 100 } }
      }
      expectTypeOf(res.sse(progress(), { keepAlive: 0 })).toEqualTypeOf<SSEStream>()
      expectTypeOf(res.sse(['a', 'b'])).toEqualTypeOf<SSEStream>()
      // @ts-expect-error a number is neither stream options nor an iterable
      expectTypeOf(res.sse(42)).toEqualTypeOf<SSEStream>()
    })
  })

  test('options are checked: wrong types, unknown keys, broker options beside a broker', () => {
    // @ts-expect-error keepAlive is a number of ms
    expectTypeOf(sseMiddleware).toBeCallableWith({ keepAlive: 'soon' })
    // @ts-expect-error an unknown key
    expectTypeOf(sseMiddleware).toBeCallableWith({ keepalive: 10 })
    const broker = make().broker
    expectTypeOf(sseMiddleware).toBeCallableWith({ broker, retry: 1000, keepAlive: 15_000 })
    // @ts-expect-error history belongs to the broker passed in
    expectTypeOf(sseMiddleware).toBeCallableWith({ broker, historySize: 10 })
    expectTypeOf(sseMiddleware).toBeCallableWith({ historySize: 10, defaultEventName: 'none' })
    // @ts-expect-error the middleware has no option of its own: nothing reshapes Express's requests
    expectTypeOf(sseMiddleware).toBeCallableWith({ shapeRequests: false })
  })
})
