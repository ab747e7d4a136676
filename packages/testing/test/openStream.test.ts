import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import {
  createServer as createH2Server,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import { createBroker, SSEError, SSEStream } from '@sse/core'
import { closeStreams, openStream, SSETestError } from '@sse/testing'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test, vi } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))

/** A broker on topic `t` (keep-alive off), closed after the test, and its request listener. */
function brokerApp() {
  const broker = createBroker({ keepAlive: 0 })
  cleanups.push(() => broker.close())
  const app = (req: IncomingMessage, res: ServerResponse) =>
    broker.stream(req, res, { topics: ['t'] })
  return { broker, app }
}

describe('targets', () => {
  test('a request listener (an Express app) gets a server for as long as its streams need one', async () => {
    const { broker, app } = brokerApp()
    const first = await openStream(app, '/events')
    const second = await openStream(app, '/events')
    expect(first.url).toBe(second.url)
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/events$/)
    expect([first.status, first.headers['content-type']]).toEqual([
      200,
      'text/event-stream; charset=utf-8',
    ])
    await first.close()
    const id = await broker.publish('t', 'still served')
    expect(await second.take(1)).toEqual([{ event: 't', data: 'still served', id }])
    await second.close()
    // The last stream took the server with it: a fresh open listens again.
    const third = await openStream(app, '/events')
    expect(third.status).toBe(200)
  })

  test('a server that is not listening is listened on 127.0.0.1 and closed after its last stream', async () => {
    const { app } = brokerApp()
    const server = createServer(app)
    const stream = await openStream(server, '/')
    expect(server.listening).toBe(true)
    expect(server.address()).toMatchObject({ address: '127.0.0.1' })
    await stream.close()
    expect(server.listening).toBe(false)
  })

  test('a server already listening is used as it is and left open', async () => {
    const { broker, app } = brokerApp()
    const server = await listen(app)
    cleanups.push(() => server.close())
    const stream = await openStream(server.server, '/?x=1')
    expect(stream.url).toBe(`${server.url}/?x=1`)
    await stream.close()
    expect(server.server.listening).toBe(true)
    await waitFor(() => broker.stats().streams === 0)
  })

  test('a URL, with its own path and query or with a path given apart', async () => {
    const seen: string[] = []
    const server = await listen((req, res) => {
      seen.push(req.url!)
      new SSEStream(req, res, { keepAlive: 0 })
    })
    cleanups.push(() => server.close())
    await openStream(`${server.url}/events?topics=a`)
    await openStream(new URL(server.url), '/other?b=2')
    expect(seen).toEqual(['/events?topics=a', '/other?b=2'])
  })

  test('an HTTP/2 server, plain or secure, is spoken to over HTTP/2', async () => {
    const handler = (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const stream = new SSEStream(req, res, { keepAlive: 0 })
      stream.send({ event: 'h2', data: 'over h2' })
    }
    const plain = createH2Server(handler)
    const secure = createSecureServer(
      { key: fixture('localhost-key.pem'), cert: fixture('localhost-cert.pem') },
      handler,
    )
    for (const server of [plain, secure]) {
      const stream = await openStream(server, '/events')
      expect(stream.url).toMatch(server === plain ? /^http:/ : /^https:/)
      expect(stream.status).toBe(200)
      expect(stream.headers.connection).toBeUndefined()
      expect(stream.headers[':status']).toBeUndefined()
      expect(await stream.take(1)).toMatchObject([{ event: 'h2', data: 'over h2' }])
      expect(stream.text()).toBe('event: h2\ndata: over h2\n\n')
      await stream.close()
      expect(server.listening).toBe(false)
    }
  })

  test('anything else is refused with INVALID_TEST_TARGET, naming what it got', async () => {
    for (const target of [42, null, {}, 'not a url', 'ftp://example.com/', { listen() {} }]) {
      const opening = openStream(target as never)
      await expect(opening).rejects.toMatchObject({
        name: 'SSETestError',
        code: 'INVALID_TEST_TARGET',
      })
      await expect(opening).rejects.toThrow(/^@sse\/testing: cannot open a stream against /)
    }
  })
})

describe('reading', () => {
  test('take, until and for await share one cursor; events keeps everything', async () => {
    const { broker, app } = brokerApp()
    const stream = await openStream(app)
    for (const data of ['1', '2', '3', '4', '5', '6']) await broker.publish('t', data)
    expect((await stream.take(2)).map((event) => event.data)).toEqual(['1', '2'])
    expect((await stream.until((event) => event.data === '4')).map((e) => e.data)).toEqual([
      '3',
      '4',
    ])
    const rest: string[] = []
    for await (const event of stream) {
      rest.push(event.data)
      if (event.data === '5') break
    }
    expect(rest).toEqual(['5'])
    expect(stream.state).toBe('open')
    expect((await stream.take(1))[0]!.data).toBe('6')
    expect(stream.events.map((event) => event.data)).toEqual(['1', '2', '3', '4', '5', '6'])
    expect(stream.received).toBe(6)
  })

  test('the exact bytes, comments, retry and lastEventId', async () => {
    const server = await listen((req, res) => {
      const stream = new SSEStream(req, res, { keepAlive: 0, retry: 1500 })
      stream.comment('hi')
      stream.send({ id: 'a-1', event: 'x', data: 'one\ntwo' })
      stream.send({ data: 'no id' })
    })
    cleanups.push(() => server.close())
    const stream = await openStream(server.url)
    await stream.take(2)
    expect(stream.text()).toBe(
      'retry: 1500\n\n: hi\n\nid: a-1\nevent: x\ndata: one\ndata: two\n\ndata: no id\n\n',
    )
    expect(stream.bytes().equals(Buffer.from(stream.text()))).toBe(true)
    expect([stream.comments, stream.retry, stream.lastEventId]).toEqual([['hi'], 1500, 'a-1'])
    expect(stream.events.map(({ id }) => id)).toEqual(['a-1', undefined])
  })

  test('waitFor re-checks on every chunk, for what events do not say', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    cleanups.push(() => vi.useRealTimers())
    const server = await listen((req, res) => new SSEStream(req, res, { keepAlive: 1000 }))
    cleanups.push(() => server.close())
    const stream = await openStream(server.url)
    vi.advanceTimersByTime(1000)
    await stream.waitFor((s) => s.text() === ':\n\n')
    expect(stream.comments).toEqual([''])
  })

  test('a refusal resolves with its status, headers and body; iterating ends at once', async () => {
    const { app } = brokerApp()
    const refusing = createBroker({ keepAlive: 0, maxConnections: 1 })
    cleanups.push(() => refusing.close())
    const server = await listen((req, res) => refusing.stream(req, res, { topics: ['t'] }))
    cleanups.push(() => server.close())
    await openStream(server.url)
    const refused = await openStream(server.url)
    expect([refused.status, refused.headers['retry-after'], refused.state]).toEqual([
      503,
      '5',
      'ended',
    ])
    expect(refused.text()).toMatch(/./)
    const events = []
    for await (const event of refused) events.push(event)
    expect(events).toEqual([])
    await expect(refused.take(1)).rejects.toMatchObject({ code: 'TEST_STREAM_ENDED' })
    void app
  })

  test('HEAD gets the head and an ended, empty body', async () => {
    const { app } = brokerApp()
    const head = await openStream(app, '/', { method: 'HEAD' })
    expect([head.status, head.headers['content-type']]).toEqual([
      200,
      'text/event-stream; charset=utf-8',
    ])
    expect(await head.ended()).toBe('ended')
    expect(head.text()).toBe('')
  })

  test('raw mode keeps the bytes as they came and parses nothing', async () => {
    const body = Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a, 0x0a])
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(body)
    })
    cleanups.push(() => server.close())
    const raw = await openStream(server.url, { raw: true })
    expect(await raw.ended()).toBe('ended')
    expect(raw.bytes().equals(body)).toBe(true)
    expect(raw.text()).toBe('data: \uFFFD\uFFFD\n\n')
    expect(raw.events).toEqual([])
    expect(() => raw.take(1)).toThrow(
      'take() reads events, and this stream was opened with option raw: true',
    )
    const parsed = await openStream(server.url)
    await parsed.ended()
    expect(parsed.events).toEqual([{ event: undefined, data: '\uFFFD\uFFFD', id: undefined }])
  })
})

describe('reconnect', () => {
  test('opens a new stream with Last-Event-ID, on the same server, and keeps the old one as it was', async () => {
    const { broker, app } = brokerApp()
    const seen: unknown[] = []
    const server = createServer((req, res) => {
      seen.push([req.headers['last-event-id'], req.headers['x-client']])
      app(req, res)
    })
    const first = await openStream(server, '/', { headers: { 'x-client': 'kit' } })
    const one = await broker.publish('t', 'one')
    const two = await broker.publish('t', 'two')
    await first.take(2)
    const second = await first.reconnect()
    expect(first.state).toBe('closed')
    expect(second.url).toBe(first.url)
    expect(seen).toEqual([
      [undefined, 'kit'],
      [two, 'kit'],
    ])
    await broker.publish('t', 'three')
    expect((await second.take(1))[0]!.data).toBe('three')
    expect(first.events.map((event) => event.id)).toEqual([one, two])
    // Closed first, the kit's server went with it: the next one listens anew, and replay fills the gap.
    await second.close()
    await broker.publish('t', 'missed')
    const third = await second.reconnect()
    expect((await third.take(1))[0]!.data).toBe('missed')
  })

  test('the Last-Event-ID sent replaces one among the headers, whatever its case', async () => {
    const seen: unknown[] = []
    const server = await listen((req, res) => {
      seen.push(req.headers['last-event-id'])
      new SSEStream(req, res, { keepAlive: 0 }).send({ id: 'from-server', data: 'x' })
    })
    cleanups.push(() => server.close())
    const first = await openStream(server.url, { headers: { 'LAST-EVENT-ID': 'mine' } })
    await first.take(1)
    const second = await first.reconnect()
    const third = await openStream(server.url, {
      headers: { 'Last-Event-Id': 'mine' },
      lastEventId: 'option',
    })
    expect(seen).toEqual(['mine', 'from-server', 'option'])
    expect(second.lastEventId).toBe('from-server')
    await third.take(1)
  })

  test('after the server went away, reconnecting rejects with TEST_REQUEST_FAILED', async () => {
    const { app } = brokerApp()
    const server = await listen(app)
    const stream = await openStream(server.url)
    await server.close()
    expect(await stream.ended()).toBe('cut')
    const reconnecting = stream.reconnect()
    await expect(reconnecting).rejects.toMatchObject({ code: 'TEST_REQUEST_FAILED' })
    await expect(reconnecting).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('closing', () => {
  test('close() twice is fine; iterating and taking afterwards end at once', async () => {
    const { broker, app } = brokerApp()
    const stream = await openStream(app)
    await broker.publish('t', 'kept')
    await stream.waitFor((s) => s.received === 1)
    await Promise.all([stream.close(), stream.close()])
    await stream.close()
    expect(stream.state).toBe('closed')
    const events = []
    for await (const event of stream) events.push(event.data)
    expect(events).toEqual(['kept'])
    await expect(stream.take(1)).rejects.toMatchObject({ code: 'TEST_STREAM_ENDED' })
    await expect(stream.waitFor(() => false)).rejects.toMatchObject({ code: 'TEST_STREAM_ENDED' })
    expect(await stream.ended()).toBe('closed')
    await waitFor(() => broker.stats().streams === 0)
  })

  test('aborting the signal closes the stream; an aborted signal opens nothing', async () => {
    const { app } = brokerApp()
    const controller = new AbortController()
    const stream = await openStream(app, { signal: controller.signal })
    const taking = stream.take(1)
    controller.abort()
    await expect(taking).rejects.toMatchObject({ code: 'TEST_STREAM_ENDED' })
    expect(stream.state).toBe('closed')
    await expect(openStream(app, { signal: controller.signal })).rejects.toMatchObject({
      code: 'TEST_REQUEST_FAILED',
    })
  })

  test('closeStreams() closes every open stream and the servers the kit listened on', async () => {
    const { broker, app } = brokerApp()
    const server = createServer(app)
    await Promise.all([openStream(app), openStream(server), openStream(server)])
    expect(broker.stats().streams).toBe(3)
    await closeStreams()
    expect(server.listening).toBe(false)
    await waitFor(() => broker.stats().streams === 0)
  })
})

describe('options', () => {
  test.each([
    [{ timeout: 0 }, 'option "timeout" must be >= 1, got 0'],
    [{ timeout: '5s' }, 'option "timeout" must be of type integer, got "5s"'],
    [{ headers: { 'bad name': 'x' } }, 'option "headers" must be an object of valid HTTP header'],
    [{ headers: { a: 'line\nbreak' } }, 'option "headers" must be an object of valid HTTP header'],
    [{ method: 'GET /x' }, 'option "method" must be'],
    [{ raw: 'yes' }, 'option "raw" must be of type boolean'],
    [{ signal: {} }, 'option "signal" must be'],
    [{ lastEventid: 'x' }, 'unknown option "lastEventid"'],
  ])('%o is refused with INVALID_OPTION', async (options, message) => {
    const opening = openStream('http://127.0.0.1:9/', options as never)
    await expect(opening).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(opening).rejects.toThrow(`@sse/testing: ${message}`)
  })

  test('a path without a leading slash, or with spaces or control characters, is refused', async () => {
    for (const path of ['events', '/a b', '/a\r\nx-injected: 1', '/\0']) {
      await expect(openStream('http://127.0.0.1:9', path)).rejects.toMatchObject({
        code: 'INVALID_OPTION',
      })
    }
  })

  test('what the kit cannot do is an SSETestError; a bad option is an SSEError, as in @sse/core', async () => {
    const cannot = await openStream('nope').catch((caught: unknown) => caught)
    expect(cannot).toBeInstanceOf(SSETestError)
    expect(cannot).not.toBeInstanceOf(SSEError)
    const bad = await openStream('http://127.0.0.1:9', { timeout: 0 }).catch(
      (caught: unknown) => caught,
    )
    expect(bad).toBeInstanceOf(SSEError)
    expect(bad).toMatchObject({ code: 'INVALID_OPTION' })
  })
})
