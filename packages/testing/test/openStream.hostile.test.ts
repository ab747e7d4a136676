import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { closeStreams, openStream, SSETestError } from '@sse/testing'
import { listen, recordUnhandledRejections, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test, vi } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)
const unhandled = recordUnhandledRejections()

/** A server on 127.0.0.1 whose handler writes what a test wants, and the sockets it accepted. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets: Socket[] = []
  const server = await listen(handler)
  server.server.on('connection', (socket) => sockets.push(socket))
  cleanups.push(() => server.close())
  return { ...server, sockets }
}

const eventStreamHead = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.flushHeaders()
}

describe('a server that sends nothing', () => {
  test('without a head: openStream rejects with TEST_TIMEOUT and the kit closes the socket', async () => {
    const { url, sockets } = await serve(() => {})
    const opening = openStream(url, { timeout: 200 })
    await expect(opening).rejects.toMatchObject({ name: 'SSETestError', code: 'TEST_TIMEOUT' })
    await expect(opening).rejects.toThrow(
      '@sse/testing: the response head did not happen within 200 ms (option "timeout")',
    )
    await waitFor(() => sockets.length === 1 && sockets[0]!.closed)
  })

  test('after the head: take() rejects with TEST_TIMEOUT, naming what it got, and the socket closes', async () => {
    const { url, sockets } = await serve((_req, res) => {
      eventStreamHead(res)
      res.write('data: only one\n\n')
    })
    const stream = await openStream(url, { timeout: 200 })
    const error = await stream.take(2).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SSETestError)
    expect(error).toMatchObject({ code: 'TEST_TIMEOUT' })
    expect((error as Error).message).toContain('take(2) did not happen within 200 ms')
    expect((error as Error).message).toContain('1 event(s) received, 0 read')
    expect((error as Error).message).toContain('data: only one')
    expect(stream.state).toBe('closed')
    await waitFor(() => sockets[0]!.closed)
  })

  test('the timeout fires under fake timers too', async () => {
    const { url } = await serve((_req, res) => eventStreamHead(res))
    vi.useFakeTimers()
    cleanups.push(() => vi.useRealTimers())
    const stream = await openStream(url, { timeout: 100 })
    await expect(stream.ended()).rejects.toMatchObject({ code: 'TEST_TIMEOUT' })
  })
})

describe('a server that sends garbage', () => {
  test('256 KiB of random bytes: every byte is kept, nothing throws, the stream stays usable', async () => {
    const junk = randomBytes(256 * 1024)
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      res.write(junk)
      res.end('\n\ndata: after the junk\n\n')
    })
    const stream = await openStream(url)
    const events = await stream.until((event) => event.data === 'after the junk')
    expect(events.at(-1)!.data).toBe('after the junk')
    expect(stream.bytes().subarray(0, junk.length).equals(junk)).toBe(true)
    expect(await stream.ended()).toBe('ended')
  })

  test('an id with NUL is ignored: lastEventId and reconnect keep the last valid one', async () => {
    const seen: unknown[] = []
    const { url } = await serve((req, res) => {
      seen.push(req.headers['last-event-id'])
      eventStreamHead(res)
      res.write('id: good\ndata: 1\n\nid: bad\0id\ndata: 2\n\n')
    })
    const stream = await openStream(url)
    const events = await stream.take(2)
    expect(events.map(({ id }) => id)).toEqual(['good', undefined])
    expect(stream.lastEventId).toBe('good')
    await stream.reconnect()
    expect(seen).toEqual([undefined, 'good'])
  })

  test('a 5 MB line arrives as one event, intact, under a maxLineLength raised to 8 MiB', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024)
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      res.write(`data: ${big}\n\n`)
    })
    const stream = await openStream(url, { timeout: 20_000, maxLineLength: 8 * 1024 * 1024 })
    const [event] = await stream.take(1)
    expect(event!.data.length).toBe(big.length)
    expect(event!.data === big).toBe(true)
  })
})

describe('a server that stops mid-event', () => {
  test('cut: the unfinished event is never dispatched, state is cut, and take() says what arrived', async () => {
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      res.write('data: complete\n\ndata: unfinish')
      setImmediate(() => res.socket?.destroy())
    })
    const stream = await openStream(url)
    expect(await stream.ended()).toBe('cut')
    expect(stream.events.map((event) => event.data)).toEqual(['complete'])
    const error = await stream.take(2).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'TEST_STREAM_ENDED' })
    expect((error as Error).message).toContain('the stream is over (cut) and take(2) got 1')
    expect((error as Error).message).toContain('data: unfinish')
  })

  test('ended cleanly after half an event: state is ended, and the half is dropped', async () => {
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      res.end('data: half')
    })
    const stream = await openStream(url)
    expect(await stream.ended()).toBe('ended')
    expect([stream.events, stream.text()]).toEqual([[], 'data: half'])
  })

  test('a connection cut before any head: TEST_REQUEST_FAILED, with the cause', async () => {
    const { url } = await serve((req) => req.socket.destroy())
    const opening = openStream(url)
    await expect(opening).rejects.toMatchObject({ code: 'TEST_REQUEST_FAILED' })
    await expect(opening).rejects.toThrow(/failed before a response arrived: socket hang up/)
  })
})

describe('a client that never reads', () => {
  test('pause() makes the server back up; resume() brings everything, in order', async () => {
    let backedUp = false
    let release!: () => void
    const drained = new Promise<void>((resolve) => (release = resolve))
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      const frame = `data: ${'p'.repeat(1000)}\n\n`
      let written = 0
      const pump = () => {
        while (!backedUp && written < 100_000) {
          written++
          if (!res.write(frame)) backedUp = true
        }
        if (backedUp) {
          res.once('drain', () => {
            res.end(`data: last ${written}\n\n`)
            release()
          })
        }
      }
      setImmediate(pump)
    })
    const stream = await openStream(url, { record: false, timeout: 20_000 })
    stream.pause()
    await waitFor(() => backedUp)
    stream.resume()
    await drained
    expect(await stream.ended()).toBe('ended')
    expect(stream.text()).toMatch(/data: last \d+\n\n$/)
    expect(stream.received).toBe(Number(/last (\d+)/.exec(stream.text())![1]) + 1)
  })
  test('paused while the server ends and hangs up, it still gets every byte, and the end', async () => {
    let finished!: () => void
    const done = new Promise<void>((resolve) => (finished = resolve))
    const body = `data: ${'e'.repeat(100 * 1024)}\n\n`.repeat(10)
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      res.end(body)
      res.socket?.once('close', finished)
    })
    const stream = await openStream(url)
    stream.pause()
    await done
    stream.resume()
    expect(await stream.ended()).toBe('ended')
    expect(stream.text()).toBe(body)
    expect(stream.received).toBe(10)
  })
})

describe('record: false', () => {
  test('keeps no events and 4 KiB of text however much arrives: 64 MB cost well under 4 MiB', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const held = () => {
      for (let i = 0; i < 3; i++) gc()
      const usage = process.memoryUsage()
      return usage.heapUsed + usage.arrayBuffers
    }
    const chunk = `data: ${'m'.repeat(64 * 1024 - 8)}\n\n`
    const { url } = await serve((_req, res) => {
      eventStreamHead(res)
      let sent = 0
      const pump = () => {
        while (sent < 1024) {
          sent++
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    })
    const baseline = held()
    const stream = await openStream(url, { record: false, timeout: 30_000 })
    await stream.waitFor((s) => s.received >= 512)
    const growth = held() - baseline
    expect(await stream.ended()).toBe('ended')
    expect(stream.received).toBe(1024)
    expect(stream.events).toEqual([])
    expect(stream.text().length).toBeLessThanOrEqual(4096)
    expect(stream.text().endsWith(chunk)).toBe(false)
    expect(stream.text().endsWith('m\n\n')).toBe(true)
    expect(growth).toBeLessThan(4 * 1024 * 1024)
    expect(() => stream.take(1)).toThrow('with option record: false')
    expect(() => stream[Symbol.asyncIterator]()).toThrow('iterating reads events')
  })
})

describe('many streams on one app', () => {
  test('200 streams opened at once share one server, closed after the last', async () => {
    const handled: string[] = []
    const app = (req: IncomingMessage, res: ServerResponse) => {
      handled.push(req.url!)
      eventStreamHead(res)
    }
    const server = createServer(app)
    const streams = await Promise.all(Array.from({ length: 200 }, () => openStream(server)))
    expect(new Set(streams.map((stream) => stream.url)).size).toBe(1)
    expect(handled).toHaveLength(200)
    await Promise.all(streams.slice(1).map((stream) => stream.close()))
    expect(server.listening).toBe(true)
    await streams[0]!.close()
    expect(server.listening).toBe(false)
  })
})

test('nothing above left a rejection unhandled', () => {
  expect(unhandled).toEqual([])
})
