import { SSEError } from '@sse/core'
import { type SSEMiddleware, type SSEMiddlewareOptions, sseMiddleware } from '@sse/express'
import { closeStreams, openStream } from '@sse/testing'
import { listen, useCleanups } from '@sse/testkit'
import express5, { type Express } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterEach, describe, expect, test } from 'vitest'
import { errorRecorder, setupApp } from './appUnderTest.js'

const cleanups = useCleanups()
afterEach(closeStreams)

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  const setup = (
    routes: (app: Express, sse: SSEMiddleware) => void,
    options?: SSEMiddlewareOptions,
  ) => setupApp(express, cleanups, routes, options)

  describe('errors', () => {
    test('an iterable that throws ends the stream, and the app’s error handler gets SOURCE_FAILED with the cause', async () => {
      const recorder = errorRecorder()
      const boom = new Error('boom')
      const { connect } = await setup((app) => {
        app.get('/job', (_req, res) =>
          res.sse(
            (async function* () {
              yield 'before'
              throw boom
            })(),
          ),
        )
        app.use(recorder.handler)
      })
      const reached = recorder.next()
      const client = await connect('/job')
      await Promise.all([client.ended(), reached])
      expect(client.text()).toBe('data: before\n\n')
      expect(recorder.errors).toHaveLength(1)
      expect(recorder.errors[0]).toBeInstanceOf(SSEError)
      expect(recorder.errors[0]).toMatchObject({ code: 'SOURCE_FAILED', cause: boom })
    })

    test('an iterable that throws in a nested router reaches that router’s error handler', async () => {
      const outer = errorRecorder()
      const inner = errorRecorder()
      const { connect } = await setup((app) => {
        const router = express.Router()
        router.get('/job', (_req, res) =>
          res.sse(
            // biome-ignore lint/correctness/useYield: a source that fails before its first value
            (async function* () {
              throw new Error('boom')
            })(),
          ),
        )
        router.use(inner.handler)
        app.use('/nested', router)
        app.use(outer.handler)
      })
      const reached = inner.next()
      const client = await connect('/nested/job')
      await Promise.all([client.ended(), reached])
      expect(inner.errors).toMatchObject([{ code: 'SOURCE_FAILED' }])
      // The inner handler passed it on (headers were sent), so the app-level one saw it too.
      expect(outer.errors).toEqual(inner.errors)
    })

    test('an error thrown by a handler after its stream opened ends the stream and reaches the error handler, with no ERR_HTTP_HEADERS_SENT', async () => {
      const recorder = errorRecorder()
      const boom = new Error('boom')
      const { broker, connect } = await setup((app) => {
        app.get('/events', (_req, res) => {
          res.sse({ topics: ['notifications'] }).send({ data: 'first' })
          throw boom
        })
        app.use(recorder.handler)
      })
      const reached = recorder.next()
      const client = await connect('/events')
      await Promise.all([client.ended(), reached])
      expect(client.status).toBe(200)
      expect(recorder.errors).toEqual([boom])
      expect(broker.subscribers('notifications')).toBe(0)
    })

    test('without an error handler of the app’s own, Express’s default handler still ends the stream', async () => {
      const { broker, connect } = await setup((app) => {
        app.get('/events', (_req, res) => {
          res.sse({ topics: ['notifications'] })
          throw new Error('boom')
        })
      })
      const client = await connect('/events')
      await client.ended()
      expect(broker.subscribers('notifications')).toBe(0)
    })

    test('an invalid topic is answered 400 before any SSE byte, and nothing is subscribed', async () => {
      const recorder = errorRecorder()
      const { app, broker } = await setup((app) => {
        app.get('/events', (_req, res) => res.sse({ topics: ['bad\ntopic'] }))
        app.use(recorder.handler)
      })
      const answer = await request(app).get('/events')
      expect(answer.status).toBe(400)
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(answer.text).toBe('Invalid topic.')
      expect(recorder.errors).toEqual([])
      expect(broker.stats()).toMatchObject({ streams: 0, refused: 1 })
    })

    test('res.sse() with something that is neither options nor an iterable throws INVALID_OPTION', async () => {
      const recorder = errorRecorder()
      const { app } = await setup((app) => {
        app.get('/events', (_req, res) => res.sse(42 as never))
        app.use(recorder.handler)
      })
      expect((await request(app).get('/events')).status).toBe(500)
      expect(recorder.errors).toMatchObject([{ code: 'INVALID_OPTION' }])
    })
  })
})

describe('express 5 only', () => {
  test('an async handler that rejects after its stream opened ends the stream and reaches the error handler', async () => {
    const recorder = errorRecorder()
    const app = express5()
    const sse = sseMiddleware({ keepAlive: 0 })
    app.use(sse)
    app.get('/events', async (_req, res) => {
      res.sse({ topics: ['feed'] })
      await sse.broker.publish('feed', 'first')
      throw new Error('later')
    })
    app.use(recorder.handler)
    const server = await listen(app)
    cleanups.push(
      () => server.close(),
      () => sse.close(),
    )
    const reached = recorder.next()
    const client = await openStream(`${server.url}/events`)
    await Promise.all([client.ended(), reached])
    expect(recorder.errors).toMatchObject([{ message: 'later' }])
    expect(sse.broker.subscribers('feed')).toBe(0)
  })
})
