import { createBroker, escapeHtml, SSEError, type SSEStream } from '@sse/core'
import { type SSEMiddleware, type SSEMiddlewareOptions, sseMiddleware } from '@sse/express'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import { endlessSource, errorOf, listen, once, useCleanups } from '@sse/testkit'
import compression from 'compression'
import { EventSource } from 'eventsource'
import express5, { type Express } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterEach, describe, expect, test } from 'vitest'
import { setupApp } from './appUnderTest.js'

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

  describe('streams and publishing', () => {
    test('the busiest stream can be answered in front of Express by the same broker, and sse.close() ends it', async () => {
      const app = express()
      const sse = sseMiddleware({ keepAlive: 0 })
      app.use(express.json())
      app.use(sse)
      app.post('/notes', (req, res) => {
        req.broker.publish('notifications', { data: escapeHtml(req.body.title) })
        res.status(201).end()
      })
      const server = await listen((req, res) => {
        if (req.url === '/events') sse.broker.stream(req, res, { topics: ['notifications'] })
        else app(req, res)
      })
      cleanups.push(
        () => server.close(),
        () => sse.close(),
      )
      const client = await openStream(`${server.url}/events`)
      expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      const answer = await fetch(`${server.url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: '<b>fast</b>' }),
      })
      expect(answer.status).toBe(201)
      await client.take(1)
      expect(client.events[0]).toMatchObject({
        event: 'notifications',
        data: '&lt;b&gt;fast&lt;/b&gt;',
      })
      await sse.close()
      await client.ended()
    })

    test('a route publishes with req.broker and a res.sse() stream on that topic receives the exact bytes', async () => {
      const { app, connect } = await setup((app) => {
        app.get('/events', (_req, res) => res.sse({ topics: ['notifications'] }))
        app.post('/notes', async (req, res) => {
          const id = await req.broker.publish('notifications', {
            data: `<li>${escapeHtml(req.body.title)}</li>`,
          })
          res.status(201).json({ id })
        })
      })
      const client = await connect('/events')
      const answer = await request(app).post('/notes').send({ title: '<b>Ship it</b>' })
      expect(answer.status).toBe(201)
      await client.take(1)
      expect(client.text()).toBe(
        `id: ${answer.body.id}\nevent: notifications\ndata: <li>&lt;b&gt;Ship it&lt;/b&gt;</li>\n\n`,
      )
    })

    test('the response is 200 with the SSE headers, and headers set before res.sse() are kept', async () => {
      const { connect } = await setup((app) => {
        app.use((_req, res, next) => {
          res.setHeader('Access-Control-Allow-Origin', 'https://app.example')
          next()
        })
        app.get('/events', (_req, res) => res.sse({ topics: ['notifications'] }))
      })
      const client = await connect('/events')
      expect(client.status).toBe(200)
      expect(client.headers).toMatchObject({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
        'access-control-allow-origin': 'https://app.example',
      })
    })

    test('a route parameter chooses the topic: a project stream gets only its own events', async () => {
      const { broker, connect } = await setup((app) => {
        app.get('/projects/:id/events', (req, res) =>
          res.sse({ topics: [`project:${req.params.id}`] }),
        )
      })
      const one = await connect('/projects/1/events')
      const two = await connect('/projects/2/events')
      await broker.publish('project:2', { event: 'update', data: 'for two' })
      await broker.publish('project:1', { event: 'update', data: 'for one' })
      await one.take(1)
      await two.take(1)
      expect(one.events.map((e) => e.data)).toEqual(['for one'])
      expect(two.events.map((e) => e.data)).toEqual(['for two'])
    })

    test('res.sse() without topics is a stream for the handler’s own sends', async () => {
      const { broker, connect } = await setup((app) => {
        app.get('/hello', (_req, res) => {
          const stream = res.sse()
          stream.send({ event: 'hello', data: 'world' })
          stream.close()
        })
      })
      const client = await connect('/hello')
      await client.ended()
      expect(client.state).toBe('ended')
      expect(client.text()).toBe('event: hello\ndata: world\n\n')
      expect(broker.stats().topics).toBe(0)
    })

    test('res.sse(asyncIterable) streams each value and ends the response when the iterable ends', async () => {
      const { connect } = await setup((app) => {
        app.get('/jobs/:id/progress', (req, res) =>
          res.sse(
            (async function* () {
              yield `job ${req.params.id} started`
              yield { event: 'done', data: { percent: 100 } }
            })(),
            { retry: 1000 },
          ),
        )
      })
      const client = await connect('/jobs/7/progress')
      await client.ended()
      expect(client.state).toBe('ended')
      expect(client.text()).toBe(
        'retry: 1000\n\ndata: job 7 started\n\nevent: done\ndata: {"percent":100}\n\n',
      )
    })

    test('when the client leaves, the iterable is stopped', async () => {
      const ticks = endlessSource()
      const { connect } = await setup((app) => {
        app.get('/ticks', (_req, res) => res.sse(ticks.source))
      })
      const client = await connect('/ticks')
      await client.waitFor((c) => c.events.length > 0)
      client.close()
      await ticks.stopped
    })
  })

  describe('refusals', () => {
    test('a stream that authorize refuses is answered 403 in plain text', async () => {
      const { app } = await setup(
        (app) => app.get('/events', (_req, res) => res.sse({ topics: ['admin'] })),
        { keepAlive: 0, authorize: (_req, topics) => !topics.includes('admin') },
      )
      const answer = await request(app).get('/events')
      expect(answer.status).toBe(403)
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(answer.text).toBe('Forbidden.')
    })

    test('past maxConnections the next stream is answered 503 with Retry-After', async () => {
      const { app, connect } = await setup(
        (app) => app.get('/events', (_req, res) => res.sse({ topics: ['notifications'] })),
        { keepAlive: 0, maxConnections: 1 },
      )
      const first = await connect('/events')
      expect(first.status).toBe(200)
      const answer = await request(app).get('/events')
      expect(answer.status).toBe(503)
      expect(answer.headers['retry-after']).toBe('5')
    })
  })

  describe('replay', () => {
    test('a client coming back with Last-Event-ID gets exactly the events it missed', async () => {
      const { broker, connect } = await setup((app) => {
        app.get('/events', (_req, res) => res.sse({ topics: ['feed'] }))
      })
      const first = await broker.publish('feed', 'one')
      const second = await broker.publish('feed', 'two')
      const third = await broker.publish('feed', { event: 'named', data: 'three' })
      const client = await connect('/events', { 'last-event-id': first })
      await client.take(2)
      expect(client.text()).toBe(
        `id: ${second}\nevent: feed\ndata: two\n\nid: ${third}\nevent: named\ndata: three\n\n`,
      )
    })

    test('an EventSource whose stream the server ended reconnects and receives what it missed', async () => {
      const streams: SSEStream[] = []
      const { broker, server } = await setup((app) => {
        app.get('/events', (_req, res) => {
          streams.push(res.sse({ topics: ['feed'], retry: 10 }))
        })
      })
      const source = new EventSource(`${server.url}/events`)
      cleanups.push(() => source.close())
      const received: string[] = []
      source.addEventListener('feed', (e) => received.push(e.data))
      await once(source, 'open')
      await broker.publish('feed', 'before')
      await once(source, 'feed')
      streams[0]!.close()
      await broker.publish('feed', 'while away')
      await once(source, 'feed')
      expect(received).toEqual(['before', 'while away'])
      expect(streams).toHaveLength(2)
    })
  })

  describe('compression', () => {
    test('with compression() in the app, events still arrive one by one and uncompressed', async () => {
      const { app, broker, connect } = await setup((app) => {
        app.use(compression())
        app.get('/page', (_req, res) => res.type('text').send('x'.repeat(4096)))
        app.get('/events', (_req, res) => res.sse({ topics: ['feed'] }))
      })
      const page = await request(app).get('/page').set('accept-encoding', 'gzip')
      expect(page.headers['content-encoding']).toBe('gzip')

      const client = await connect('/events', { 'accept-encoding': 'gzip' })
      expect(client.headers['content-encoding']).toBeUndefined()
      const one = await broker.publish('feed', 'one')
      await client.take(1)
      const two = await broker.publish('feed', 'two')
      await client.take(1)
      expect(client.text()).toBe(
        `id: ${one}\nevent: feed\ndata: one\n\nid: ${two}\nevent: feed\ndata: two\n\n`,
      )
    })
  })

  describe('shutdown', () => {
    test('sse.close() ends 1,000 open streams, closes its own broker, and server.close() then finishes', async () => {
      const { sse, broker, server, connect } = await setup((app) => {
        app.get('/events', (_req, res) => res.sse({ topics: ['feed'] }))
      })
      const clients: TestStream[] = []
      for (let batch = 0; batch < 10; batch++) {
        clients.push(...(await Promise.all(Array.from({ length: 100 }, () => connect('/events')))))
      }
      expect(broker.stats().streams).toBe(1000)

      await sse.close({ event: { event: 'bye', data: 'see you' } })
      await new Promise<void>((resolve, reject) =>
        server.server.close((error) => (error ? reject(error) : resolve())),
      )
      await Promise.all(clients.map((client) => client.ended()))
      for (const client of clients) expect(client.text()).toBe('event: bye\ndata: see you\n\n')
      expect(broker.stats().streams).toBe(0)
      expect(broker.isClosed).toBe(true)
      expect(errorOf(() => broker.publish('feed', 'late'), SSEError)?.code).toBe('BROKER_CLOSED')
    })

    test('a broker passed in stays open after sse.close(): only this middleware’s streams end', async () => {
      const broker = createBroker({ keepAlive: 0 })
      cleanups.push(() => broker.close())
      const { sse, connect } = await setup(
        (app) => app.get('/events', (_req, res) => res.sse({ topics: ['feed'] })),
        { broker },
      )
      const other = await listen((req, res) => broker.stream(req, res, { topics: ['feed'] }))
      cleanups.push(() => other.close())
      const outsider = await openStream(`${other.url}/`)
      const client = await connect('/events')

      await sse.close()
      await client.ended()
      expect(broker.isClosed).toBe(false)
      await broker.publish('feed', 'still here')
      await outsider.take(1)

      const late = await connect('/events')
      await late.ended()
      expect([late.status, late.headers['retry-after']]).toEqual([503, '5'])
      expect(broker.subscribers('feed')).toBe(1)
    })

    test('stream options given with a broker are the defaults of this middleware’s streams', async () => {
      const broker = createBroker({ keepAlive: 0 })
      cleanups.push(() => broker.close())
      const { connect } = await setup(
        (app) => app.get('/events', (_req, res) => res.sse({ topics: ['feed'] })),
        { broker, retry: 1500 },
      )
      const client = await connect('/events')
      await client.waitFor((c) => c.text().length > 0)
      expect(client.text()).toBe('retry: 1500\n\n')
    })
  })
})
