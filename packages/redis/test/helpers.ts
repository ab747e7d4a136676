import { randomUUID } from 'node:crypto'
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net'
import { type Broker, type BrokerOptions, createBroker, type SSEError } from '@sse/core'
import { type RedisTransport, type RedisTransportOptions, redisTransport } from '@sse/redis'
import { type ContractCheck, transportContract } from '@sse/testing/transport'
import { type Cleanups, listen, waitFor } from '@sse/testkit'
import { type RedisServer, redisAvailable, startRedis } from '@sse/testkit/redisServer'
import { afterAll, beforeAll } from 'vitest'
import { compareStreamIds } from '../src/streamId.js'

/**
 * Whether the suites that need Redis run here: `describe.runIf(hasRedis)`. Without a
 * `redis-server`, they are skipped with a message, except on CI, where importing this throws.
 */
export const hasRedis: boolean = redisAvailable('@sse/redis tests')

/**
 * One `redis-server` for the tests of the enclosing `describe`: started before them, stopped after.
 * Read `url` (or `server`) inside a test or a hook that runs after this one.
 */
export function useRedis(): { readonly server: RedisServer; readonly url: string } {
  let server: RedisServer | undefined
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server?.stop())
  const started = () => {
    if (server === undefined) throw new Error('redis-server starts in beforeAll: use it in a test')
    return server
  }
  return {
    get server() {
      return started()
    },
    get url() {
      return started().url
    },
  }
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
  const server = await listen((req, res) => {
    const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics')
    broker.stream(req, res, { topics: topics ? topics.split(',') : [] })
  })
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= (async () => {
      await broker.close()
      await server.close()
    })()
    return closed
  }
  cleanups.push(close)
  await broker.ready
  return { broker, transport, url: server.url, errors, close }
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

/** A JSON payload of about `size` bytes naming its key and value. */
export function dataOf(key: string, value: number, size = 10): string {
  return JSON.stringify({ key, value, pad: '.'.repeat(size) })
}

/** The newest value each key reached in `events` (of {@link dataOf} payloads), in arrival order. */
export function newestOf(events: ReadonlyArray<{ data: string }>): Map<string, number> {
  const newest = new Map<string, number>()
  for (const { data } of events) {
    const { key, value } = JSON.parse(data) as { key: string; value: number }
    newest.set(key, value)
  }
  return newest
}

/** Which command {@link holdingProxy} holds back, and for how long. */
export interface HoldOptions {
  /** The command's name, as the client sends it (compared in any case). */
  command: string
  /** Which occurrence of it on a connection is held (1: the first). @default 1 */
  occurrence?: number
  delayMs: number
}

/**
 * A TCP proxy on 127.0.0.1 in front of Redis at `port` that holds back, on each connection, the
 * `occurrence`-th command named `command` and everything the client sends after it, for `delayMs`:
 * a connection, or half of a pipeline, made slow on purpose. Resolves to its `redis://` URL;
 * closed by the cleanups.
 */
export async function holdingProxy(
  cleanups: Cleanups,
  port: number,
  { command, occurrence = 1, delayMs }: HoldOptions,
): Promise<string> {
  const name = command.toLowerCase()
  return tcpProxy(cleanups, port, (client, upstream) => {
    upstream.pipe(client)
    let seen = 0
    const forward = (chunk: Buffer) => {
      const text = chunk.toString('latin1').toLowerCase()
      let held: number | undefined
      for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + name.length)) {
        if (++seen === occurrence) {
          // From the command's `*<count>` header on.
          held = Math.max(0, text.lastIndexOf('*', at))
          break
        }
      }
      if (held === undefined) {
        upstream.write(chunk)
        return
      }
      upstream.write(chunk.subarray(0, held))
      client.off('data', forward)
      client.pause()
      setTimeout(() => {
        upstream.write(chunk.subarray(held))
        client.pipe(upstream)
      }, delayMs)
    }
    client.on('data', forward)
  })
}

/**
 * A TCP proxy on 127.0.0.1 in front of Redis at `port` that counts the bytes Redis sends back
 * through it. Resolves to its `redis://` URL and the counter; closed by the cleanups.
 */
export async function countingProxy(
  cleanups: Cleanups,
  port: number,
): Promise<{ readonly url: string; readonly counter: { bytes: number } }> {
  const counter = { bytes: 0 }
  const url = await tcpProxy(cleanups, port, (client, upstream) => {
    upstream.on('data', (chunk: Buffer) => {
      counter.bytes += chunk.length
    })
    upstream.pipe(client)
    client.pipe(upstream)
  })
  return { url, counter }
}

/**
 * A TCP proxy on 127.0.0.1 in front of Redis at `port`: `wire` joins each client connection to its
 * own upstream one. Either side closing closes both. Resolves to its `redis://` URL; closed by the
 * cleanups.
 */
async function tcpProxy(
  cleanups: Cleanups,
  port: number,
  wire: (client: Socket, upstream: Socket) => void,
): Promise<string> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    wire(client, upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return `redis://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/**
 * The Transport contract's checks for one layout of RedisTransport, each transport on a fresh key
 * prefix over `connection()` (a URL, or a client it closes). The contract's history size is
 * `historySize` in the single stream, `topicHistory` in the partitioned layout, which runs with one
 * partition: the contract orders events across topics, which partitions order only within each.
 */
export function redisContract(
  layout: 'single stream' | 'partitioned',
  connection: () => Pick<RedisTransportOptions, 'url' | 'client' | 'closeClient'>,
): ContractCheck[] {
  const create = (history?: number) =>
    redisTransport({
      ...connection(),
      keyPrefix: `sse-contract:${randomUUID()}`,
      ...(layout === 'partitioned'
        ? { partitions: 1, topicHistory: history ?? 100, maxReaderLag: 0 }
        : history === undefined
          ? {}
          : { historySize: history }),
    })
  // Only stream ids can be looked up: an event's own id is answered with a reset.
  return transportContract({
    create: () => create(),
    createWithHistorySize: create,
    resumesFromPublisherIds: false,
  })
}
