import { connect as connectH2 } from 'node:http2'
import { type BrokerOptions, createBroker, SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { httpRequests, listen, listenH2, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

async function setup(options: BrokerOptions = {}) {
  const { broker, url } = await serveBroker(cleanups, options)
  /** A raw socket that sends `requests` in one write and collects what comes back. */
  const raw = (requests: string) => openSocket(cleanups, url, requests)
  return { broker, url, raw }
}

const GET = httpRequests(1, 'GET')
const HEAD = httpRequests(1, 'HEAD')

describe('pipelined requests', () => {
  test('20 pipelined requests hold one stream; when the client leaves nothing stays counted', async () => {
    const { broker, raw } = await setup()
    const socket = raw(GET.repeat(20))
    await waitFor(() => broker.stats().streams === 1)
    await broker.publish('t', 'x')
    await waitFor(() => socket.text().includes('data: x'))
    expect(broker.subscribers('t')).toBe(1)
    socket.destroy()
    await waitFor(() => broker.stats().streams === 0)
    expect(broker.subscribers('t')).toBe(0)
  })

  test('one socket with 60 pipelined requests does not lock 5 new clients out of maxConnections: 50', async () => {
    const { broker, raw, url } = await setup({ maxConnections: 50 })
    raw(GET.repeat(60))
    await waitFor(() => broker.stats().streams === 1)
    const clients = await Promise.all(Array.from({ length: 5 }, () => openStream(url)))
    expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
    expect(broker.stats().streams).toBe(6)
  })

  test('a request queued behind a stream opens once that stream ends, and only then counts', async () => {
    const streams: SSEStream[] = []
    const { broker, url } = await serveBroker(cleanups, {}, (broker, req, res) => {
      streams.push(broker.stream(req, res, { topics: ['t'] }))
    })
    const socket = openSocket(cleanups, url, GET.repeat(2))
    await waitFor(() => streams.length === 2 && broker.stats().streams === 1)
    streams[0]!.close()
    await waitFor(() => broker.stats().streams === 1 && streams[1]!.isOpen)
    await broker.publish('t', 'second')
    await waitFor(() => socket.text().includes('data: second'))
    expect(socket.text().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
  })
})

describe('HEAD', () => {
  test('HEAD gets the SSE head and an ended body, with no subscription and no slot', async () => {
    const { broker, url } = await setup({ maxConnections: 1 })
    const head = await openStream(url, { method: 'HEAD' })
    await head.ended()
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(head.state).toBe('ended')
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 0 })
    const get = await openStream(url)
    expect(get.status).toBe(200)
  })

  test('a request pipelined after a HEAD on the same connection is answered', async () => {
    const { broker, raw } = await setup()
    const socket = raw(HEAD + GET)
    await waitFor(() => broker.stats().streams === 1)
    await broker.publish('t', 'after head')
    await waitFor(() => socket.text().includes('data: after head'))
    expect(socket.text().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
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
    const head = await openStream(server.url, { method: 'HEAD' })
    await head.ended()
    expect(head.status).toBe(200)
    expect(sent).toBe(false)
  })
})
