import {
  createServer,
  IncomingMessage,
  type Server,
  type ServerOptions,
  ServerResponse,
} from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { SSEError } from '@sse/core'
import { openStream } from '@sse/core/testing'
import { type SSEMiddleware, type SSEMiddlewareOptions, sseMiddleware } from '@sse/express'
import {
  heldAfterGc,
  httpRequests,
  openSocket,
  type RawSocket,
  useCleanups,
  waitFor,
} from '@sse/testkit'
import express5, { type Express, type Request, type Response } from 'express'
import express4 from 'express4'
import { describe, expect, test } from 'vitest'

setFlagsFromString('--allow-natives-syntax')
/** V8's own answer: do `a` and `b` have the same hidden class? */
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
  a: object,
  b: object,
) => boolean

/**
 * Whether this V8 gives objects that get a property after their prototype was swapped a hidden class
 * each (V8 of Node 20 and 22 does; Node 24's shares them by itself).
 */
const splitsAfterPrototypeSwap = ((): boolean => {
  class Probe {
    first = 1
  }
  const prototype = Object.create(Probe.prototype) as object
  const [a, b] = [new Probe(), new Probe()].map((probe) => {
    Object.setPrototypeOf(probe, prototype)
    ;(probe as unknown as { second: number }).second = 2
    return probe
  }) as [Probe, Probe]
  return !haveSameMap(a, b)
})()

const cleanups = useCleanups()

function middleware(options: SSEMiddlewareOptions = {}): SSEMiddleware {
  const sse = sseMiddleware({ keepAlive: 0, ...options })
  cleanups.push(() => sse.close())
  return sse
}

async function serve(
  app: Express,
  serverOptions: ServerOptions = {},
): Promise<{ url: string; server: Server }> {
  const server = createServer(serverOptions, app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, server }
}

/** An app whose `/events` streams and whose `/seen` answers, each keeping the `req` and `res` it got. */
function recordingApp(
  express: typeof express5,
  sse: SSEMiddleware,
): { app: Express; streams: [Request, Response][]; seen: [Request, Response][] } {
  const streams: [Request, Response][] = []
  const seen: [Request, Response][] = []
  const app = express()
  app.use(sse)
  app.get('/events', (req, res) => {
    res.sse({ topics: ['t'] })
    streams.push([req, res])
  })
  app.get('/seen', (req, res) => {
    seen.push([req, res])
    res.json({ ok: true })
  })
  return { app, streams, seen }
}

/** The server's class slot `node:http` builds requests (or responses) with. */
function serverClass(server: Server, description: string): unknown {
  const slot = Object.getOwnPropertySymbols(server).find((s) => s.description === description)
  return slot === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[slot]
}

describe.each([
  ['express 5', express5],
  ['express 4', express4 as unknown as typeof express5],
] as const)('%s', (_, express) => {
  test('after the first stream, the open streams’ requests and responses share one hidden class', async () => {
    const sse = middleware()
    const { app, streams } = recordingApp(express, sse)
    const { url } = await serve(app)
    for (let i = 0; i < 4; i++) await openStream(`${url}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 4)
    // The first was built before anything was learned.
    const [, [req1, res1], [req2, res2], [req3, res3]] = streams as [
      [Request, Response],
      [Request, Response],
      [Request, Response],
      [Request, Response],
    ]
    expect(haveSameMap(req1, req2) && haveSameMap(req2, req3)).toBe(true)
    expect(haveSameMap(res1, res2) && haveSameMap(res2, res3)).toBe(true)
  })

  test('shapeRequests: false leaves the server’s classes alone, and each request its own class', async () => {
    const sse = middleware({ shapeRequests: false })
    const { app, streams } = recordingApp(express, sse)
    const { url, server } = await serve(app)
    for (let i = 0; i < 3; i++) await openStream(`${url}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 3)
    expect(serverClass(server, 'IncomingMessage')).toBe(IncomingMessage)
    expect(serverClass(server, 'ServerResponse')).toBe(ServerResponse)
    const [, [req1, res1], [req2, res2]] = streams as [
      [Request, Response],
      [Request, Response],
      [Request, Response],
    ]
    expect(haveSameMap(req1, req2)).toBe(!splitsAfterPrototypeSwap)
    expect(haveSameMap(res1, res2)).toBe(!splitsAfterPrototypeSwap)
  })

  test('what a request or response reads is unchanged: query, params, body, status, headers, 404, HEAD', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.use(express.json())
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    app.get('/items/:id', (req, res) =>
      res.json({
        query: req.query,
        params: req.params,
        header: req.headers['x-probe'],
        status: res.statusCode,
        locals: Object.keys(res.locals),
      }),
    )
    app.post('/echo', (req, res) => res.status(201).json({ body: req.body as unknown }))
    app.get('/plain', (_req, res) => res.end('plain'))
    const { url } = await serve(app)
    await openStream(`${url}/events`)

    const item = await fetch(`${url}/items/7?x=1&y=two`, { headers: { 'x-probe': 'p' } })
    expect(await item.json()).toEqual({
      query: { x: '1', y: 'two' },
      params: { id: '7' },
      header: 'p',
      status: 200,
      locals: [],
    })
    const echo = await fetch(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    })
    expect(echo.status).toBe(201)
    expect(await echo.json()).toEqual({ body: { a: 1 } })
    const plain = await fetch(`${url}/plain`)
    expect([plain.status, await plain.text()]).toEqual([200, 'plain'])
    expect((await fetch(`${url}/missing`)).status).toBe(404)
    const head = await fetch(`${url}/events`, { method: 'HEAD' })
    expect([head.status, head.headers.get('content-type')]).toEqual([
      200,
      'text/event-stream; charset=utf-8',
    ])
    const client = await openStream(`${url}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 2)
    await sse.broker.publish('t', 'still streams')
    expect((await client.take(1))[0]).toMatchObject({ data: 'still streams' })
  })

  test('a name the class has an accessor for is never declared: an app that shadows req.headers does not break later requests', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.use((req, _res, next) => {
      // A careless middleware: an own data property over Node's `headers` accessor.
      if (req.path === '/events')
        Object.defineProperty(req, 'headers', { value: {}, writable: true })
      next()
    })
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    app.get('/probe', (req, res) => res.json({ probe: req.headers['x-probe'] ?? null }))
    const { url } = await serve(app)
    await openStream(`${url}/events`)
    const answer = await fetch(`${url}/probe`, { headers: { 'x-probe': 'kept' } })
    expect(await answer.json()).toEqual({ probe: 'kept' })
  })

  test('a name the class has read-only, from the start or made so later, breaks no request: the server keeps answering', async () => {
    const prototype = IncomingMessage.prototype as unknown as Record<string, unknown>
    Object.defineProperty(prototype, 'sseReadOnly', { value: 'class', configurable: true })
    cleanups.push(() => {
      delete prototype.sseReadOnly
      delete prototype.sseLater
    })
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.get('/events', (req, res) => {
      // A careless app: its own value over a read-only one of the class, and a name of its own.
      Object.defineProperty(req, 'sseReadOnly', { value: 'own', enumerable: true })
      ;(req as unknown as Record<string, unknown>).sseLater = 'own'
      res.sse({ topics: ['t'] })
    })
    app.get('/probe', (req, res) => {
      const fields = req as unknown as Record<string, unknown>
      res.json({ readOnly: fields.sseReadOnly, later: fields.sseLater ?? null })
    })
    const { url } = await serve(app)
    await openStream(`${url}/events`)
    expect(await (await fetch(`${url}/probe`)).json()).toEqual({ readOnly: 'class', later: null })
    // Assigning `sseLater` in a constructor would now throw, inside Node's HTTP parser.
    Object.defineProperty(prototype, 'sseLater', { value: 'class', configurable: true })
    const answer = await fetch(`${url}/probe`)
    expect([answer.status, await answer.json()]).toEqual([
      200,
      { readOnly: 'class', later: 'class' },
    ])
  })

  test('requests with made-up property names: at most 64 names are declared, and the server keeps answering', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.get('/events/:n', (req, res) => {
      // A hostile or careless app: a new property name on every stream.
      ;(req as unknown as Record<string, unknown>)[`made_up_${req.params.n}`] = true
      res.sse({ topics: ['t'] })
    })
    let ownNames = 0
    app.get('/count', (req, res) => {
      ownNames = Reflect.ownKeys(req).length
      res.end()
    })
    const bare = express()
    let bareNames = 0
    bare.get('/count', (req, res) => {
      bareNames = Reflect.ownKeys(req).length
      res.end()
    })
    const { url } = await serve(app)
    const { url: bareUrl } = await serve(bare)
    for (let n = 0; n < 150; n++) {
      openSocket(cleanups, url, httpRequests(1, 'GET', `/events/${n}`), { read: false })
    }
    await waitFor(() => sse.broker.subscribers('t') === 150)
    expect((await fetch(`${url}/count`)).status).toBe(200)
    await fetch(`${bareUrl}/count`)
    expect(ownNames).toBeGreaterThan(bareNames)
    expect(ownNames).toBeLessThanOrEqual(bareNames + 64)
  })

  test('classes the app gave createServer are kept: their constructors still run, under the subclass', async () => {
    class TimedRequest extends IncomingMessage {
      readonly receivedBy = 'TimedRequest'
    }
    class TaggedResponse extends ServerResponse {
      readonly taggedBy = 'TaggedResponse'
    }
    const { app, seen } = recordingApp(express, middleware())
    const { url, server } = await serve(app, {
      IncomingMessage: TimedRequest,
      ServerResponse: TaggedResponse as typeof ServerResponse,
    })
    await openStream(`${url}/events`)
    await fetch(`${url}/seen`)
    const [[req, res]] = seen as [[Request, Response]]
    expect((req as unknown as TimedRequest).receivedBy).toBe('TimedRequest')
    expect((res as unknown as TaggedResponse).taggedBy).toBe('TaggedResponse')
    const RequestClass = serverClass(server, 'IncomingMessage') as { prototype: object }
    expect(RequestClass).not.toBe(TimedRequest)
    expect(RequestClass.prototype).toBeInstanceOf(TimedRequest)
  })
})

test('an idle Express stream holds over 1 KiB less heap with shared classes than without (where V8 splits them)', async () => {
  const count = 400
  async function heldPerStream(shapeRequests: boolean): Promise<number> {
    const sse = middleware({ shapeRequests })
    const app = express5()
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    const { url } = await serve(app)
    // Shapes are learned from the first stream; the measured ones come after it.
    await openStream(`${url}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 1)
    const before = heldAfterGc()
    const sockets: RawSocket[] = []
    for (let i = 0; i < count; i++) {
      sockets.push(openSocket(cleanups, url, httpRequests(1, 'GET', '/events'), { read: false }))
    }
    await waitFor(() => sse.broker.subscribers('t') === count + 1)
    const held = (heldAfterGc() - before) / count
    for (const socket of sockets) socket.destroy()
    await waitFor(() => sse.broker.subscribers('t') === 1)
    return held
  }
  const separate = await heldPerStream(false)
  const shared = await heldPerStream(true)
  if (splitsAfterPrototypeSwap) expect(shared).toBeLessThan(separate - 1024)
  // Where V8 shares them by itself, declaring the names up front costs nothing either.
  else expect(shared).toBeLessThan(separate + 256)
})

test('shapeRequests is checked: a non-boolean is INVALID_OPTION naming it, and it goes with a shared broker', () => {
  let thrown: unknown
  try {
    sseMiddleware({ shapeRequests: 'yes' as unknown as boolean })
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(SSEError)
  expect(thrown).toMatchObject({ code: 'INVALID_OPTION', message: /shapeRequests/ })
  const owner = middleware()
  expect(() => middleware({ broker: owner.broker, shapeRequests: false })).not.toThrow()
})
