import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import { connect, createServer as createH2Server, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A real HTTP/1.1 server on 127.0.0.1 with an ephemeral port. */
export async function listen(
  handler: Handler,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A real h2c server on 127.0.0.1 with an ephemeral port. */
export async function listenH2(
  handler: (
    req: import('node:http2').Http2ServerRequest,
    res: import('node:http2').Http2ServerResponse,
  ) => void,
): Promise<{ url: string; server: Http2Server; close(): Promise<void> }> {
  const server = createH2Server(handler)
  const sessions = new Set<import('node:http2').ServerHttp2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.on('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Everything a raw HTTP/1.1 client received on one stream, decoded, with a parser over it. */
export interface RawClient {
  status: number
  /** Frames received (blank-line terminated), counted even in `count` mode. */
  frames: number
  headers: Record<string, string | string[] | undefined>
  /** All body text received so far. */
  text(): string
  events: EventSourceMessage[]
  comments: string[]
  retries: number[]
  /** Resolves once `predicate` holds for the received state. */
  until(predicate: (client: RawClient) => boolean): Promise<void>
  /** Resolves when the server ends the response or the connection closes. */
  ended: Promise<void>
  /** `true` if the response ended cleanly (`'end'`), `false` if the connection was cut. */
  complete(): boolean
  close(): void
  /** Stops reading from the socket (the kernel buffers then fill up). */
  pause(): void
  resume(): void
}

/**
 * Opens `url` with a raw `http.request` on a fresh connection and parses the body with
 * eventsource-parser. The `count` mode only counts frames and keeps the last 4 KiB of text: cheap
 * for many megabytes.
 */
export function rawClient(
  url: string,
  headers: Record<string, string> = {},
  { method = 'GET', mode = 'parse' }: { method?: string; mode?: 'parse' | 'count' } = {},
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { accept: 'text/event-stream', ...headers },
      agent: false,
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      let complete = false
      const waiters = new Set<() => void>()
      const client: RawClient = {
        status: res.statusCode ?? 0,
        frames: 0,
        headers: res.headers,
        text: () => body,
        events: [],
        comments: [],
        retries: [],
        until(predicate) {
          if (predicate(client)) return Promise.resolve()
          return new Promise((done, fail) => {
            const check = () => {
              if (predicate(client)) {
                waiters.delete(check)
                done()
              }
            }
            waiters.add(check)
            client.ended.then(() => {
              if (waiters.has(check)) {
                waiters.delete(check)
                if (predicate(client)) done()
                else fail(new Error(`stream ended before the condition held; received:\n${body}`))
              }
            })
          })
        },
        ended: new Promise((done) => {
          res.on('end', () => {
            complete = true
            done()
          })
          res.on('close', done)
        }),
        complete: () => complete,
        close: () => req.destroy(),
        pause: () => {
          res.pause()
          req.socket?.pause()
        },
        resume: () => {
          req.socket?.resume()
          res.resume()
        },
      }
      const parser = createParser({
        onEvent: (event) => client.events.push(event),
        onComment: (comment) => client.comments.push(comment),
        onRetry: (retry) => client.retries.push(retry),
      })
      res.setEncoding('utf8')
      let previous = ''
      res.on('data', (chunk: string) => {
        if (mode === 'count') {
          const joined = previous + chunk
          for (let at = joined.indexOf('\n\n'); at !== -1; at = joined.indexOf('\n\n', at + 2)) {
            if (at + 2 > previous.length) client.frames++
          }
          previous = chunk.slice(-1)
          body = (body + chunk).slice(-4096)
        } else {
          body += chunk
          parser.feed(chunk)
          client.frames = client.events.length
        }
        for (const waiter of [...waiters]) waiter()
      })
      res.on('error', () => {})
      resolve(client)
    })
    req.end()
  })
}

/** Opens an HTTP/2 request and collects the body. */
export function h2Client(url: string, path: string, headers: Record<string, string> = {}) {
  const session = connect(url)
  const stream = session.request({ ':path': path, accept: 'text/event-stream', ...headers })
  let body = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    body += chunk
  })
  const response = new Promise<Record<string, string | string[] | undefined>>((resolve) =>
    stream.on('response', (h) => resolve(h as Record<string, string | string[] | undefined>)),
  )
  return {
    response,
    text: () => body,
    async until(predicate: (text: string) => boolean): Promise<void> {
      while (!predicate(body)) await new Promise((r) => stream.once('data', r))
    },
    close: () => {
      stream.close()
      session.close()
    },
  }
}

/** Resolves on the next event of `name` on an EventTarget-like object. */
export function once<T = Event>(target: EventTarget, name: string): Promise<T> {
  return new Promise((resolve) =>
    target.addEventListener(name, (e) => resolve(e as T), { once: true }),
  )
}
