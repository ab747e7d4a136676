import type { Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { createBroker } from '@sse/core'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
import { listen, useCleanups } from '@sse/testkit'
import express from 'express'
import { describe, expect, test } from 'vitest'

const cleanups = useCleanups()

/** One HTTP/1.1 response read off the wire. */
interface WireResponse {
  readonly status: number
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/**
 * One kept-alive HTTP/1.1 connection, as a browser holds one: requests go out one after the
 * other on it, each once the previous response has arrived.
 */
class KeptAliveConnection {
  readonly #socket: Socket
  readonly #closed: Promise<void>
  #text = ''
  #waiting: (() => void) | undefined

  constructor(url: string) {
    const { hostname, port } = new URL(url)
    this.#socket = connect(Number(port), hostname)
    this.#socket.setEncoding('latin1')
    this.#socket.on('data', (chunk: string) => {
      this.#text += chunk
      this.#waiting?.()
    })
    this.#socket.on('error', () => {})
    this.#closed = new Promise((resolve) => this.#socket.once('close', () => resolve()))
  }

  /** Sends `GET path` and resolves with its response (a body with `Content-Length`). */
  async get(path: string): Promise<WireResponse> {
    this.#socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
    for (;;) {
      const response = this.#take()
      if (response !== undefined) return response
      await new Promise<void>((resolve) => (this.#waiting = resolve))
    }
  }

  /** Resolves once the server has closed the connection. */
  closed(): Promise<void> {
    return this.#closed
  }

  destroy(): void {
    this.#socket.destroy()
  }

  #take(): WireResponse | undefined {
    const end = this.#text.indexOf('\r\n\r\n')
    if (end === -1) return undefined
    const [statusLine = '', ...lines] = this.#text.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    if (this.#text.length < end + 4 + length) return undefined
    const body = this.#text.slice(end + 4, end + 4 + length)
    this.#text = this.#text.slice(end + 4 + length)
    return { status: Number(statusLine.split(' ')[1]), headers, body }
  }
}

/**
 * An app with the middleware, `GET /events` (a stream), `GET /ping`, and `GET /slow`, whose
 * response waits for `release()`, to keep a connection busy across `server.close()`.
 */
async function appWithSlowRoute(sse: SSEMiddleware, inFront = false) {
  const app = express()
  app.use(sse)
  app.get('/events', (_req, res) => {
    res.sse({ topics: ['t'] })
  })
  app.get('/ping', (_req, res) => {
    res.send('pong')
  })
  let reached: () => void = () => {}
  const slowReached = new Promise<void>((resolve) => (reached = resolve))
  let release: () => void = () => {}
  app.get('/slow', (_req, res) => {
    release = () => res.send('done')
    reached()
  })
  const listening = await listen((req, res) => {
    // The busiest stream can be answered in front of Express by the same broker.
    if (inFront && req.url === '/events') sse.broker.stream(req, res, { topics: ['t'] })
    else app(req, res)
  })
  cleanups.push(
    () => listening.close(),
    () => sse.close(),
  )
  return { listening, slowReached, release: () => release() }
}

/** Closes `server` as a shutdown does; resolves once every connection has closed. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * Holds a connection busy with `GET /slow`, shuts down as documented (`sse.close()`, then
 * `server.close()`), then lets `/slow` answer: the connection, kept alive, is still open.
 */
async function keptAcrossShutdown(sse: SSEMiddleware, inFront = false) {
  const { listening, slowReached, release } = await appWithSlowRoute(sse, inFront)
  const connection = new KeptAliveConnection(listening.url)
  cleanups.push(() => connection.destroy())
  const slow = connection.get('/slow')
  await slowReached
  await sse.close()
  const serverClosed = closeServer(listening.server)
  release()
  // Asked for before the shutdown: it is answered as it would have been, and kept alive.
  expect(await slow).toMatchObject({ status: 200, body: 'done' })
  return { connection, serverClosed }
}

describe('a connection busy when the server closes, then reused', () => {
  describe.each([
    ['res.sse() of the middleware that created its broker', () => sseMiddleware(), false],
    [
      'res.sse() of a middleware on a shared broker',
      () => sseMiddleware({ broker: createBroker() }),
      false,
    ],
    ['sse.broker.stream() in front of Express', () => sseMiddleware(), true],
  ] as const)('for a stream asked for through %s', (_, create, inFront) => {
    test('the stream is refused with 503 and Connection: close, so the connection and the server close', async () => {
      const { connection, serverClosed } = await keptAcrossShutdown(create(), inFront)

      const refused = await connection.get('/events')
      expect(refused.status).toBe(503)
      expect(refused.headers).toMatchObject({ connection: 'close', 'retry-after': '5' })
      await connection.closed()
      await serverClosed
    })
  })

  test('any later response through the middleware closes its connection, so the server closes', async () => {
    const { connection, serverClosed } = await keptAcrossShutdown(sseMiddleware())

    const pong = await connection.get('/ping')
    expect(pong).toMatchObject({ status: 200, body: 'pong' })
    expect(pong.headers.connection).toBe('close')
    await connection.closed()
    await serverClosed
  })
})
