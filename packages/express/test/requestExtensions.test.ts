import type { IncomingMessage, ServerResponse } from 'node:http'
import { openStream } from '@sse/core/testing'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import express5, { type Express } from 'express'
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

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  test('req.broker and res.sse are added to no request: the request and response keep what Express gave them', async () => {
    const sse = middleware()
    const app = express()
    app.use(sse)
    app.get('/own', (req, res) => {
      res.json({
        ownBroker: Object.hasOwn(req, 'broker'),
        ownSse: Object.hasOwn(res, 'sse'),
        sameBroker: req.broker === sse.broker,
        sse: typeof res.sse,
      })
    })
    const url = await serve(app)
    expect(await json(`${url}/own`)).toEqual({
      ownBroker: false,
      ownSse: false,
      sameBroker: true,
      sse: 'function',
    })
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

  test('a request no middleware handled has neither, even in an app next to one that has it; a value the app assigns is its own', async () => {
    const sse = middleware()
    const withSse = express()
    withSse.use(sse)
    withSse.get('/', (_req, res) => res.json({ sse: typeof res.sse }))
    const without = express()
    without.get('/', (req, res) => {
      const before = { broker: typeof req.broker, sse: typeof res.sse }
      req.broker = sse.broker
      res.json({ before, assigned: req.broker === sse.broker })
    })
    expect(await json(await serve(withSse))).toEqual({ sse: 'function' })
    expect(await json(await serve(without))).toEqual({
      before: { broker: 'undefined', sse: 'undefined' },
      assigned: true,
    })
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
