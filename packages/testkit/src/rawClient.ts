import { request } from 'node:http'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { Cleanups } from './useCleanups.js'

/** Everything a raw HTTP/1.1 client received on one stream, decoded, with a parser over it. */
export interface RawClient {
  status: number
  /** Frames received (blank-line terminated), counted even in `count` mode. */
  frames: number
  headers: Record<string, string | string[] | undefined>
  /** All body text received so far (the last 4 KiB in `count` mode). */
  text(): string
  events: EventSourceMessage[]
  comments: string[]
  retries: number[]
  /** Resolves once `predicate` holds for the received state; rejects if the stream ends first. */
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

/** How {@link rawClient} asks and reads. */
export interface RawClientOptions {
  /** @default 'GET' */
  method?: string
  /**
   * `parse` feeds the body to eventsource-parser; `count` only counts frames and keeps the last
   * 4 KiB of text: cheap for many megabytes.
   * @default 'parse'
   */
  mode?: 'parse' | 'count'
}

/**
 * Opens `url` with a raw `http.request` on a fresh connection (no agent) and parses the body with
 * eventsource-parser. Resolves once the response head has arrived.
 */
export function rawClient(
  url: string,
  headers: Record<string, string> = {},
  { method = 'GET', mode = 'parse' }: RawClientOptions = {},
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
              if (!predicate(client)) return
              waiters.delete(check)
              done()
            }
            waiters.add(check)
            client.ended.then(() => {
              if (!waiters.delete(check)) return
              if (predicate(client)) done()
              else fail(new Error(`the stream ended before the condition held; received:\n${body}`))
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

/** {@link rawClient}, closed after the test by `cleanups`. */
export async function openClient(
  cleanups: Cleanups,
  url: string,
  headers: Record<string, string> = {},
  options: RawClientOptions = {},
): Promise<RawClient> {
  const client = await rawClient(url, headers, options)
  cleanups.push(() => client.close())
  return client
}
