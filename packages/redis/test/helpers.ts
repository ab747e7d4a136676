import { randomUUID } from 'node:crypto'
import { type Broker, type BrokerOptions, createBroker, type SSEError } from '@sse/core'
import { type RedisTransport, type RedisTransportOptions, redisTransport } from '@sse/redis'
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
