import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Broker,
  type BrokerOptions,
  createBroker,
  type SSEError,
  type SSERequest,
} from '@sse/core'
import { type RedisTransport, redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { transportContract } from '@sse/testing/transport'
import { type Cleanups, listen, runIsolated, useCleanups, waitFor } from '@sse/testkit'
import { startRedis } from '@sse/testkit/redisServer'
import { EventSource } from 'eventsource'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { allRead, frame, hasRedis, uniquePrefix, useRedis } from './helpers.js'

afterEach(closeStreams)

/** One app instance: `GET /?tags=a,b` opens a stream on topic `t` with those tags. */
interface TaggedInstance {
  readonly broker: Broker
  readonly transport: RedisTransport
  readonly url: string
  readonly errors: SSEError[]
}

async function startTagged(
  cleanups: Cleanups,
  url: string,
  keyPrefix: string,
  options: BrokerOptions = {},
): Promise<TaggedInstance> {
  const errors: SSEError[] = []
  const transport = redisTransport({ url, keyPrefix })
  const broker = createBroker({
    keepAlive: 0,
    onError: (error) => errors.push(error),
    ...options,
    transport,
  })
  const server = await listen((req, res) => {
    const tags = new URL(req.url ?? '/', 'http://x').searchParams.get('tags')
    broker.stream(req, res, { topics: ['t'], retry: 20, tags: tags ? tags.split(',') : [] })
  })
  cleanups.push(async () => {
    await broker.close()
    await server.close()
  })
  await broker.ready
  return { broker, transport, url: server.url, errors }
}

describe.runIf(hasRedis)('revocation across instances sharing one Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** Two instances on one fresh key prefix, and that prefix. */
  const pair = async (options: BrokerOptions = {}) => {
    const keyPrefix = uniquePrefix()
    const [a, b] = await Promise.all([
      startTagged(cleanups, redis.url, keyPrefix, options),
      startTagged(cleanups, redis.url, keyPrefix, options),
    ])
    return [a, b, keyPrefix] as const
  }

  test('the Transport contract’s control check holds between two Redis transports on one key prefix', async () => {
    const checks = transportContract({
      create: () => redisTransport({ url: redis.url, keyPrefix: uniquePrefix() }),
      resumesFromPublisherIds: false,
      createPeers: () => {
        const keyPrefix = uniquePrefix()
        return [
          redisTransport({ url: redis.url, keyPrefix }),
          redisTransport({ url: redis.url, keyPrefix }),
        ]
      },
    })
    const control = checks.filter((check) => check.name.startsWith('sendControl()'))
    expect(control).toHaveLength(1)
    for (const check of control) await check.run()
  })

  test('disconnect on instance A ends the matching streams on A and B after their final event; nothing lands in the history', async () => {
    const [a, b, prefix] = await pair()
    const onA = await openStream(a.url, '/?tags=user:1')
    const onB = await openStream(b.url, '/?tags=session:x,user:1')
    const spared = await openStream(b.url, '/?tags=user:2')
    await waitFor(() => a.broker.stats().streams === 1 && b.broker.stats().streams === 2)
    const before = await a.broker.publish('t', 'before')
    await allRead([a, b] as never, before)

    await expect(
      a.broker.disconnect({ tag: 'user:1' }, { event: { event: 'signed-out', data: 'À bientôt' } }),
    ).resolves.toBe(1)

    const expected = `retry: 20\n\n${frame(before, 't', 'before')}event: signed-out\ndata: À bientôt\n\n`
    for (const client of [onA, onB]) {
      expect(await client.ended()).toBe('ended')
      expect(client.text()).toBe(expected)
    }
    expect(spared.state).toBe('open')
    expect(a.broker.stats()).toMatchObject({ streams: 0, revoked: 1 })
    expect(b.broker.stats()).toMatchObject({ streams: 1, revoked: 1 })
    expect(a.transport.stats()).toMatchObject({ controlSent: 1, controlReceived: 0 })
    expect(b.transport.stats()).toMatchObject({ controlSent: 0, controlReceived: 1 })

    // The stream (the history) holds the one event; a replay from before it answers only it.
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    expect(await admin.xlen(`${prefix}:events`)).toBe(1)
    expect(JSON.stringify(await admin.xrange(`${prefix}:events`, '-', '+'))).not.toMatch(
      /signed-out|user:1/,
    )
    const after = await b.broker.publish('t', 'after')
    const resumed = await openStream(a.url, '/?tags=user:3', { lastEventId: before })
    await resumed.waitFor((c) => c.events.length === 1)
    expect(resumed.events.map((event) => [event.id, event.data])).toEqual([[after, 'after']])
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  test('a client revoked from another instance goes through authorize again when it reconnects: its EventSource gets 403 and stops', async () => {
    const revoked = new Set<string>()
    const authorize = (req: SSERequest) => {
      const tags = new URL(req.url ?? '/', 'http://x').searchParams.get('tags') ?? ''
      return !tags.split(',').some((tag) => revoked.has(tag))
    }
    const [a, b] = await pair({ authorize })
    const source = new EventSource(`${b.url}/?tags=session:s1`)
    cleanups.push(() => source.close())
    const seen: string[] = []
    source.addEventListener('signed-out', (event) => seen.push(event.data))
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    revoked.add('session:s1') // what every instance's authorize checks (a shared store in an app)
    await expect(
      a.broker.disconnect({ tag: 'session:s1' }, { event: { event: 'signed-out', data: 'bye' } }),
    ).resolves.toBe(0)
    await waitFor(() => source.readyState === EventSource.CLOSED, 'the EventSource to give up')
    expect(seen).toEqual(['bye'])
    expect(b.broker.stats()).toMatchObject({ revoked: 1, refused: 1, streams: 0 })
  })

  test('messages on the control channel that are not ours are skipped, counted and reported once; streams stay open', async () => {
    const [a, b, prefix] = await pair()
    const client = await openStream(b.url, '/?tags=user:1')
    await waitFor(() => b.broker.stats().streams === 1)
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    const channel = `${prefix}:control`
    expect(await admin.pubsub('NUMSUB', channel)).toEqual([channel, 2])
    await admin.publish(channel, 'not json')
    await admin.publish(channel, JSON.stringify({ type: 'disconnect', tags: [5] }))
    await admin.publish(channel, JSON.stringify({ type: 'disconnect', tags: ['user:1\r\n'] }))
    await waitFor(() => b.errors.length === 2 && a.errors.length === 2, 'the reports')
    expect(b.transport.stats()).toMatchObject({ controlSkipped: 2, controlReceived: 1 })
    expect(b.errors.map((error) => error.code)).toEqual(['TRANSPORT_ERROR', 'TRANSPORT_ERROR'])
    expect(b.errors[0]!.message).toMatch(/^@sse\/redis: skipped a message on ".*:control"/)
    expect(b.errors[1]!.message).toBe('@sse/core: ignored a malformed control message')
    expect(client.state).toBe('open')
    expect(b.broker.stats()).toMatchObject({ streams: 1, revoked: 0 })
  })

  test('after its listening connection is killed, an instance subscribes again and hears later disconnects', async () => {
    const [a, b, prefix] = await pair()
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    await admin.client('KILL', 'TYPE', 'pubsub')
    await waitFor(async () => {
      const [, count] = await admin.pubsub('NUMSUB', `${prefix}:control`)
      return count === 2 && b.transport.stats().connected
    }, 'both instances to subscribe again')
    const client = await openStream(b.url, '/?tags=user:1')
    await waitFor(() => b.broker.stats().streams === 1)
    await a.broker.disconnect({ tag: 'user:1' })
    await client.ended()
    expect(b.broker.stats().revoked).toBe(1)
  })
})

/**
 * An app that disconnects as an app would: it opens a tagged stream on itself, then calls
 * `broker.disconnect()` every 5 ms, ignoring the promises, with no `unhandledRejection` handler.
 * Once Redis is gone (the test kills it after READY appears in PROGRESS) and 10 disconnects failed,
 * it closes everything and prints what it saw.
 */
const DISCONNECTER = `
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createBroker } from '@sse/core'
import { openStream } from '@sse/testing'
import { redisTransport } from '@sse/redis'

const errors = []
const transport = redisTransport({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX })
const broker = createBroker({
  transport,
  keepAlive: 0,
  onError: (error) => errors.push(error.code),
})
await broker.ready
const server = createServer((req, res) => broker.stream(req, res, { topics: ['t'], tags: ['user:1'] }))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const stream = await openStream(server, { record: false })
while (broker.stats().streams === 0) await new Promise((resolve) => setTimeout(resolve, 5))
appendFileSync(process.env.PROGRESS, 'READY\\n')
while (transport.stats().connected) await new Promise((resolve) => setTimeout(resolve, 5))

let ticks = 0
await new Promise((resolve) => {
  const timer = setInterval(() => {
    ticks++
    broker.disconnect({ tag: 'user:1' }, { event: { event: 'signed-out', data: '' } })
    if (broker.stats().disconnectFailures >= 10 || ticks >= 4000) {
      clearInterval(timer)
      resolve()
    }
  }, 5)
})
const localEnded = (await stream.ended().catch(() => 'still open')) === 'ended'
const stats = broker.stats()
server.close()
await broker.close()
console.log(JSON.stringify({ localEnded, revoked: stats.revoked, failures: stats.disconnectFailures, errors }))
`

describe.runIf(hasRedis)('disconnecting through a Redis outage', () => {
  const cleanups = useCleanups()

  test('fire-and-forget disconnects while Redis is down end the local streams, never cause an unhandled rejection, and are reported once', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const dir = mkdtempSync(join(tmpdir(), 'sse-revocation-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const progress = join(dir, 'progress')
    const running = runIsolated(DISCONNECTER, {
      env: { REDIS_URL: redis.url, KEY_PREFIX: uniquePrefix(), PROGRESS: progress },
      timeoutMs: 40_000,
      from: 'redis',
    })
    await waitFor(
      () => {
        try {
          return readFileSync(progress, 'utf8').includes('READY')
        } catch {
          return false
        }
      },
      'the app to open its stream',
      { timeoutMs: 20_000 },
    )
    await redis.kill()
    const { code, stdout, stderr } = await running
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!)
    expect(outcome.localEnded).toBe(true)
    expect(outcome.revoked).toBe(1)
    expect(outcome.failures).toBeGreaterThanOrEqual(10)
    // The failed disconnects are one report; the reader reports its lost connection.
    expect(outcome.errors).toEqual(['TRANSPORT_UNAVAILABLE', 'TRANSPORT_UNAVAILABLE'])
  }, 60_000)
})
