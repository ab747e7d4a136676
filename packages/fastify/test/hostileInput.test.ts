import ssePlugin, { type SSEError, type SSEPluginOptions, type SSEStream } from '@sse/fastify'
import {
  h2Client,
  httpRequests,
  openSocket,
  recordUnhandledRejections,
  useCleanups,
  authorizeVerdicts as verdicts,
  waitFor,
} from '@sse/testkit'
import Fastify from 'fastify'
import { describe, expect, test } from 'vitest'
import { listenApp } from './helpers.js'

const cleanups = useCleanups()

/** Rejections nobody handled while this file runs: a hostile request must never cause one. */
const unhandled = recordUnhandledRejections()

interface EventsQuery {
  /** Comma-separated topics; `t` when absent. */
  topics?: string
  /** Sent back as the `x-name` response header, as a careless app would. */
  name?: string
}

/**
 * A real app with the plugin, whose `/events` route takes its topics and an `x-name` header value
 * straight from the query string. `onError` reports are collected in `errors`.
 */
async function setup(options: SSEPluginOptions = {}) {
  const errors: SSEError[] = []
  const app = Fastify()
  await app.register(ssePlugin, {
    keepAlive: 0,
    onError: (error: SSEError) => errors.push(error),
    ...options,
  } as SSEPluginOptions)
  let handled = 0
  const streams: SSEStream[] = []
  app.get<{ Querystring: EventsQuery }>('/events', (request, reply) => {
    handled++
    const { topics, name } = request.query
    const stream = reply.sse({
      topics: topics === undefined ? ['t'] : topics.split(','),
      ...(name !== undefined && { headers: { 'x-name': name } }),
    })
    streams.push(stream)
    return stream
  })
  const { origin, connect: open } = await listenApp(cleanups, app)
  const connect = (path = '/events', method = 'GET') => open(path, {}, { method })
  return { app, broker: app.broker, origin, errors, streams, handled: () => handled, connect }
}

/** `count` copies of one HTTP/1.1 request to `/events`, to be sent back to back on one connection. */
const requests = (count: number, method = 'GET') => httpRequests(count, method, '/events')

/** A raw TCP client that sends `payload` in one write and keeps everything it receives. */
const pipeline = (origin: string, payload: string) => openSocket(cleanups, origin, payload)

type Hook = (verdict: () => unknown) => NonNullable<SSEPluginOptions['authorize']>

// The async hook comes first: an async `null` verdict used to crash the process.
describe.each([
  ['an async authorize hook', ((verdict) => async () => verdict()) as Hook],
  ['a sync authorize hook', ((verdict) => () => verdict()) as Hook],
])('%s', (_, hook) => {
  test.each(verdicts.map((c) => [c.name, c.status, c] as const))(
    '%s: the client gets %i in plain text and no stream stays counted',
    async (_name, status, { verdict, body, code }) => {
      const { broker, errors, connect } = await setup({ authorize: hook(verdict) })
      const client = await connect()
      await client.ended
      expect(client.status).toBe(status)
      expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(client.text()).toBe(body)
      expect(errors.map((error) => error.code)).toEqual(code === undefined ? [] : [code])
      await waitFor(() => broker.stats().streams === 0)
      expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
      expect(unhandled).toEqual([])
    },
  )

  test('answering true admits the stream, and it receives events', async () => {
    const { broker, connect } = await setup({
      authorize: hook(() => true),
    })
    const client = await connect()
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    await waitFor(() => broker.subscribers('t') === 1)
    await broker.publish('t', 'in')
    await client.until((c) => c.events.length === 1)
    expect(broker.stats().streams).toBe(1)
  })

  test('after a run of refusals of every kind, the server still admits a stream', async () => {
    let next = 0
    const { broker, errors, connect } = await setup({
      authorize: hook(() => (next < verdicts.length ? verdicts[next++]!.verdict() : true)),
    })
    const statuses: number[] = []
    for (let i = 0; i < verdicts.length; i++) {
      const client = await connect()
      await client.ended
      statuses.push(client.status)
    }
    expect(statuses).toEqual(verdicts.map(({ status }) => status))
    expect(errors.map((error) => error.code)).toEqual(
      verdicts.flatMap(({ code }) => (code === undefined ? [] : [code])),
    )
    expect(broker.stats()).toMatchObject({ streams: 0, refused: verdicts.length })
    const admitted = await connect()
    expect(admitted.status).toBe(200)
    await waitFor(() => broker.subscribers('t') === 1)
    expect(unhandled).toEqual([])
  })
})

test('an authorize hook that rejects answers 500 and reports AUTHORIZE_FAILED with the cause', async () => {
  const cause = new Error('token store down')
  const { broker, errors, connect } = await setup({ authorize: () => Promise.reject(cause) })
  const client = await connect()
  await client.ended
  expect(client.status).toBe(500)
  expect(client.text()).toBe('Authorization failed.')
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatchObject({ name: 'SSEError', code: 'AUTHORIZE_FAILED', cause })
  expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  expect(unhandled).toEqual([])
})

const admit = (): boolean => true
const admitLater = async (): Promise<boolean> => true

describe('a response header the stream head cannot carry', () => {
  test.each([
    ['without an authorize hook', undefined],
    ['with a sync authorize hook', admit],
    ['with an async authorize hook', admitLater],
  ] as const)(
    'a non-Latin-1 header value from the query, %s, answers 500, reports INVALID_OPTION and counts nothing',
    async (_, authorize) => {
      const { broker, errors, connect } = await setup(authorize === undefined ? {} : { authorize })
      const client = await connect(`/events?name=${encodeURIComponent('✓ done')}`)
      await client.ended
      expect(client.status).toBe(500)
      expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(client.text()).toBe('The event stream could not be opened.')
      expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
      await waitFor(() => broker.stats().streams === 0)
      expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
      expect(broker.subscribers('t')).toBe(0)
      expect(unhandled).toEqual([])
    },
  )

  test('after a non-Latin-1 value, the next request with a harmless one gets its stream and the header', async () => {
    const { connect } = await setup({ authorize: async () => true })
    const bad = await connect(`/events?name=${encodeURIComponent('✓')}`)
    await bad.ended
    const good = await connect('/events?name=done')
    expect(good.status).toBe(200)
    expect(good.headers['x-name']).toBe('done')
  })

  test.each([
    ['a sync', admit],
    ['an async', admitLater],
  ] as const)(
    'over HTTP/2, with %s authorize hook, a header HTTP/2 forbids (keep-alive) answers 500 and reports OPEN_FAILED',
    async (_, authorize) => {
      const errors: SSEError[] = []
      const app = Fastify({ http2: true })
      await app.register(ssePlugin, {
        keepAlive: 0,
        authorize,
        onError: (error: SSEError) => errors.push(error),
      })
      // Valid for HTTP/1.1, so the options pass; HTTP/2 refuses the head that carries it.
      app.get('/events', (_request, reply) =>
        reply.sse({ topics: ['t'], headers: { 'keep-alive': 'timeout=60' } }),
      )
      cleanups.push(() => app.close())
      const origin = await app.listen({ port: 0, host: '127.0.0.1' })
      const client = h2Client(origin, '/events')
      cleanups.push(() => client.close())
      let status: unknown = 'no response'
      client.response.then((headers) => {
        status = headers[':status']
      })
      await client.ended
      await new Promise((resolve) => setImmediate(resolve))
      expect(errors.map((error) => error.code)).toEqual(['OPEN_FAILED'])
      expect(app.broker.stats()).toMatchObject({ streams: 0, topics: 0 })
      expect(status).toBe(500)
      expect(client.text()).toBe('The event stream could not be opened.')
    },
  )
})

describe('pipelined requests', () => {
  test('20 pipelined GETs hold one stream; when the client leaves, nothing stays counted or subscribed', async () => {
    const { broker, origin, handled } = await setup()
    const client = pipeline(origin, requests(20))
    await waitFor(() => handled() === 20 && client.statuses().length === 1)
    expect(client.statuses()).toEqual(['HTTP/1.1 200'])
    expect(broker.stats().streams).toBe(1)
    expect(broker.subscribers('t')).toBe(1)

    client.destroy()
    await waitFor(() => broker.stats().streams === 0)
    expect(broker.subscribers('t')).toBe(0)
    expect(broker.stats().topics).toBe(0)
  })

  test('60 pipelined GETs on a connection that stays open take one slot of maxConnections: 50, and new clients get 200', async () => {
    const { broker, origin, handled, connect } = await setup({ maxConnections: 50 })
    const hog = pipeline(origin, requests(60))
    await waitFor(() => handled() === 60 && hog.statuses().length === 1)
    expect(broker.stats().streams).toBe(1)

    const clients = await Promise.all(Array.from({ length: 5 }, () => connect()))
    expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
    expect(broker.stats().streams).toBe(6)
    expect(broker.subscribers('t')).toBe(6)

    hog.destroy()
    await waitFor(() => broker.stats().streams === 5)
    expect(broker.subscribers('t')).toBe(5)
  })

  test('a request queued behind a stream is admitted once the stream in front of it ends', async () => {
    const { broker, origin, streams, handled } = await setup()
    const client = pipeline(origin, requests(2))
    await waitFor(() => handled() === 2 && client.statuses().length === 1)
    expect(broker.stats().streams).toBe(1)
    streams[0]!.close()
    await waitFor(() => client.statuses().length === 2 && broker.subscribers('t') === 1)
    expect(broker.stats().streams).toBe(1)
    await broker.publish('t', 'to the second')
    await waitFor(() => client.text().includes('data: to the second'))
  })
})

describe('HEAD requests', () => {
  test('get 200 with the SSE headers and an ended body, and hold no subscription or stream', async () => {
    const { broker, connect } = await setup()
    const client = await connect('/events', 'HEAD')
    await client.ended
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.complete()).toBe(true)
    expect(client.text()).toBe('')
    expect(broker.subscribers('t')).toBe(0)
    expect(broker.stats().streams).toBe(0)
  })

  test('after an async authorize hook admits them, still hold nothing', async () => {
    const { broker, connect } = await setup({ authorize: async () => true })
    const client = await connect('/events', 'HEAD')
    await client.ended
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.complete()).toBe(true)
    expect(broker.subscribers('t')).toBe(0)
    expect(broker.stats().streams).toBe(0)
  })

  test('take no maxConnections slot: with the only slot taken, a HEAD still gets 200', async () => {
    const { broker, connect } = await setup({ maxConnections: 1 })
    const open = await connect()
    expect(open.status).toBe(200)
    for (let i = 0; i < 3; i++) {
      const head = await connect('/events', 'HEAD')
      await head.ended
      expect(head.status).toBe(200)
    }
    expect(broker.stats().streams).toBe(1)
    expect(broker.subscribers('t')).toBe(1)
  })

  test('a GET pipelined after a HEAD on the same connection gets its own 200 stream', async () => {
    const { broker, origin } = await setup()
    const client = pipeline(origin, requests(1, 'HEAD') + requests(1, 'GET'))
    await waitFor(() => client.statuses().length === 2 && broker.subscribers('t') === 1)
    expect(client.statuses()).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200'])
    expect(client.text()).toMatch(/content-type: text\/event-stream; charset=utf-8/i)
    expect(broker.stats().streams).toBe(1)
    await broker.publish('t', 'after the head')
    await waitFor(() => client.text().includes('data: after the head'))
  })
})

describe('topics from the request', () => {
  test('more distinct topics than maxTopicsPerStream are answered 400 before any SSE byte', async () => {
    const { broker, errors, connect } = await setup({ maxTopicsPerStream: 3 })
    const client = await connect('/events?topics=a,b,c,d')
    await client.ended
    expect(client.status).toBe(400)
    expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(client.text()).toBe('Too many topics.')
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
    expect(broker.subscribers('a')).toBe(0)
    expect(errors).toEqual([])
  })

  test('repeated topics count once against maxTopicsPerStream', async () => {
    const { broker, connect } = await setup({ maxTopicsPerStream: 3 })
    const client = await connect('/events?topics=a,a,b,b,c,c,a')
    expect(client.status).toBe(200)
    await waitFor(() => broker.subscribers('c') === 1)
    expect(broker.stats().topics).toBe(3)
  })

  test('by default, 65 distinct topics are answered 400 and 64 are admitted', async () => {
    const { broker, connect } = await setup()
    const names = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`).join(',')
    const refused = await connect(`/events?topics=${names(65)}`)
    await refused.ended
    expect([refused.status, refused.text()]).toEqual([400, 'Too many topics.'])
    const admitted = await connect(`/events?topics=${names(64)}`)
    expect(admitted.status).toBe(200)
    await waitFor(() => broker.stats().topics === 64)
  })

  test.each([
    ['an empty topic', ''],
    ['a topic with a line feed', 'a\nb'],
    ['a topic with a carriage return', 'a\rb'],
    ['a topic with a NUL', 'a\0b'],
    ['a topic of 257 characters', 'x'.repeat(257)],
  ])('%s is answered 400 Invalid topic.', async (_, topic) => {
    const { broker, connect } = await setup()
    const client = await connect(`/events?topics=ok,${encodeURIComponent(topic)}`)
    await client.ended
    expect(client.status).toBe(400)
    expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(client.text()).toBe('Invalid topic.')
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
    expect(broker.subscribers('ok')).toBe(0)
  })
})

describe('options are refused at register() with INVALID_OPTION naming the key', () => {
  test.each([
    ['keepAlive', 2_147_483_648],
    ['retry', 2_147_483_648],
    ['resetEvent', 'a\nb'],
    ['resetEvent', ''],
    ['headers', { 'bad name': 'x' }],
    ['headers', { 'x-name': '✓' }],
    ['maxTopicsPerStream', 0],
    ['maxTopicsPerStream', 1.5],
    ['maxTopicsPerStream', '64'],
    ['maxReplayEvents', -1],
    ['maxReplayEvents', 2.5],
    ['maxReplayBytes', -1],
    ['maxReplayBytes', 1024.5],
    ['historyMaxBytes', 0],
    ['historyMaxBytes', 1.5],
  ])('%s set to %o fails register with a message naming the key', async (key, value) => {
    const app = Fastify()
    cleanups.push(() => app.close())
    const registered = app.register(ssePlugin, { [key]: value } as SSEPluginOptions)
    await expect(registered).rejects.toMatchObject({ name: 'SSEError', code: 'INVALID_OPTION' })
    await expect(registered).rejects.toThrow(`@sse/fastify: option "${key}" must be `)
  })

  test('the largest timer values and integer limits are accepted', async () => {
    const app = Fastify()
    cleanups.push(() => app.close())
    await app.register(ssePlugin, {
      keepAlive: 2_147_483_647,
      retry: 2_147_483_647,
      maxTopicsPerStream: 1,
      maxReplayEvents: 0,
      maxReplayBytes: 0,
      historyMaxBytes: 1,
    })
    await app.ready()
  })
})
