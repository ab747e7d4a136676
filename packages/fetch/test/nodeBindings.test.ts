import { createServer as createH2Server, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import {
  createAdaptorServer,
  type Http2Bindings,
  type HttpBindings,
  serve,
} from '@hono/node-server'
import {
  createSSE,
  type FetchSSEOptions,
  type FetchStreamOptions,
  type SSEError,
  webRequestOf,
} from '@sse/fetch'
import { closeStreams, openStream } from '@sse/testing'
import { recordUnhandledRejections, useCleanups, waitFor } from '@sse/testkit'
import { Hono } from 'hono'
import { poweredBy } from 'hono/powered-by'
import { afterEach, describe, expect, test, vi } from 'vitest'

// The stream option `node: c.env` on @hono/node-server: the stream writes to Node's response, and
// the handler answers @hono/node-server with "already sent".
const cleanups = useCleanups()
afterEach(closeStreams)

interface Seen {
  /** Per request: whether Node's response had its head when the handler returned, and the answer. */
  readonly answers: Array<{ headWritten: boolean; alreadySent: string | null }>
  readonly authorized: Request[]
  /** What reached `onError`. */
  readonly errors: SSEError[]
  /** What `webRequestOf()` gives for each stream's request (Node's, with `node`). */
  readonly connected: Array<Request | undefined>
}

/** A Hono app on @hono/node-server whose `/events` streams get `extra(c.env)` as options. */
async function start(
  extra: (env: HttpBindings) => FetchStreamOptions,
  options: FetchSSEOptions = {},
  middleware?: (app: Hono<{ Bindings: HttpBindings }>) => void,
) {
  const seen: Seen = { answers: [], authorized: [], connected: [], errors: [] }
  const sse = createSSE({
    keepAlive: 0,
    authorize: (request) => {
      seen.authorized.push(request)
      return new URL(request.url).searchParams.get('token') !== 'bad'
    },
    onError: (error: SSEError) => {
      seen.errors.push(error)
    },
    ...options,
  } as FetchSSEOptions)
  const app = new Hono<{ Bindings: HttpBindings }>()
  middleware?.(app)
  app.on(['GET', 'HEAD'], '/events', async (c) => {
    const { stream, response: answer } = sse.open(c.req.raw, { topics: ['t'], ...extra(c.env) })
    const response = await answer
    seen.connected.push(webRequestOf(stream.request))
    seen.answers.push({
      headWritten: c.env.outgoing.headersSent,
      alreadySent: response.headers.get('x-hono-already-sent'),
    })
    return response
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(listening),
    )
  })
  cleanups.push(
    () => new Promise((resolve) => server.close(resolve)),
    () => sse.close(),
  )
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { sse, seen, origin }
}

describe("node: c.env, on @hono/node-server: the stream writes to Node's response", () => {
  const unhandled = recordUnhandledRejections()

  test('events published in one turn and one per turn arrive whole and in order; the handler answers "already sent"', async () => {
    const errors = vi.spyOn(console, 'error')
    const { sse, seen, origin } = await start((env) => ({ node: env }))
    const client = await openStream(`${origin}/events`, { timeout: 10_000 })
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(seen.answers).toEqual([{ headWritten: true, alreadySent: 'true' }])
    for (let i = 0; i < 200; i++) void sse.broker.publish('t', { data: `a${i}` })
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      void sse.broker.publish('t', { data: `b${i}` })
    }
    const events = await client.take(250)
    expect(events.map((event) => event.data)).toEqual([
      ...Array.from({ length: 200 }, (_, i) => `a${i}`),
      ...Array.from({ length: 50 }, (_, i) => `b${i}`),
    ])
    // @hono/node-server wrote nothing of its own over the stream (it logs when it tries).
    expect(errors).not.toHaveBeenCalled()
    errors.mockRestore()
    expect(unhandled).toEqual([])
  })

  test("authorize and webRequestOf() see the Request; a refusal is written to Node's response", async () => {
    const { sse, seen, origin } = await start((env) => ({ node: env }))
    const admitted = await openStream(`${origin}/events?token=ok`, { timeout: 10_000 })
    expect(admitted.status).toBe(200)
    const refused = await openStream(`${origin}/events?token=bad`, { timeout: 10_000 })
    await refused.ended()
    expect(refused.status).toBe(403)
    expect(seen.authorized.map((request) => new URL(request.url).search)).toEqual([
      '?token=ok',
      '?token=bad',
    ])
    expect(seen.authorized.every((request) => request instanceof Request)).toBe(true)
    expect(seen.connected).toEqual(seen.authorized)
    expect(sse.broker.stats()).toMatchObject({ streams: 1, refused: 1 })
  })

  test('a client that leaves frees its slot of maxConnections', async () => {
    const { sse, seen, origin } = await start((env) => ({ node: env }), { maxConnections: 1 })
    const first = await openStream(`${origin}/events`, { timeout: 10_000 })
    expect((await openStream(`${origin}/events`, { timeout: 10_000 })).status).toBe(503)
    await first.close()
    await waitFor(() => sse.broker.stats().streams === 0)
    expect((await openStream(`${origin}/events`, { timeout: 10_000 })).status).toBe(200)
    // A client leaving is no error.
    expect(seen.errors).toEqual([])
  })

  test('a HEAD request takes the web path: 200, the SSE headers, no body, nothing held', async () => {
    const errors = vi.spyOn(console, 'error')
    const { sse, seen, origin } = await start((env) => ({ node: env }))
    const head = await openStream(`${origin}/events`, { method: 'HEAD', timeout: 10_000 })
    await head.ended()
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(seen.answers).toEqual([{ headWritten: false, alreadySent: null }])
    expect(sse.broker.stats().streams).toBe(0)
    expect(errors).not.toHaveBeenCalled()
    errors.mockRestore()
  })

  test('middleware that sets a header after the handler: @hono/node-server writes over the stream, onError says why (OPEN_FAILED), nothing stays counted', async () => {
    // The documented limit: Hono rebuilds the Response, and @hono/node-server writes that one.
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { sse, seen, origin } = await start(
      (env) => ({ node: env }),
      {},
      (app) =>
        app.use(async (c, next) => {
          await next()
          c.header('x-after', '1')
        }),
    )
    const client = await openStream(`${origin}/events`, { timeout: 10_000 })
    await client.ended()
    expect(client.events).toEqual([])
    await waitFor(() => errors.mock.calls.length > 0)
    expect(errors.mock.calls[0]![0]).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' })
    errors.mockRestore()
    await waitFor(() => sse.broker.stats().streams === 0)
    expect(sse.broker.subscribers('t')).toBe(0)
    // onError names what happened and the fix, with @hono/node-server's error as the cause.
    await waitFor(() => seen.errors.length > 0)
    expect(seen.errors).toEqual([
      expect.objectContaining({
        code: 'OPEN_FAILED',
        message: expect.stringContaining('Hono rebuilt the handler'),
        cause: expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' }),
      }),
    ])
  })

  test("Hono's poweredBy() (c.res.headers.set() after the handler) leaves the stream alone", async () => {
    const errors = vi.spyOn(console, 'error')
    const { sse, seen, origin } = await start(
      (env) => ({ node: env }),
      {},
      (app) => app.use(poweredBy()),
    )
    const client = await openStream(`${origin}/events`, { timeout: 10_000 })
    expect(client.status).toBe(200)
    for (let i = 0; i < 20; i++) void sse.broker.publish('t', { data: `${i}` })
    expect((await client.take(20)).map((event) => event.data)).toEqual(
      Array.from({ length: 20 }, (_, i) => `${i}`),
    )
    // Its header is one of those that do not reach such a stream.
    expect(client.headers['x-powered-by']).toBeUndefined()
    expect(errors).not.toHaveBeenCalled()
    errors.mockRestore()
    expect(seen.errors).toEqual([])
  })

  test("over HTTP/2 (h2c), the stream writes to Node's Http2ServerResponse; events arrive in order", async () => {
    const sse = createSSE({ keepAlive: 0 })
    cleanups.push(() => sse.close())
    const app = new Hono<{ Bindings: Http2Bindings }>()
    const answers: Array<string | null> = []
    app.get('/events', async (c) => {
      const response = await sse.response(c.req.raw, { topics: ['t'], node: c.env })
      answers.push(response.headers.get('x-hono-already-sent'))
      return response
    })
    const server = createAdaptorServer({ fetch: app.fetch, createServer: createH2Server })
    const client = await openStream(server as Http2Server, '/events', { timeout: 10_000 })
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(answers).toEqual(['true'])
    for (let i = 0; i < 100; i++) void sse.broker.publish('t', { data: `${i}` })
    const events = await client.take(100)
    expect(events.map((event) => event.data)).toEqual(Array.from({ length: 100 }, (_, i) => `${i}`))
    await client.close()
    await waitFor(() => sse.broker.stats().streams === 0)
  })

  test("another runtime's c.env (no incoming and outgoing) takes the web path", async () => {
    const { seen, origin } = await start(() => ({ node: { port: 3000, fetch() {} } }))
    const client = await openStream(`${origin}/events`, { timeout: 10_000 })
    expect(client.status).toBe(200)
    expect(seen.answers).toEqual([{ headWritten: false, alreadySent: null }])
  })

  test.each<[string, unknown]>([
    ['a string', 'c.env'],
    ['a number', 42],
    ['null', null],
    ['an object whose incoming and outgoing are not', { incoming: {}, outgoing: {} }],
    ['an object whose incoming and outgoing are not', { incoming: 'req', outgoing: 'res' }],
  ])('node: %s throws INVALID_OPTION and opens nothing', async (described, node) => {
    const sse = createSSE({ keepAlive: 0 })
    cleanups.push(() => sse.close())
    expect(() =>
      sse.open(new Request('http://127.0.0.1/events'), { topics: ['t'], node: node as object }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining(`option "node" takes @hono/node-server's bindings`),
      }),
    )
    expect(() =>
      sse.open(new Request('http://127.0.0.1/events'), { node: node as object }),
    ).toThrow(expect.objectContaining({ message: expect.stringMatching(`got ${described}$`) }))
    expect(sse.broker.stats().streams).toBe(0)
  })
})
