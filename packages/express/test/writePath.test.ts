import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SSEStream } from '@sse/core'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
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

/** A keep-alive HTTP/1.1 connection that keeps every byte the server sends (latin1). */
class WireClient {
  text = ''
  readonly #socket: Socket

  constructor(socket: Socket) {
    this.#socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.text += chunk
    })
  }

  static async open(url: string, path: string): Promise<WireClient> {
    const { port } = new URL(url)
    const socket = connect(Number(port), '127.0.0.1')
    socket.on('error', () => {})
    cleanups.push(() => socket.destroy())
    const client = new WireClient(socket)
    client.get(path)
    await waitFor(() => client.text.includes('\r\n\r\n'), 'the response head')
    return client
  }

  get(path: string): void {
    this.#socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
  }

  pause(): void {
    this.#socket.pause()
  }

  resume(): void {
    this.#socket.resume()
  }

  /** The body of the first response, chunk by chunk, and whatever follows its last chunk. */
  firstBody(): { chunks: string[]; ended: boolean; after: string } {
    let at = this.text.indexOf('\r\n\r\n') + 4
    const chunks: string[] = []
    for (;;) {
      const lineEnd = this.text.indexOf('\r\n', at)
      if (lineEnd < 0) return { chunks, ended: false, after: '' }
      const size = Number.parseInt(this.text.slice(at, lineEnd), 16)
      if (size === 0) return { chunks, ended: true, after: this.text.slice(lineEnd + 4) }
      const start = lineEnd + 2
      if (this.text.length < start + size + 2) return { chunks, ended: false, after: '' }
      chunks.push(this.text.slice(start, start + size))
      expect(this.text.slice(start + size, start + size + 2)).toBe('\r\n')
      at = start + size + 2
    }
  }
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  async function setup(routes: (app: Express, sse: SSEMiddleware) => void) {
    const app = express()
    const sse = sseMiddleware({ keepAlive: 0 })
    app.use(sse)
    routes(app, sse)
    const server = await listen(app)
    cleanups.push(
      () => server.close(),
      () => sse.close(),
    )
    return { app, sse, server }
  }

  test('each event reaches every socket as one whole HTTP/1.1 chunk in one write, the same bytes for an Express response as for a plain one', async () => {
    const app = express()
    const sse = sseMiddleware({ keepAlive: 0 })
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['news'] }))
    // Express gives every response a prototype of its own; the one answered in front of it has Node's.
    const server = await listen((req, res) => {
      if (req.url === '/plain') sse.broker.stream(req, res, { topics: ['news'] })
      else app(req, res)
    })
    cleanups.push(
      () => server.close(),
      () => sse.close(),
    )
    const writes = new Map<Socket, unknown[]>()
    server.server.on('connection', (socket: Socket) => {
      const seen: unknown[] = []
      writes.set(socket, seen)
      const write = socket.write
      socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
        seen.push(args[0])
        return write.apply(this, args)
      } as Socket['write']
    })
    const clients = [
      await WireClient.open(server.url, '/events'),
      await WireClient.open(server.url, '/events'),
      await WireClient.open(server.url, '/events'),
      await WireClient.open(server.url, '/plain'),
    ]
    await waitFor(() => sse.broker.subscribers('news') === 4)
    for (const seen of writes.values()) seen.length = 0

    const id = await sse.broker.publish('news', 'hello')
    await waitFor(() => clients.every((client) => client.firstBody().chunks.length === 1))

    const frame = `id: ${id}\nevent: news\ndata: hello\n\n`
    const written = [...writes.values()]
    expect(written).toHaveLength(4)
    for (const seen of written) {
      expect(seen).toHaveLength(1)
      expect(Buffer.isBuffer(seen[0])).toBe(true)
      expect((seen[0] as Buffer).toString('latin1')).toBe(
        `${frame.length.toString(16)}\r\n${frame}\r\n`,
      )
      expect(seen[0]).toBe(written[0]![0])
    }
    for (const client of clients) expect(client.firstBody().chunks).toEqual([frame])
  })

  test('an app that wraps res.write (a byte counter, compression) still sees every byte: the stream writes through it', async () => {
    let counted = ''
    const { sse, server } = await setup((app) => {
      app.use((_req, res, next) => {
        const write = res.write
        res.write = function (this: typeof res, chunk: unknown, ...rest: unknown[]) {
          counted += Buffer.from(chunk as Buffer).toString('latin1')
          return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
        } as typeof res.write
        next()
      })
      app.get('/events', (_req, res) => res.sse({ topics: ['news'] }))
    })
    const client = await WireClient.open(server.url, '/events')
    await waitFor(() => sse.broker.subscribers('news') === 1)
    await sse.broker.publish('news', 'one')
    await sse.broker.publish('news', 'two')
    await waitFor(() => client.firstBody().chunks.join('').includes('data: two'))
    expect(counted).toBe(client.firstBody().chunks.join(''))
    expect(counted).toMatch(/data: one\n\n.*data: two\n\n$/s)
  })

  test('a handler that ends its stream’s response itself gets nothing written after the end, the connection serves the next request, and the stream closes', async () => {
    const streams: SSEStream[] = []
    const { sse, server } = await setup((app) => {
      app.get('/events', async (req, res) => {
        streams.push(res.sse({ topics: ['news'], retry: 500 }))
        await sleep(20)
        // A careless handler, in a promise continuation: it ends the response, then publishes.
        await null
        res.end()
        req.broker.publish('news', 'after the end').catch(() => {})
      })
      app.get('/ping', (_req, res) => {
        res.type('text').send('pong')
      })
    })
    const client = await WireClient.open(server.url, '/events')
    await waitFor(() => client.firstBody().ended, 'the end of the first response')
    await sleep(20)
    expect(client.firstBody()).toEqual({ chunks: ['retry: 500\n\n'], ended: true, after: '' })
    expect(streams[0]!.isClosed).toBe(true)
    expect(sse.broker.stats().streams).toBe(0)
    client.get('/ping')
    await waitFor(() => client.firstBody().after.endsWith('pong'), 'the next response')
    expect(client.firstBody().after).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  })

  test('…even while that end is still queued behind a client that is not reading', async () => {
    const big = `: ${'x'.repeat(4 * 1024 * 1024)}\n\n`
    let ended = false
    const { sse, server } = await setup((app) => {
      app.get('/events', (_req, res) => {
        res.sse({ topics: ['news'] })
        res.write(big)
        res.end()
        ended = true
      })
    })
    const client = await WireClient.open(server.url, '/events')
    client.pause()
    await waitFor(() => ended)
    await sse.broker.publish('news', 'after the end')
    await sleep(20)
    client.resume()
    await waitFor(() => client.firstBody().ended, 'the end of the response')
    await sleep(20)
    const body = client.firstBody()
    expect(body.after).toBe('')
    expect(body.chunks.join('')).toBe(big)
  })

  test('after res.sse() has opened the stream, the request reads what it did before: req.next, params, locals, query and path', async () => {
    let before: Record<string, unknown> = {}
    let after: Record<string, unknown> = {}
    const read = (req: Request, res: Response) => ({
      next: req.next,
      id: req.params.id,
      user: res.locals.user,
      query: req.query.view,
      path: req.path,
    })
    const { sse, server } = await setup((app) => {
      app.use((_req, res, next) => {
        res.locals.user = 'ada'
        next()
      })
      app.get('/projects/:id/events', (req, res) => {
        before = read(req, res)
        res.sse({ topics: [`project:${req.params.id}`] })
        after = read(req, res)
      })
    })
    const client = await WireClient.open(server.url, '/projects/7/events?view=board')
    await waitFor(() => sse.broker.subscribers('project:7') === 1)
    expect(before.next).toBeTypeOf('function')
    expect(after).toEqual(before)
    expect(after).toMatchObject({
      id: '7',
      user: 'ada',
      query: 'board',
      path: '/projects/7/events',
    })
    await sse.broker.publish('project:7', 'still streaming')
    await waitFor(() =>
      client.firstBody().chunks.some((chunk) => chunk.includes('still streaming')),
    )
  })

  test('the handler’s own next still reaches the error handlers after its stream opened, and Express’s handler ends the stream', async () => {
    let handlerNext: ((error?: unknown) => void) | undefined
    const errors: unknown[] = []
    const { sse, server } = await setup((app) => {
      app.get('/events', (_req, res, next) => {
        res.sse({ topics: ['news'] })
        handlerNext = next
      })
      const recordError: ErrorRequestHandler = (error, _req, res, next) => {
        errors.push(error)
        if (res.headersSent) return next(error)
        res.status(500).end()
      }
      app.use(recordError)
    })
    const client = await WireClient.open(server.url, '/events')
    await waitFor(() => sse.broker.subscribers('news') === 1)
    await sleep(10)
    handlerNext!(new Error('late failure'))
    await waitFor(() => errors.length === 1)
    expect((errors[0] as Error).message).toBe('late failure')
    await waitFor(() => sse.broker.stats().streams === 0)
    expect(client.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  })
})
