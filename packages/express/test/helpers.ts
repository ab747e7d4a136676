import { createServer, type RequestListener, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** A real HTTP/1.1 server for `app` on 127.0.0.1 with an ephemeral port. */
export async function serve(
  app: RequestListener,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(app)
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

/** What a raw HTTP/1.1 client received on one response, with a parser over the body. */
export interface RawClient {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** All body text received so far. */
  text(): string
  events: EventSourceMessage[]
  /** Resolves once `predicate` holds; rejects if the response ends first. */
  until(predicate: (client: RawClient) => boolean): Promise<void>
  /** Resolves when the response ends or the connection closes. */
  ended: Promise<void>
  /** `true` if the response ended cleanly (`'end'`), `false` if the connection was cut. */
  complete(): boolean
  close(): void
}

/** Opens `url` with `http.request` on a fresh connection and parses the body as it arrives. */
export function rawClient(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      let complete = false
      const waiters = new Set<() => void>()
      const client: RawClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => body,
        events: [],
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
              else
                fail(new Error(`the response ended before the condition held; received:\n${body}`))
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
      }
      const parser = createParser({ onEvent: (event) => client.events.push(event) })
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        parser.feed(chunk)
        for (const waiter of [...waiters]) waiter()
      })
      res.on('error', () => {})
      resolve(client)
    })
    req.end()
  })
}

/** Resolves on the next event of `name` on an EventTarget. */
export function once<T = Event>(target: EventTarget, name: string): Promise<T> {
  return new Promise((resolve) =>
    target.addEventListener(name, (e) => resolve(e as T), { once: true }),
  )
}
