import { randomUUID } from 'node:crypto'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Broker, type BrokerOptions, createBroker, type SSEError } from '@sse/core'
import { type RedisTransport, type RedisTransportOptions, redisTransport } from '@sse/redis'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { compareStreamIds } from '../src/streamId.js'

/** Things to close after each test, last opened first. */
export type Cleanups = Array<() => unknown>

export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `sse-test:${randomUUID()}`
}

/** One app instance: a broker on a Redis transport behind its own HTTP server. */
export interface Instance {
  readonly broker: Broker
  readonly transport: RedisTransport
  readonly url: string
  /** Everything the broker reported to `onError`. */
  readonly errors: SSEError[]
  /** Ends its streams, closes the broker (and its Redis connections) and the server. */
  close(): Promise<void>
}

/**
 * Starts an instance: `GET /events?topics=a,b` opens a stream on those topics.
 * Resolves once the transport is ready.
 */
export async function startInstance(
  cleanups: Cleanups,
  transportOptions: RedisTransportOptions,
  brokerOptions: BrokerOptions = {},
): Promise<Instance> {
  const errors: SSEError[] = []
  const transport = redisTransport(transportOptions)
  const broker = createBroker({
    keepAlive: 0,
    onError: (error) => errors.push(error),
    ...brokerOptions,
    transport,
  })
  const server = createServer((req, res) => {
    const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics')
    broker.stream(req, res, { topics: topics ? topics.split(',') : [] })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= (async () => {
      await broker.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })()
    return closed
  }
  cleanups.push(close)
  await broker.ready
  return { broker, transport, url: `http://127.0.0.1:${port}`, errors, close }
}

/** What a raw HTTP/1.1 client received on one stream. */
export interface RawClient {
  status: number
  /** The body received so far, exactly. */
  text(): string
  events: EventSourceMessage[]
  /** Resolves once `predicate` holds; rejects if the stream ends first. */
  until(predicate: (client: RawClient) => boolean): Promise<void>
  /** Resolves when the response ends or the connection closes. */
  ended: Promise<void>
  close(): void
}

/** Opens `url` with `http.request` (no agent) and parses the body with eventsource-parser. */
export function rawClient(
  cleanups: Cleanups,
  url: string,
  headers: Record<string, string> = {},
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      const waiters = new Set<() => void>()
      const ended = new Promise<void>((done) => {
        res.on('end', done)
        res.on('close', done)
      })
      const client: RawClient = {
        status: res.statusCode ?? 0,
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
            ended.then(() => {
              if (!waiters.delete(check)) return
              if (predicate(client)) done()
              else fail(new Error(`the stream ended before the condition held; received:\n${body}`))
            })
          })
        },
        ended,
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
      cleanups.push(() => req.destroy())
      resolve(client)
    })
    req.end()
  })
}

/** Waits (bounded: about 10 s) until `predicate` holds, then asserts it. */
export async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  if (!predicate()) throw new Error(`timed out waiting for ${what}`)
}

/** Waits until every instance's reader has read the stream up to `id`. */
export function allRead(instances: readonly Instance[], id: string): Promise<void> {
  return waitFor(
    () =>
      instances.every((instance) => {
        const position = instance.transport.stats().position
        return position !== undefined && compareStreamIds(position, id) >= 0
      }),
    `every instance to read ${id}`,
  )
}

/** The exact wire text of an event published to `topic` with string `data` (named after the topic). */
export function frame(id: string, topic: string, data: string): string {
  return `id: ${id}\nevent: ${topic}\ndata: ${data}\n\n`
}

/** The error code of a publish, whether it throws at once or rejects. */
export async function publishError(publish: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await publish()
  } catch (error) {
    return (error as SSEError).code
  }
  return undefined
}
