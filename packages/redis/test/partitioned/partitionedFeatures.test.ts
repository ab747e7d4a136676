import {
  type BrokerOptions,
  type BrokerStreamOptions,
  createBroker,
  type SSEError,
} from '@sse/core'
import { type RedisTransportOptions, redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { decodeCursor } from '../../src/partitioned/cursorVector.js'
import { hasRedis, uniquePrefix, useRedis } from '../helpers.js'
import { topicsIn } from './partitionHelpers.js'

afterEach(closeStreams)

const [A0] = topicsIn(3, 0, 1) as [string]
const [B0] = topicsIn(3, 1, 1) as [string]
const [C0] = topicsIn(3, 2, 1) as [string]

describe.runIf(hasRedis)(
  'the partitioned layout: cursor, snapshot, conflation, caps, revocation, bad ids',
  () => {
    const redis = useRedis()
    const cleanups = useCleanups()

    /**
     * Instances on one key prefix, 3 partitions; each serves `/?topics=a,b&tags=x` as a stream with
     * `stream` options.
     */
    function nodes(
      count: number,
      {
        transport = {},
        broker = {},
        stream = {},
      }: {
        transport?: RedisTransportOptions
        broker?: BrokerOptions
        stream?: BrokerStreamOptions
      } = {},
    ) {
      const keyPrefix = uniquePrefix()
      return Promise.all(
        Array.from({ length: count }, async () => {
          const errors: SSEError[] = []
          const created = redisTransport({ url: redis.url, keyPrefix, partitions: 3, ...transport })
          const instance = createBroker({
            keepAlive: 0,
            onError: (error) => errors.push(error),
            ...broker,
            transport: created,
          })
          await instance.ready
          const server = await listen((req, res) => {
            const query = new URL(req.url ?? '/', 'http://x').searchParams
            const tags = query.get('tags')
            instance.stream(req, res, {
              topics: (query.get('topics') ?? A0).split(','),
              ...(tags === null ? {} : { tags: tags.split(',') }),
              ...stream,
            })
          })
          cleanups.push(
            () => server.close(),
            () => instance.close(),
          )
          return { broker: instance, transport: created, url: server.url, errors, keyPrefix }
        }),
      )
    }

    test('a cursor rendered on one instance resumes on another, even for partitions the first did not read', async () => {
      const [a, b] = await nodes(2)
      const reader = await openStream(`${a!.url}/?topics=${A0}`)
      await a!.broker.publish(A0, 'before')
      await reader.take(1)
      // a reads A0's partition only: B0 and C0 are resumed from the cursor's floor.
      const cursor = a!.broker.cursor()!
      expect(decodeCursor(cursor, 3)?.positions.size).toBe(1)
      await b!.broker.publish(B0, 'b after')
      await b!.broker.publish(A0, 'a after')
      await b!.broker.publish(C0, 'c after')
      const client = await openStream(
        `${b!.url}/?topics=${A0},${B0},${C0}&lastEventId=${encodeURIComponent(cursor)}`,
      )
      const events = await client.take(3)
      expect(events.map((event) => event.data).sort()).toEqual(['a after', 'b after', 'c after'])
      expect(a!.errors.concat(b!.errors)).toEqual([])
    })

    test('a client whose id is gone gets the snapshot carrying a cursor it resumes from', async () => {
      const [a, b] = await nodes(2, {
        stream: { snapshot: () => ({ event: 'state', data: 'all of it' }) },
      })
      const client = await openStream(`${b!.url}/?topics=${A0},${B0}`, { lastEventId: 'gone' })
      const [state] = await client.take(1)
      expect(state).toMatchObject({ event: 'state', data: 'all of it' })
      expect(decodeCursor(state!.id!, 3)?.positions.size).toBe(2)
      await a!.broker.publish(B0, 'live')
      const [live] = await client.take(1)
      expect(live?.data).toBe('live')
      expect(b!.broker.stats()).toMatchObject({ snapshots: 1 })
    })

    test('keyed events replay log-compacted across partitions, then the caps apply', async () => {
      const [a, b] = await nodes(2, { broker: { maxReplayEvents: 6 } })
      const first = await openStream(`${b!.url}/?topics=${A0},${B0}`)
      await a!.broker.publish(A0, 'start')
      const [start] = await first.take(1)
      await first.close()
      for (let i = 0; i < 40; i++) {
        await a!.broker.publish([A0, B0][i % 2]!, `v${i}`, { key: `k${i % 4}` })
      }
      const compacted = await openStream(`${b!.url}/?topics=${A0},${B0}`, {
        lastEventId: start!.id!,
      })
      const events = await compacted.take(4)
      // In each partition in order; across partitions, by the millisecond Redis stamped them.
      const data = events.map((event) => event.data)
      expect([...data].sort()).toEqual(['v36', 'v37', 'v38', 'v39'])
      expect(data.filter((d) => d === 'v36' || d === 'v38')).toEqual(['v36', 'v38'])
      for (let i = 0; i < 10; i++) await a!.broker.publish(C0, `plain ${i}`)
      const capped = await openStream(`${b!.url}/?topics=${A0},${C0}`, { lastEventId: start!.id! })
      const [reset] = await capped.take(1)
      expect(reset?.event).toBe('sse-reset')
      expect(b!.broker.stats().replaysCapped).toBe(1)
    })

    test('disconnect on one instance ends the tagged streams on the other; nothing lands in history', async () => {
      const [a, b] = await nodes(2)
      const tagged = await openStream(`${b!.url}/?topics=${A0}&tags=user:1`)
      const spared = await openStream(`${b!.url}/?topics=${A0}&tags=user:2`)
      await waitFor(() => b!.broker.stats().streams === 2)
      await expect(a!.broker.disconnect({ tag: 'user:1' })).resolves.toBe(0)
      expect(await tagged.ended()).toBe('ended')
      expect(spared.state).toBe('open')
      const admin = new Redis(redis.url)
      cleanups.push(() => admin.quit())
      const keys = await admin.keys(`${a!.keyPrefix}:*:t:*`)
      expect(keys).toEqual([])
    })

    test('garbage, oversized, single-stream and other layouts’ ids get the reset event, and the stream goes on', async () => {
      const [a] = await nodes(1)
      const four = redisTransport({ url: redis.url, keyPrefix: a!.keyPrefix, partitions: 4 })
      const other = createBroker({ transport: four, keepAlive: 0 })
      await other.ready
      cleanups.push(() => other.close())
      await a!.broker.publish(A0, 'history')
      for (const lastEventId of [
        'nonsense',
        'x'.repeat(300),
        '1765000000000-0',
        `${a!.broker.cursor()}.30-0`,
        '~mf3k2a1c.00-4.00-5',
        'gone',
      ]) {
        const client = await openStream(`${a!.url}/?topics=${A0}`, { lastEventId })
        const [reset] = await client.take(1)
        expect(reset?.event, lastEventId).toBe('sse-reset')
        expect(decodeCursor(reset!.id!, 3)).toBeDefined()
        await a!.broker.publish(A0, 'after')
        const [after] = await client.take(1)
        expect(after?.data).toBe('after')
        await client.close()
      }
    })

    test('while Redis is down, a stream on topics not read yet is refused with 503 and Retry-After, and publishing rejects without an unhandled rejection', async () => {
      const [a] = await nodes(1)
      await redis.server.kill()
      await waitFor(() => !a!.transport.stats().connected)
      const refused = await openStream(`${a!.url}/?topics=${B0}`)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBeDefined()
      await expect(a!.broker.publish(B0, 'lost')).rejects.toMatchObject({
        code: 'TRANSPORT_UNAVAILABLE',
      })
      await redis.server.restart()
      await waitFor(() => a!.transport.stats().connected, 'the transport to reconnect', {
        timeoutMs: 15_000,
      })
      const client = await openStream(`${a!.url}/?topics=${B0}`)
      expect(client.status).toBe(200)
      await a!.broker.publish(B0, 'back')
      const [back] = await client.take(1)
      expect(back?.data).toBe('back')
    })
  },
)
