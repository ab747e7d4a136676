import type { AddressInfo } from 'node:net'
import { createServer, type Socket } from 'node:net'
import { useCleanups } from '@sse/testkit'
import { describe, expect, it } from 'vitest'
import { LatencyHistogram } from '../src/latencyHistogram.js'
import { SSEClientConnection } from '../src/sseClientConnection.js'

const cleanups = useCleanups()

/**
 * A raw TCP server that answers the first request with `parts`, written one by one, then ends
 * the connection (or, with `end` a promise, once it settles).
 */
async function rawServer(parts: readonly string[], end?: Promise<unknown>): Promise<number> {
  const sockets: Socket[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.once('data', async () => {
      for (const part of parts) {
        socket.write(part)
        await new Promise((resolve) => setImmediate(resolve))
      }
      await end
      socket.end()
    })
  })
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  // Newest first: the held streams go before the server waits for its connections.
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function chunked(body: string, sizes: readonly number[]): string[] {
  const parts: string[] = []
  let at = 0
  let i = 0
  while (at < body.length) {
    const size = Math.min(sizes[i++ % sizes.length]!, body.length - at)
    parts.push(`${size.toString(16)}\r\n${body.slice(at, at + size)}\r\n`)
    at += size
  }
  parts.push('0\r\n\r\n')
  return parts
}

/** Splits the wire text into pieces of 1–3 bytes, so every boundary is exercised. */
function shred(text: string): string[] {
  const pieces: string[] = []
  for (let at = 0, n = 1; at < text.length; at += n, n = (n % 3) + 1)
    pieces.push(text.slice(at, at + n))
  return pieces
}

function connectTo(port: number, trackIds = false) {
  const histogram = new LatencyHistogram()
  return new Promise<{ connection: SSEClientConnection; histogram: LatencyHistogram }>(
    (resolve) => {
      const connection: SSEClientConnection = new SSEClientConnection({
        port,
        path: '/events',
        trackIds,
        histogram,
        listener: { opened() {}, event() {}, closed: () => resolve({ connection, histogram }) },
      })
    },
  )
}

const HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n'
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000)

describe('SSEClientConnection', () => {
  it('decodes chunked SSE cut at every possible place and checks sequence numbers', async () => {
    const t = now()
    const body = [
      'retry: 2000\n\n',
      ':connected\n\n',
      'data: connected\n\n',
      `id: a-1\nevent: bench\ndata: 0 ${t} xxxx\n\n`,
      `event: message\nid: 7f\ndata: "1 ${t} xxxx"\n\n`,
      `data: 2 ${t} ${'x'.repeat(300)}\n\n`,
      `data: 4 ${t} x\n\n`,
      `data: 3 ${t} x\n\n`,
    ].join('')
    const port = await rawServer(shred(HEAD + chunked(body, [5, 40, 1, 700]).join('')))
    const { connection, histogram } = await connectTo(port)
    expect(connection.status).toBe(200)
    expect(connection.received).toBe(5)
    expect(connection.other).toBe(1)
    expect(connection.gaps).toBe(1)
    expect(connection.reorders).toBe(1)
    expect(histogram.count).toBe(5)
  })

  it('reads a body without chunked encoding and remembers ids when asked', async () => {
    const t = now()
    const body = `id: e-1\ndata: 10 ${t} x\n\nid: e-2\ndata: 11 ${t} x\n\n`
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n'
    const port = await rawServer(shred(head + body))
    const { connection } = await connectTo(port, true)
    expect(connection.received).toBe(2)
    expect(connection.lastId).toBe('e-2')
    expect(connection.ids?.get(10)).toBe('e-1')
  })

  it('reports the status of a refused stream and reads nothing', async () => {
    const port = await rawServer(['HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'])
    const { connection } = await connectTo(port)
    expect(connection.status).toBe(503)
    expect(connection.received).toBe(0)
    expect(connection.cutWhileHealthy).toBe(false)
  })

  it('counts a stream the server ends after it opened as a healthy client cut', async () => {
    const port = await rawServer([HEAD, ...chunked(`data: 0 ${now()} x\n\n`, [100]).slice(0, -1)])
    const { connection } = await connectTo(port)
    expect(connection.received).toBe(1)
    expect(connection.cutWhileHealthy).toBe(true)
  })

  it('does not count a stream the load generator closes itself as a cut', async () => {
    const port = await rawServer([HEAD], new Promise(() => {}))
    const histogram = new LatencyHistogram()
    const closed = new Promise<SSEClientConnection>((resolve) => {
      const connection: SSEClientConnection = new SSEClientConnection({
        port,
        path: '/events',
        histogram,
        listener: { opened: () => connection.destroy(), event() {}, closed: resolve },
      })
    })
    const connection = await closed
    expect(connection.status).toBe(200)
    expect(connection.cutWhileHealthy).toBe(false)
  })

  it('does not count the cut of a client that stopped reading (a stalled one) as a healthy cut', async () => {
    let release: () => void = () => {}
    const port = await rawServer([HEAD], new Promise<void>((resolve) => (release = resolve)))
    const histogram = new LatencyHistogram()
    const closed = new Promise<SSEClientConnection>((resolve) => {
      const connection: SSEClientConnection = new SSEClientConnection({
        port,
        path: '/events',
        histogram,
        listener: {
          opened() {
            connection.pause()
            release()
            setTimeout(() => connection.resume(), 50)
          },
          event() {},
          closed: resolve,
        },
      })
    })
    const connection = await closed
    expect(connection.stalled).toBe(true)
    expect(connection.cutWhileHealthy).toBe(false)
  })
})

describe('LatencyHistogram', () => {
  it('answers percentiles within its 10 µs resolution', () => {
    const histogram = new LatencyHistogram()
    for (let i = 1; i <= 1000; i++) histogram.record(i * 100)
    expect(histogram.percentile(50)).toBeCloseTo(50, 1)
    expect(histogram.percentile(99)).toBeCloseTo(99, 1)
    const merged = new LatencyHistogram()
    merged.merge(histogram.counts)
    expect(merged.count).toBe(1000)
  })
})
