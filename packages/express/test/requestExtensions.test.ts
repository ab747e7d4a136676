import { IncomingMessage, type ServerResponse } from 'node:http'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
import { openStream } from '@sse/testing'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import express5, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type Response,
} from 'express'
import express4 from 'express4'
import { describe, expect, test } from 'vitest'

const cleanups = useCleanups()

function middleware(): SSEMiddleware {
  const sse = sseMiddleware({ keepAlive: 0 })
  cleanups.push(() => sse.close())
  return sse
}

async function serve(app: Express | Parameters<typeof listen>[0]): Promise<string> {
  const server = await listen(app as Parameters<typeof listen>[0])
  cleanups.push(() => server.close())
  return server.url
}

async function json(url: string): Promise<unknown> {
  const answer = await fetch(url)
  return answer.json()
}

/** A route that reports what the request and response it got carry (a router alone has no `res.json`). */
function whoAmI(sse?: SSEMiddleware) {
  return (req: Request, res: Response) => {
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        broker: 'broker' in req,
        sse: 'sse' in res,
        ownBroker: Object.hasOwn(req, 'broker'),
        ownSse: Object.hasOwn(res, 'sse'),
        ...(sse !== undefined && { same: req.broker === sse.broker }),
      }),
    )
  }
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  test('req.broker and res.sse are the request’s own, and no prototype of Express or of the app gains either', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    app.get('/who', whoAmI(sse))
    const url = await serve(app)
    expect((await openStream(`${url}/events`)).status).toBe(200)
    expect(await json(`${url}/who`)).toEqual({
      broker: true,
      sse: true,
      ownBroker: true,
      ownSse: true,
      same: true,
    })
    for (const prototype of [express.request, express.response, app.request, app.response]) {
      expect(Object.hasOwn(prototype, 'broker') || Object.hasOwn(prototype, 'sse')).toBe(false)
    }
  })

  test('three levels of sub-apps, the middleware on the innermost: its routes stream, and routes of the outer apps reached after it falls through keep req.broker and res.sse', async () => {
    const sse = middleware()
    const [top, mid, leaf] = [express(), express(), express()]
    leaf.use(sse)
    leaf.get('/events', (_req, res) => res.sse({ topics: ['leaf'] }))
    mid.use('/leaf', leaf)
    mid.get('/leaf/mid-events', (_req, res) => res.sse({ topics: ['mid'] }))
    top.use('/mid', mid)
    top.get('/mid/leaf/top-events', (_req, res) => res.sse({ topics: ['top'] }))
    top.get('/mid/leaf/who', whoAmI(sse))
    top.get('/who', whoAmI())
    const url = await serve(top)
    const clients = {
      leaf: await openStream(`${url}/mid/leaf/events`),
      mid: await openStream(`${url}/mid/leaf/mid-events`),
      top: await openStream(`${url}/mid/leaf/top-events`),
    }
    for (const [topic, client] of Object.entries(clients)) {
      expect(client.status).toBe(200)
      await sse.broker.publish(topic, `to ${topic}`)
      expect((await client.take(1))[0]).toMatchObject({ event: topic, data: `to ${topic}` })
    }
    expect(await json(`${url}/mid/leaf/who`)).toMatchObject({ broker: true, sse: true, same: true })
    // A request that never reached the innermost app has neither.
    expect(await json(`${url}/who`)).toMatchObject({ broker: false, sse: false })
  })

  test('a standalone Router and an app on one server, each with its own middleware: each request gets its own router’s or app’s, whichever streamed first', async () => {
    const routerSse = middleware()
    const appSse = middleware()
    const router = express.Router()
    router.use(routerSse)
    router.get('/router/events', (_req, res) => res.sse({ topics: ['t'] }))
    router.get('/router/who', whoAmI(routerSse))
    const app = express()
    app.use(appSse)
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    app.get('/who', whoAmI(appSse))
    const url = await serve((req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/router/')) {
        router(req as never, res as never, () => {
          res.statusCode = 404
          res.end()
        })
      } else app(req, res)
    })
    const viaRouter = await openStream(`${url}/router/events`)
    const viaApp = await openStream(`${url}/events`)
    await openStream(`${url}/router/events`)
    expect([viaRouter.status, viaApp.status]).toEqual([200, 200])
    expect([routerSse.broker.subscribers('t'), appSse.broker.subscribers('t')]).toEqual([2, 1])
    expect(await json(`${url}/who`)).toMatchObject({ sse: true, same: true })
    expect(await json(`${url}/router/who`)).toMatchObject({ sse: true, same: true })
    await appSse.broker.publish('t', 'from the app')
    expect((await viaApp.take(1))[0]).toMatchObject({ data: 'from the app' })
  })

  test('two apps with different brokers in one process: each request has its own app’s broker, and events reach only that app’s streams', async () => {
    const [first, second] = [middleware(), middleware()]
    const urls: string[] = []
    for (const sse of [first, second]) {
      const app = express()
      app.use(sse)
      app.get('/events', (_req, res) => res.sse({ topics: ['news'] }))
      app.get('/who', whoAmI(sse))
      urls.push(await serve(app))
    }
    const [one, two] = [
      await openStream(`${urls[0]}/events`),
      await openStream(`${urls[1]}/events`),
    ]
    for (const url of urls) expect(await json(`${url}/who`)).toMatchObject({ same: true })
    await first.broker.publish('news', 'first')
    await second.broker.publish('news', 'second')
    expect((await one.take(1))[0]).toMatchObject({ data: 'first' })
    expect((await two.take(1))[0]).toMatchObject({ data: 'second' })
    expect([one.events.length, two.events.length]).toEqual([1, 1])
  })

  test('an app that never installed the middleware has neither, even after streams opened in another app of the process; a value it assigns is its own', async () => {
    const sse = middleware()
    const withSse = express()
    withSse.use(sse)
    withSse.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    const without = express()
    without.get('/who', whoAmI())
    without.get('/assign', (req, res) => {
      req.broker = sse.broker
      res.json({ assigned: req.broker === sse.broker })
    })
    await openStream(`${await serve(withSse)}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 1)
    const url = await serve(without)
    expect(await json(`${url}/who`)).toEqual({
      broker: false,
      sse: false,
      ownBroker: false,
      ownSse: false,
    })
    expect(await json(`${url}/assign`)).toEqual({ assigned: true })
    expect(await json(`${url}/who`)).toMatchObject({ broker: false })
  })

  test('a mounted sub-app’s routes get req.broker and res.sse from the parent app’s middleware', async () => {
    const sse = middleware()
    const app = express()
    const admin = express()
    admin.get('/events', (_req, res) => res.sse({ topics: ['admin'] }))
    admin.post('/notes', async (req, res) => {
      await req.broker.publish('admin', 'from the sub-app')
      res.status(201).end()
    })
    app.use(sse)
    app.use('/admin', admin)
    const url = await serve(app)
    const client = await openStream(`${url}/admin/events`)
    expect(await fetch(`${url}/admin/notes`, { method: 'POST' })).toMatchObject({ status: 201 })
    const [event] = await client.take(1)
    expect(event).toMatchObject({ event: 'admin', data: 'from the sub-app' })
  })

  test('two middlewares on two paths give each request its own broker', async () => {
    const first = middleware()
    const second = middleware()
    const app = express()
    app.use('/a', first)
    app.use('/b', second)
    app.get('/a/events', (_req, res) => res.sse({ topics: ['t'] }))
    app.get('/b/events', (_req, res) => res.sse({ topics: ['t'] }))
    const url = await serve(app)
    await openStream(`${url}/a/events`)
    await openStream(`${url}/b/events`)
    await openStream(`${url}/b/events`)
    expect(first.broker.subscribers('t')).toBe(1)
    expect(second.broker.subscribers('t')).toBe(2)
  })

  test('an iterable that fails in an outer app’s route, reached after the innermost app fell through, reaches the outer app’s error handler', async () => {
    const sse = middleware()
    const errors: unknown[] = []
    const [top, leaf] = [express(), express()]
    leaf.use(sse)
    top.use('/leaf', leaf)
    top.get('/leaf/job', (_req, res) =>
      res.sse(
        // biome-ignore lint/correctness/useYield: a source that fails before its first value
        (async function* () {
          throw new Error('boom')
        })(),
      ),
    )
    const recordError: ErrorRequestHandler = (error, _req, _res, next) => {
      errors.push(error)
      next(error)
    }
    top.use(recordError)
    const client = await openStream(`${await serve(top)}/leaf/job`)
    await client.ended()
    await waitFor(() => errors.length === 1)
    expect(errors).toMatchObject([{ code: 'SOURCE_FAILED' }])
  })

  test('an app whose requests already have a read-only broker gets the conflict in its error handler, and the server keeps answering', async () => {
    const sse = middleware()
    const app = express()
    Object.defineProperty(app.request, 'broker', { get: () => 'the app’s own', configurable: true })
    const errors: unknown[] = []
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    const recordError: ErrorRequestHandler = (error, _req, res, _next) => {
      errors.push(error)
      res.status(500).end()
    }
    app.use(recordError)
    const url = await serve(app)
    expect((await fetch(`${url}/events`)).status).toBe(500)
    expect((await fetch(`${url}/events`)).status).toBe(500)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect(sse.broker.stats().streams).toBe(0)
  })

  test('nothing server-wide: after streams, a request the server hands to a plain handler is Node’s own, as on a server that never streamed', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
    const seen: { prototype: boolean; names: string[] }[] = []
    const plain = (req: IncomingMessage, res: ServerResponse) => {
      res.end()
      seen.push({
        prototype: Object.getPrototypeOf(req) === IncomingMessage.prototype,
        names: Reflect.ownKeys(req).map(String).concat(Reflect.ownKeys(res).map(String)),
      })
    }
    const streamed = await serve((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/plain') plain(req, res)
      else app(req, res)
    })
    for (let i = 0; i < 3; i++) await openStream(`${streamed}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 3)
    await fetch(`${streamed}/plain`)
    await fetch(`${await serve(plain)}/plain`)
    const [afterStreams, neverStreamed] = seen
    expect(afterStreams).toEqual(neverStreamed)
    expect(afterStreams?.prototype).toBe(true)
  })

  test('a router used without an Express app gets req.broker and res.sse as its own properties', async () => {
    const sse = middleware()
    const router = express.Router()
    router.use(sse)
    let own = false
    router.get('/events', (_req, res) => {
      own = Object.hasOwn(res, 'sse')
      res.sse({ topics: ['t'] })
    })
    const url = await serve((req: IncomingMessage, res: ServerResponse) => {
      router(req as never, res as never, () => {
        res.statusCode = 404
        res.end()
      })
    })
    const client = await openStream(`${url}/events`)
    await waitFor(() => sse.broker.subscribers('t') === 1)
    await sse.broker.publish('t', 'routed')
    const [event] = await client.take(1)
    expect(event).toMatchObject({ data: 'routed' })
    expect(own).toBe(true)
  })
})
