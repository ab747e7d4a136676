import { type BrokerStreamOptions, createBroker, type SSEError } from '@sse/core'
import { redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { hasRedis, uniquePrefix, useRedis } from './helpers.js'

afterEach(closeStreams)

describe.runIf(hasRedis)('cursor and snapshot over Redis, across instances', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** Instances on one key prefix; each serves `/` as a stream on topic `t` with `streamOptions`. */
  async function cluster(count: number, streamOptions: BrokerStreamOptions = {}) {
    const keyPrefix = uniquePrefix()
    return Promise.all(
      Array.from({ length: count }, async () => {
        const errors: SSEError[] = []
        const broker = createBroker({
          keepAlive: 0,
          onError: (error) => errors.push(error),
          transport: redisTransport({ url: redis.url, keyPrefix }),
        })
        await broker.ready
        const server = await listen((req, res) =>
          broker.stream(req, res, { topics: ['t'], ...streamOptions }),
        )
        cleanups.push(
          () => server.close(),
          () => broker.close(),
        )
        return { broker, url: server.url, errors }
      }),
    )
  }

  test('a cursor rendered on one instance resumes on another: the events in between, each once', async () => {
    const [a, b] = await cluster(2)
    const before = await a!.broker.publish('t', 'before')
    // The page renders once both instances have read that event.
    await waitFor(() => a!.broker.cursor() === before && b!.broker.cursor() === before)
    const cursor = a!.broker.cursor()!
    const between = [await b!.broker.publish('t', 'x'), await a!.broker.publish('t', 'y')]
    const client = await openStream(`${b!.url}/?lastEventId=${encodeURIComponent(cursor)}`)
    await client.waitFor((c) => c.events.length >= 2)
    const live = await a!.broker.publish('t', 'z')
    await client.waitFor((c) => c.events.length >= 3)
    expect(client.events.map((event) => [event.id, event.data])).toEqual([
      [between[0], 'x'],
      [between[1], 'y'],
      [live, 'z'],
    ])
  })

  test('the cursor of an empty stream resumes: every later event arrives', async () => {
    const [a] = await cluster(1)
    const cursor = a!.broker.cursor()!
    expect(cursor).toBe('0-0')
    const first = await a!.broker.publish('t', 'first')
    const client = await openStream(`${a!.url}/?lastEventId=${cursor}`)
    await client.waitFor((c) => c.events.length >= 1)
    expect(client.events[0]).toMatchObject({ id: first, data: 'first' })
  })

  test('a client whose id is gone gets the snapshot with the cursor, then live events from any instance', async () => {
    const [a, b] = await cluster(2, { snapshot: () => ({ event: 'state', data: 'all of it' }) })
    await a!.broker.publish('t', 'old')
    const client = await openStream(`${b!.url}/`, { headers: { 'last-event-id': '1-1' } })
    await client.waitFor((c) => c.events.length >= 1)
    expect(client.events[0]).toMatchObject({ event: 'state', data: 'all of it' })
    expect(client.events[0]!.id).toBe(b!.broker.cursor())
    const live = await a!.broker.publish('t', 'new')
    await client.waitFor((c) => c.events.length >= 2)
    expect(client.events[1]).toMatchObject({ id: live, data: 'new' })
    expect(b!.broker.stats()).toMatchObject({ snapshots: 1, resets: 0 })
  })
})
