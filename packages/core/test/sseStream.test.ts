import type { ServerResponse } from 'node:http'
import { SSEError, SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { endlessSource, listen, listenH2, once, useCleanups } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { keepAlive } from '../src/stream/keepAlive.js'

const cleanups = useCleanups()
afterEach(closeStreams)
// Hooks run in reverse: real timers are back before the cleanups run.
afterEach(() => {
  vi.useRealTimers()
})

/** Starts a server whose handler opens an SSEStream and hands it to `onStream`. */
async function serve(
  onStream: (stream: SSEStream) => void,
  options?: ConstructorParameters<typeof SSEStream>[2],
) {
  const streams: SSEStream[] = []
  const server = await listen((req, res) => {
    const stream = new SSEStream(req, res, options)
    streams.push(stream)
    onStream(stream)
  })
  cleanups.push(() => server.close())
  return { ...server, streams }
}

describe('opening a stream over HTTP/1.1', () => {
  test('sends 200 with the SSE headers at once, keeping headers the app set before', async () => {
    const { url } = await serve(() => {}, { headers: { 'X-Custom': 'yes' } })
    const seen = await listen((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', 'https://app.example')
      new SSEStream(req, res)
    })
    cleanups.push(() => seen.close())
    const client = await openStream(url)
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.headers['cache-control']).toBe('no-cache, no-transform')
    expect(client.headers['x-accel-buffering']).toBe('no')
    expect(client.headers.connection).toBe('keep-alive')
    expect(client.headers['x-custom']).toBe('yes')
    const cors = await openStream(seen.url)
    expect(cors.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(cors.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(cors.headers.connection).toBe('keep-alive')
  })

  test('an optional retry hint goes out with the first bytes', async () => {
    const { url } = await serve((stream) => stream.send({ data: 'x' }), { retry: 2500 })
    const client = await openStream(url)
    await client.take(1)
    expect(client.text()).toBe('retry: 2500\n\ndata: x\n\n')
  })

  test('send, comment and sendFrame write exact bytes in order, batched per tick', async () => {
    const { url } = await serve((stream) => {
      stream.send({ event: 'a', data: 'one\ntwo' })
      stream.comment('hello')
      stream.sendFrame(Buffer.from('id: 9\ndata: {"x":1}\n\n'))
    })
    const client = await openStream(url)
    await client.take(2)
    expect(client.text()).toBe(
      'event: a\ndata: one\ndata: two\n\n: hello\n\nid: 9\ndata: {"x":1}\n\n',
    )
    expect(client.comments).toEqual(['hello'])
  })

  test('an EventSource client receives named and unnamed events', async () => {
    const { url } = await serve((stream) => {
      stream.send({ data: 'plain' })
      stream.send({ event: 'named', data: '<b>html</b>' })
    })
    const source = new EventSource(url)
    cleanups.push(() => source.close())
    const [plain, named] = await Promise.all([
      once<MessageEvent>(source, 'message'),
      once<MessageEvent>(source, 'named'),
    ])
    expect(plain.data).toBe('plain')
    expect(named.data).toBe('<b>html</b>')
  })

  test('a plain fetch reads the stream as it arrives', async () => {
    const { url, streams } = await serve((stream) => stream.send({ event: 'first', data: 'a' }))
    const controller = new AbortController()
    cleanups.push(() => controller.abort())
    const response = await fetch(url, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.endsWith('\n\n')) text += (await reader.read()).value
    expect(text).toBe('event: first\ndata: a\n\n')
    streams[0]!.send({ data: 'second' })
    text = ''
    while (!text.endsWith('\n\n')) text += (await reader.read()).value
    expect(text).toBe('data: second\n\n')
  })

  test('Accept: */* clients get the stream too', async () => {
    const { url } = await serve((stream) => stream.send({ data: 'hi' }))
    const client = await openStream(url, { headers: { accept: '*/*' } })
    await client.take(1)
    expect(client.status).toBe(200)
  })
})

describe('opening a stream over HTTP/2', () => {
  test('sends the SSE headers without the Connection header, which HTTP/2 forbids', async () => {
    const server = await listenH2((req, res) => {
      res.setHeader('x-before', '1')
      const stream = new SSEStream(req, res)
      stream.send({ event: 'h2', data: 'over h2c' })
    })
    cleanups.push(() => server.close())
    const client = await openStream(server.server, '/events')
    const headers = client.headers
    expect(client.status).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers['cache-control']).toBe('no-cache, no-transform')
    expect(headers['x-accel-buffering']).toBe('no')
    expect(headers['x-before']).toBe('1')
    expect(headers.connection).toBeUndefined()
    await client.take(1)
    expect(client.text()).toBe('event: h2\ndata: over h2c\n\n')
  })

  test('an HTTP/2 client that goes away closes the stream', async () => {
    let stream: SSEStream | undefined
    const server = await listenH2((req, res) => {
      stream = new SSEStream(req, res)
      stream.send({ data: 'x' })
    })
    cleanups.push(() => server.close())
    const client = await openStream(server.server, '/')
    await client.take(1)
    client.close()
    await stream!.closed
    expect(stream!.signal.aborted).toBe(true)
  })
})

describe('lastEventId', () => {
  test('comes from the Last-Event-ID header, else from the lastEventId query parameter', async () => {
    const { url, streams } = await serve(() => {})
    await openStream(`${url}/?lastEventId=query`, { headers: { 'last-event-id': 'header' } })
    await openStream(`${url}/?topics=a&lastEventId=from%20query`)
    await openStream(`${url}/`)
    expect(streams.map((s) => s.lastEventId)).toEqual(['header', 'from query', undefined])
  })

  test('a value over 256 characters or with control characters counts as absent', async () => {
    const { url, streams } = await serve(() => {})
    await openStream(url, { headers: { 'last-event-id': 'x'.repeat(257) } })
    await openStream(`${url}/?lastEventId=a%01b`)
    await openStream(url, { headers: { 'last-event-id': 'y'.repeat(256) } })
    expect(streams.map((s) => s.lastEventId)).toEqual([undefined, undefined, 'y'.repeat(256)])
  })
})

describe('keep-alive', () => {
  test('a comment goes out every 30 s by default, from one shared timer for all streams', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { url } = await serve(() => {})
    const clients = await Promise.all([1, 2, 3].map(() => openStream(url)))
    expect(keepAlive.timers()).toBe(1)
    vi.advanceTimersByTime(29_999)
    vi.advanceTimersByTime(1)
    await Promise.all(clients.map((c) => c.waitFor((x) => x.text() === ':\n\n')))
    vi.advanceTimersByTime(30_000)
    await Promise.all(clients.map((c) => c.waitFor((x) => x.text() === ':\n\n:\n\n')))
  })

  test('the interval is configurable and 0 turns it off', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const fast = await serve(() => {}, { keepAlive: 1000 })
    const off = await serve((stream) => stream.send({ data: 'x' }), { keepAlive: 0 })
    const a = await openStream(fast.url)
    const b = await openStream(off.url)
    await b.take(1)
    vi.advanceTimersByTime(1000)
    await a.waitFor((c) => c.text() === ':\n\n')
    vi.advanceTimersByTime(60_000)
    await a.waitFor((c) => c.text().length > 3)
    expect(b.text()).toBe('data: x\n\n')
  })

  test('the shared timer is released when the last stream closes', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { url, streams } = await serve(() => {}, { keepAlive: 5000 })
    const client = await openStream(url)
    expect(keepAlive.timers()).toBe(1)
    client.close()
    await streams[0]!.closed
    expect(keepAlive.timers()).toBe(0)
  })
})

describe('streaming from an async iterable', () => {
  test('each yielded value is sent, strings as data, and the stream ends with the iterable', async () => {
    async function* progress() {
      yield { event: 'progress', data: '50%' }
      yield 'plain text'
      yield { event: 'done', data: '' }
    }
    const { url } = await serve((stream) => void stream.pipe(progress()))
    const client = await openStream(url)
    await client.ended()
    expect(client.text()).toBe(
      'event: progress\ndata: 50%\n\ndata: plain text\n\nevent: done\ndata: \n\n',
    )
  })

  test("when the client leaves, the iterator's return() runs so the producer stops", async () => {
    const forever = endlessSource()
    const { url } = await serve((stream) => void stream.pipe(forever.source))
    const client = await openStream(url)
    await client.waitFor((c) => c.events.length >= 3)
    client.close()
    await forever.stopped
    const count = forever.produced()
    // The generator has returned: asking it for more finds it done, and it produces nothing.
    await expect(forever.source.next()).resolves.toEqual({ done: true, value: undefined })
    expect(forever.produced()).toBe(count)
  })

  test('an error thrown by the iterator ends the stream cleanly and rejects with SOURCE_FAILED', async () => {
    let failure: unknown
    async function* broken() {
      yield { data: 'first' }
      throw new Error('boom')
    }
    const { url } = await serve((stream) => {
      stream.pipe(broken()).catch((error: unknown) => {
        failure = error
      })
    })
    const client = await openStream(url)
    await client.ended()
    expect(client.text()).toBe('data: first\n\n')
    expect(failure).toBeInstanceOf(SSEError)
    expect((failure as SSEError).code).toBe('SOURCE_FAILED')
    expect(((failure as SSEError).cause as Error).message).toBe('boom')
  })
})

describe('a client that stops reading', () => {
  test('is disconnected past its bound while another client keeps receiving, and memory stays bounded', async () => {
    const bound = 256 * 1024
    const { url, streams } = await serve(() => {}, { maxBufferedBytes: bound })
    const slow = await openStream(url)
    const fast = await openStream(url)
    slow.pause()
    const [slowStream, fastStream] = streams as [SSEStream, SSEStream]
    const frame = Buffer.from(`data: ${'x'.repeat(1000)}\n\n`)
    let maxHeld = 0
    // Publish in ticks so the fast client drains between them; the slow one never does.
    for (let round = 0; round < 200 && !slowStream.isClosed; round++) {
      for (let i = 0; i < 100; i++) {
        slowStream.sendFrame(frame)
        fastStream.sendFrame(frame)
        maxHeld = Math.max(maxHeld, slowStream.bufferedBytes)
      }
      await fast.waitFor((c) => c.events.length === (round + 1) * 100)
    }
    expect(slowStream.isClosed).toBe(true)
    expect(maxHeld).toBeLessThanOrEqual(bound)
    expect(fastStream.isClosed).toBe(false)
    expect(fast.events.length % 100).toBe(0)
  })

  test('gets everything in order once it reads again; the stream listens for drain only while blocked', async () => {
    const { url, streams } = await serve(() => {}, { maxBufferedBytes: 64 * 1024 * 1024 })
    const client = await openStream(url, { record: false })
    const stream = streams[0]!
    // On the socket when the stream writes its HTTP/1.1 chunks there, else on the response.
    const res = stream.response as ServerResponse
    const nodeOwn = res.socket!.listenerCount('drain')
    const drainListeners = () =>
      res.listenerCount('drain') + res.socket!.listenerCount('drain') - nodeOwn
    expect(drainListeners()).toBe(0)
    client.pause()
    const frame = Buffer.from(`data: ${'z'.repeat(1000)}\n\n`)
    let sent = 0
    // Until the socket pushes back (a bounded loop: the kernel holds a few MB at most). A timer, not
    // a turn, between rounds: frames of a busy stream wait for the shared coalescing pass.
    for (let round = 0; round < 500 && drainListeners() === 0; round++) {
      for (let i = 0; i < 100; i++, sent++) stream.sendFrame(frame)
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(drainListeners()).toBe(1)
    for (let i = 0; i < 100; i++, sent++) stream.sendFrame(frame)
    client.resume()
    await client.waitFor((c) => c.received === sent)
    expect(drainListeners()).toBe(0)
    expect(stream.isOpen).toBe(true)
  })

  test('under the drop policy, frames past the bound are dropped and counted', async () => {
    const bound = 64 * 1024
    const { url, streams } = await serve(() => {}, { maxBufferedBytes: bound, onOverflow: 'drop' })
    const slow = await openStream(url)
    slow.pause()
    const stream = streams[0]!
    const frame = Buffer.from(`data: ${'y'.repeat(1000)}\n\n`)
    let accepted = 0
    for (let round = 0; round < 200 && stream.dropped === 0; round++) {
      for (let i = 0; i < 100; i++) if (stream.sendFrame(frame)) accepted++
      await new Promise((r) => setImmediate(r))
    }
    expect(stream.dropped).toBeGreaterThan(0)
    expect(stream.isClosed).toBe(false)
    // Frames of one turn are written together: the write that found the socket full may pass the
    // bound by itself (one turn's batch is no sign of a slow client); nothing is queued past it.
    const unsent = stream.response.writableLength
    expect(unsent).toBeLessThanOrEqual(100 * frame.length + 16)
    expect(stream.bufferedBytes).toBeLessThanOrEqual(Math.max(bound, unsent))
    expect(accepted).toBeGreaterThan(0)
  })
})

describe('closing', () => {
  test('close() ends the response after what is queued, is idempotent, and aborts the signal', async () => {
    const { url } = await serve((stream) => {
      stream.send({ data: 'bye' })
      stream.close()
      stream.close()
      expect(stream.signal.aborted).toBe(true)
    })
    const client = await openStream(url)
    await client.ended()
    expect(client.text()).toBe('data: bye\n\n')
  })

  test('writing after close is a no-op that returns false, never a throw', async () => {
    const { url, streams } = await serve(() => {})
    const client = await openStream(url)
    client.close()
    const stream = streams[0]!
    await stream.closed
    expect(stream.send({ data: 'late' })).toBe(false)
    expect(stream.send({ event: 'bad\nname', data: 'late' })).toBe(false)
    expect(stream.comment('late')).toBe(false)
    expect(stream.sendFrame(Buffer.from('data: x\n\n'))).toBe(false)
  })

  test('an invalid event is refused with a typed error and nothing reaches the wire', async () => {
    const errors: string[] = []
    const { url } = await serve((stream) => {
      for (const event of [{ event: 'a\nb' }, { id: 'x\ny' }, { id: 'nul\0' }, { retry: -5 }]) {
        try {
          stream.send(event)
        } catch (error) {
          errors.push((error as SSEError).code)
        }
      }
      stream.send({ data: 'ok' })
      stream.close()
    })
    const client = await openStream(url)
    await client.ended()
    expect(errors).toEqual([
      'INVALID_EVENT_NAME',
      'INVALID_EVENT_ID',
      'INVALID_EVENT_ID',
      'INVALID_RETRY',
    ])
    expect(client.text()).toBe('data: ok\n\n')
  })

  test('invalid options are refused with a coded error naming the key', async () => {
    const server = await listen((req, res) => {
      try {
        new SSEStream(req, res, { keepAlive: 'soon' as unknown as number })
      } catch (error) {
        res.end(`${(error as SSEError).code}|${(error as SSEError).message}`)
      }
    })
    cleanups.push(() => server.close())
    const response = await fetch(server.url)
    expect(await response.text()).toBe(
      'INVALID_OPTION|@sse/core: option "keepAlive" must be of type integer, got "soon"',
    )
  })

  test('an unknown option is named too', async () => {
    const server = await listen((req, res) => {
      try {
        new SSEStream(req, res, { keepalive: 1 } as never)
      } catch (error) {
        res.end((error as SSEError).message)
      }
    })
    cleanups.push(() => server.close())
    const response = await fetch(server.url)
    expect(await response.text()).toMatch(/^@sse\/core: unknown option "keepalive"/)
  })

  test('the closed promise resolves when the client leaves', async () => {
    const { url, streams } = await serve(() => {})
    const client = await openStream(url)
    client.close()
    await streams[0]!.closed
    expect(streams[0]!.isClosed).toBe(true)
  })
})
