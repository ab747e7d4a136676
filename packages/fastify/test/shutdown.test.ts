import ssePlugin, { createBroker, SSEError } from '@sse/fastify'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import {
  type H2Stream,
  h2Client,
  httpRequests,
  openSocket,
  useCleanups,
  waitFor,
} from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

/** Opens `count` clients, `batch` at a time, so loopback is not flooded all at once. */
async function openMany<T>(count: number, open: () => Promise<T>, batch = 100): Promise<T[]> {
  const clients: T[] = []
  while (clients.length < count) {
    const size = Math.min(batch, count - clients.length)
    clients.push(...(await Promise.all(Array.from({ length: size }, open))))
  }
  return clients
}

describe('app.close()', () => {
  test('ends 1,000 open streams itself, so it resolves without waiting for a client to leave', async () => {
    const app = Fastify()
    await app.register(ssePlugin, { keepAlive: 0 })
    app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
    let closed = false
    cleanups.push(() => closed || app.close())
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    const clients = await openMany(1000, () => openStream(`${origin}/events`, { timeout: 30_000 }))
    cleanups.push(() => {
      for (const client of clients) client.close()
    })
    expect(clients.every((client) => client.status === 200)).toBe(true)
    expect(app.broker.stats().streams).toBe(1000)

    // No client closes anything: each response ends because the server ended it, cleanly.
    const closing = app.close()
    await Promise.all(clients.map((client) => client.ended()))
    expect(clients.every((client) => client.state === 'ended')).toBe(true)
    await closing
    closed = true
    expect(app.broker.stats().streams).toBe(0)
    expect(app.broker.isClosed).toBe(true)
  })

  test('over HTTP/2, ends 1,000 open streams on 10 sessions itself, so it resolves without waiting for a client to leave', async () => {
    const app = Fastify({ http2: true })
    await app.register(ssePlugin, { keepAlive: 0 })
    app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
    let closed = false
    cleanups.push(() => closed || app.close())
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    const clients: H2Stream[] = []
    for (let session = 0; session < 10; session++) {
      const first = h2Client(origin, '/events')
      clients.push(first)
      for (let i = 1; i < 100; i++) clients.push(first.request('/events'))
    }
    cleanups.push(() => {
      for (const client of clients) client.close()
    })
    const responses = await Promise.all(clients.map((client) => client.response))
    expect(responses.every((headers) => headers[':status'] === 200)).toBe(true)
    expect(app.broker.stats().streams).toBe(1000)

    // No client closes anything: each stream ends because the server ended it.
    const closing = app.close()
    await Promise.all(clients.map((client) => client.ended))
    await closing
    closed = true
    expect(app.broker.stats().streams).toBe(0)
  })

  test('closes the broker the plugin created: publishing afterwards throws BROKER_CLOSED', async () => {
    const app = Fastify()
    await app.register(ssePlugin)
    await app.ready()
    const broker = app.broker
    await app.close()
    expect(broker.isClosed).toBe(true)
    expect(() => broker.publish('t', 'late')).toThrow(SSEError)
  })

  test('leaves a broker passed in open, and ends only this app’s streams', async () => {
    const broker = createBroker({ keepAlive: 0 })
    cleanups.push(() => broker.close())
    const start = async () => {
      const app = Fastify()
      await app.register(ssePlugin, { broker })
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
      const origin = await app.listen({ port: 0, host: '127.0.0.1' })
      return { app, origin }
    }
    const first = await start()
    const second = await start()
    cleanups.push(() => second.app.close())
    const leaving = await openStream(`${first.origin}/events`)
    const staying = await openStream(`${second.origin}/events`)
    cleanups.push(
      () => leaving.close(),
      () => staying.close(),
    )
    expect(broker.stats().streams).toBe(2)

    await first.app.close()
    await leaving.ended()
    expect(broker.isClosed).toBe(false)
    expect(broker.stats().streams).toBe(1)
    const id = await broker.publish('t', 'still here')
    await staying.take(1)
    expect(staying.text()).toBe(`id: ${id}\nevent: t\ndata: still here\n\n`)
  })

  test('a stream asked for while the app is closing is refused with 503 and Retry-After', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let arrived!: () => void
    const waiting = new Promise<void>((resolve) => (arrived = resolve))
    const app = Fastify()
    await app.register(ssePlugin, { keepAlive: 0 })
    app.get(
      '/late',
      {
        preHandler: async () => {
          arrived()
          await gate
        },
      },
      (_request, reply) => reply.sse({ topics: ['t'] }),
    )
    // Runs after the plugin's preClose hook: the handler then opens its stream too late.
    app.addHook('preClose', (done) => {
      release()
      done()
    })
    let closed = false
    cleanups.push(() => closed || app.close())
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    let client: TestStream | undefined
    const connecting = openStream(`${origin}/late`).then((c) => (client = c))
    cleanups.push(() => client?.close())
    await waiting
    await app.close()
    closed = true
    await connecting
    await client!.ended()
    expect(client!.status).toBe(503)
    expect(client!.headers['retry-after']).toBe('5')
  })
})

describe('a stream asked for before app.close() and answered after it', () => {
  test('is refused with Connection: close, so its kept-alive connection closes and app.close() resolves', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let arrived!: () => void
    const waiting = new Promise<void>((resolve) => (arrived = resolve))
    const app = Fastify()
    await app.register(ssePlugin, { keepAlive: 0 })
    app.get(
      '/late',
      {
        preHandler: async () => {
          arrived()
          await gate
        },
      },
      (_request, reply) => reply.sse({ topics: ['t'] }),
    )
    // Runs after the plugin's preClose hook, before the server closes: the connection is busy
    // then, so the server keeps it, and Fastify itself no longer answers on it.
    app.addHook('preClose', (done) => {
      release()
      done()
    })
    let closed = false
    cleanups.push(() => closed || app.close())
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    // HTTP/1.1, kept alive unless the server says otherwise.
    const socket = openSocket(cleanups, origin, httpRequests(1, 'GET', '/late'))
    await waiting
    const closing = app.close()
    await waitFor(() => socket.text().includes('\r\n\r\n'), 'the response head')
    expect(socket.statuses()).toEqual(['HTTP/1.1 503'])
    expect(socket.text()).toMatch(/^connection: close\r$/im)
    expect(socket.text()).toMatch(/^retry-after: 5\r$/im)
    await socket.closed()
    await closing
    closed = true
  })
})

describe('HTTP/2', () => {
  test('streams over h2c with the SSE headers and no Connection header', async () => {
    const app = Fastify({ http2: true })
    await app.register(ssePlugin, { keepAlive: 0 })
    app.get('/events', (_request, reply) => {
      reply.header('x-tag', 'h2')
      return reply.sse({ topics: ['t'] })
    })
    cleanups.push(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const client = await openStream(app, '/events')
    const headers = client.headers
    expect(client.status).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers['cache-control']).toBe('no-cache, no-transform')
    expect(headers['x-tag']).toBe('h2')
    expect(headers.connection).toBeUndefined()
    const id = await app.broker.publish('t', { data: 'over h2' })
    await client.take(1)
    expect(client.text()).toBe(`id: ${id}\nevent: t\ndata: over h2\n\n`)
  })
})
