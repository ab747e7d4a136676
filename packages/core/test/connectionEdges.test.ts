import { connect as connectH2 } from 'node:http2'
import { connect, type Socket } from 'node:net'
import { type BrokerOptions, createBroker, SSEStream } from '@sse/core'
import { afterEach, describe, expect, test } from 'vitest'
import { listen, listenH2, rawClient } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(predicate()).toBe(true)
}

async function setup(options: BrokerOptions = {}) {
  const broker = createBroker({ keepAlive: 0, ...options })
  const server = await listen((req, res) => broker.stream(req, res, { topics: ['t'] }))
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  const port = Number(new URL(server.url).port)
  /** A raw socket that sends `requests` in one write and collects what comes back. */
  const raw = (requests: string) => {
    const socket: Socket & { received?: string } = connect(port, '127.0.0.1')
    socket.received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      socket.received += chunk
    })
    socket.on('error', () => {})
    socket.write(requests)
    cleanups.push(() => socket.destroy())
    return socket as Socket & { received: string }
  }
  return { broker, server, url: server.url, raw }
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
const HEAD = 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n'

describe('pipelined requests', () => {
  test('20 pipelined requests hold one stream; when the client leaves nothing stays counted', async () => {
    const { broker, raw } = await setup()
    const socket = raw(GET.repeat(20))
    await until(() => broker.stats().streams === 1)
    await broker.publish('t', 'x')
    await until(() => socket.received.includes('data: x'))
    expect(broker.subscribers('t')).toBe(1)
    socket.destroy()
    await until(() => broker.stats().streams === 0)
    expect(broker.subscribers('t')).toBe(0)
  })

  test('one socket with 60 pipelined requests does not lock 5 new clients out of maxConnections: 50', async () => {
    const { broker, raw, url } = await setup({ maxConnections: 50 })
    raw(GET.repeat(60))
    await until(() => broker.stats().streams === 1)
    const clients = await Promise.all(Array.from({ length: 5 }, () => rawClient(url)))
    for (const client of clients) cleanups.push(() => client.close())
    expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
    expect(broker.stats().streams).toBe(6)
  })

  test('a request queued behind a stream opens once that stream ends, and only then counts', async () => {
    const broker = createBroker({ keepAlive: 0 })
    const streams: SSEStream[] = []
    const server = await listen((req, res) => {
      streams.push(broker.stream(req, res, { topics: ['t'] }))
    })
    cleanups.push(
      () => server.close(),
      () => broker.close(),
    )
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
    cleanups.push(() => socket.destroy())
    let received = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      received += chunk
    })
    socket.write(GET.repeat(2))
    await until(() => streams.length === 2 && broker.stats().streams === 1)
    streams[0]!.close()
    await until(() => broker.stats().streams === 1 && streams[1]!.isOpen)
    await broker.publish('t', 'second')
    await until(() => received.includes('data: second'))
    expect(received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
  })
})

describe('HEAD', () => {
  test('HEAD gets the SSE head and an ended body, with no subscription and no slot', async () => {
    const { broker, url } = await setup({ maxConnections: 1 })
    const head = await rawClient(url, {}, { method: 'HEAD' })
    await head.ended
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(head.complete()).toBe(true)
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 0 })
    const get = await rawClient(url)
    cleanups.push(() => get.close())
    expect(get.status).toBe(200)
  })

  test('a request pipelined after a HEAD on the same connection is answered', async () => {
    const { broker, raw } = await setup()
    const socket = raw(HEAD + GET)
    await until(() => broker.stats().streams === 1)
    await broker.publish('t', 'after head')
    await until(() => socket.received.includes('data: after head'))
    expect(socket.received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
  })

  test('HEAD over HTTP/2 gets the head and an ended stream', async () => {
    const broker = createBroker({ keepAlive: 0 })
    const server = await listenH2((req, res) => broker.stream(req, res, { topics: ['t'] }))
    cleanups.push(
      () => server.close(),
      () => broker.close(),
    )
    const session = connectH2(server.url)
    cleanups.push(() => session.close())
    const stream = session.request({ ':path': '/', ':method': 'HEAD' })
    const headers = await new Promise<Record<string, unknown>>((resolve) =>
      stream.on('response', resolve),
    )
    stream.resume()
    await new Promise((resolve) => stream.on('end', resolve))
    expect(headers[':status']).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(broker.stats().streams).toBe(0)
  })

  test('a stream of your own on HEAD is closed at once, so send() returns false', async () => {
    let sent: boolean | undefined
    const server = await listen((req, res) => {
      const stream = new SSEStream(req, res, { keepAlive: 0 })
      sent = stream.send({ data: 'x' })
    })
    cleanups.push(() => server.close())
    const head = await rawClient(server.url, {}, { method: 'HEAD' })
    await head.ended
    expect(head.status).toBe(200)
    expect(sent).toBe(false)
  })
})
