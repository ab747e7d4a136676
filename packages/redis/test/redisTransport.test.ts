import { createBroker, SSEError } from '@sse/core'
import type { ReplayResult } from '@sse/core/kit'
import { RedisTransport, redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { errorOf, useCleanups, waitFor } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { allRead, frame, hasRedis, startInstance, uniquePrefix, useRedis } from './helpers.js'

afterEach(closeStreams)

function deliveredIds(result: ReplayResult): string[] {
  if (result.reset) throw new Error(`unexpected reset to ${result.headId}`)
  return result.deliveries.map((delivery) => delivery.id)
}

describe('options', () => {
  test.each([
    ['historySize 0', { historySize: 0 }, 'option "historySize" must be >= 1, got 0'],
    [
      'historySize 1.5',
      { historySize: 1.5 },
      'option "historySize" must be of type integer, got 1.5',
    ],
    ['a negative maxReaderLag', { maxReaderLag: -1 }, 'option "maxReaderLag" must be >= 0, got -1'],
    [
      'an empty keyPrefix',
      { keyPrefix: '' },
      'option "keyPrefix" must be a non-empty string, got ""',
    ],
    [
      'closeClient "yes"',
      { closeClient: 'yes' },
      'option "closeClient" must be of type boolean, got "yes"',
    ],
    [
      'a client that is not one',
      { client: {} },
      'option "client" must be an object with methods duplicate, evalsha, eval, script',
    ],
    [
      'an http URL',
      { url: 'http://localhost:6379' },
      'option "url" must be a redis:// or rediss:// URL',
    ],
    [
      'both url and client',
      { url: 'redis://a', client: new Redis({ lazyConnect: true }) },
      'give either option "url" or option "client"',
    ],
    [
      'a misspelt option',
      { historysize: 10 },
      'unknown option "historysize" (known options: url, client, closeClient',
    ],
  ])('%s is refused with INVALID_OPTION naming the option', (_, options, message) => {
    const error = errorOf(() => redisTransport(options as never), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toContain(`@sse/redis: ${message}`)
  })

  test('the factory returns the exported transport class', () => {
    const transport = redisTransport({ url: 'redis://127.0.0.1:1' })
    expect(transport).toBeInstanceOf(RedisTransport)
    return transport.close()
  })
})

describe.runIf(hasRedis)('one Redis transport', () => {
  const redis = useRedis()
  let admin: Redis
  beforeAll(() => {
    admin = new Redis(redis.url)
  })
  afterAll(() => admin?.quit())
  const cleanups = useCleanups()

  test('each event is one stream entry whose frame holds the exact bytes, its stream id on the id line', async () => {
    const keyPrefix = uniquePrefix()
    const { broker } = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const id = await broker.publish('news', { data: { score: [1, 2] } })
    const entries = await admin.xrange(`${keyPrefix}:events`, '-', '+')
    expect(entries).toEqual([
      [id, ['t', 'news', 'n', '1', 'f', `id: ${id}\nevent: news\ndata: {"score":[1,2]}\n\n`]],
    ])
    const several = await broker.publish(['a', 'b'], 'x')
    const [, second] = await admin.xrange(`${keyPrefix}:events`, '-', '+')
    expect(second).toEqual([
      several,
      ['t', 'a\nb', 'n', '2', 'f', frame(several, 'a', 'x'), 'f', frame(several, 'b', 'x')],
    ])
  })

  test('history is trimmed to about historySize: an id older than it gets a reset with the newest id, a recent one replays the rest exactly', async () => {
    const keyPrefix = uniquePrefix()
    const instance = await startInstance(cleanups, {
      url: redis.url,
      keyPrefix,
      historySize: 50,
      maxReaderLag: 0,
    })
    const ids: string[] = []
    for (let i = 0; i < 400; i++) ids.push(await instance.broker.publish('news', `event ${i}`))
    const length = await admin.xlen(`${keyPrefix}:events`)
    expect(length).toBeGreaterThanOrEqual(50)
    expect(length).toBeLessThan(400)
    const newest = ids[399]!
    await allRead([instance], newest)

    const old = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[0]!,
      },
    })
    await old.take(1)
    expect(old.text()).toBe(`id: ${newest}\nevent: sse-reset\ndata: \n\n`)

    const recent = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[389]!,
      },
    })
    await recent.take(10)
    expect(recent.text()).toBe(
      ids
        .slice(390)
        .map((id, i) => frame(id, 'news', `event ${390 + i}`))
        .join(''),
    )
  })

  test('clients resuming from the same id at once share one history read', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push(await instance.broker.publish('news', `event ${i}`))
    await allRead([instance], ids[19]!)
    const xrangeCalls = async () => {
      const info = await admin.info('commandstats')
      return Number(/cmdstat_xrange:calls=(\d+)/.exec(info)?.[1] ?? 0)
    }
    const before = await xrangeCalls()
    const together = Array.from({ length: 50 }, () => instance.transport.replay(['news'], ids[9]!))
    expect(new Set(together).size).toBe(1)
    const ids9 = (await Promise.all(together)).map(deliveredIds)
    expect(ids9[0]).toEqual(ids.slice(10))
    expect((await xrangeCalls()) - before).toBe(1)
    // Another id, other topics, or a later request: a read of its own.
    const other = instance.transport.replay(['news'], ids[14]!)
    const otherTopics = instance.transport.replay(['news', 'sports'], ids[9]!)
    expect(other).not.toBe(together[0])
    expect(otherTopics).not.toBe(together[0])
    expect(deliveredIds(await other)).toEqual(ids.slice(15))
    expect(deliveredIds(await otherTopics)).toEqual(ids.slice(10))
    const later = instance.transport.replay(['news'], ids[9]!)
    expect(later).not.toBe(together[0])
    await later
    expect((await xrangeCalls()) - before).toBe(4)
  })

  test('a client more than historySize events behind gets a reset, though the stream still holds them for lagging readers', async () => {
    const keyPrefix = uniquePrefix()
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix, historySize: 20 })
    const ids: string[] = []
    for (let i = 0; i < 30; i++) ids.push(await instance.broker.publish('news', `event ${i}`))
    expect(await admin.xlen(`${keyPrefix}:events`)).toBe(30)
    await allRead([instance], ids[29]!)
    const tooFar = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[8]!,
      },
    })
    await tooFar.take(1)
    expect(tooFar.text()).toBe(`id: ${ids[29]}\nevent: sse-reset\ndata: \n\n`)
    const justInTime = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[9]!,
      },
    })
    await justInTime.take(20)
    expect(justInTime.events.map((event) => event.id)).toEqual(ids.slice(10))
  })

  test('a long replay pages through the stream and stays exact, with the frame of the topic the client follows', async () => {
    const instance = await startInstance(cleanups, {
      url: redis.url,
      keyPrefix: uniquePrefix(),
      historySize: 5000,
    })
    const topicsOf = (i: number) =>
      i % 3 === 0 ? ['other', 'news'] : i % 3 === 1 ? ['news'] : ['other']
    const ids = await Promise.all(
      Array.from({ length: 1300 }, (_, i) => instance.broker.publish(topicsOf(i), `event ${i}`)),
    )
    await allRead([instance], ids[1299]!)
    const client = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[0]!,
      },
    })
    const expected = ids
      .map((id, i) => (topicsOf(i).includes('news') ? frame(id, 'news', `event ${i}`) : ''))
      .slice(1)
      .join('')
    await client.waitFor((x) => x.text().length >= expected.length)
    expect(client.text()).toBe(expected)
  })

  test('entries not written by @sse/redis are skipped and counted, live and in replay, and never reach a client', async () => {
    const keyPrefix = uniquePrefix()
    const key = `${keyPrefix}:events`
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const live = await openStream(`${instance.url}/events?topics=news`)
    const first = await instance.broker.publish('news', 'one')
    await admin.xadd(key, '*', 'foo', 'bar')
    await admin.xadd(key, '*', 't', 'news', 'n', '2', 'f', 'data: no id line\n\n')
    await admin.xadd(key, '*', 't', 'news', 'n', '2', 'f', 'id: 1-1\ndata: wrong id\n\n')
    await admin.xadd(key, '*', 't', 'news', 'n', 'x', 'f', 'id: 9-9\ndata: two\n\nid: 9-9\n\n')
    // Right after entries added with `*`: the script must still find an id after them.
    const second = await instance.broker.publish('news', 'two')
    await live.take(2)
    expect(live.text()).toBe(frame(first, 'news', 'one') + frame(second, 'news', 'two'))
    expect(instance.transport.stats().skipped).toBe(4)
    expect(instance.errors.map((error) => error.code)).toEqual(['TRANSPORT_ERROR'])
    expect(instance.errors[0]?.message).toContain('was not written by @sse/redis')

    const replayed = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': first,
      },
    })
    await replayed.take(1)
    expect(replayed.text()).toBe(frame(second, 'news', 'two'))
    expect(instance.transport.stats().skipped).toBe(8)
  })

  test('an unknown or malformed Last-Event-ID gets a reset naming the newest id', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const newest = await instance.broker.publish('news', 'hello')
    await allRead([instance], newest)
    for (const lastEventId of ['not-an-id', '1-1', '99999999999999999999-0']) {
      const client = await openStream(`${instance.url}/events?topics=news`, {
        headers: {
          'last-event-id': lastEventId,
        },
      })
      await client.take(1)
      expect(client.text()).toBe(`id: ${newest}\nevent: sse-reset\ndata: \n\n`)
    }
  })

  test('a client reset on an empty stream gets everything published after, when it comes back', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const reset = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': 'unknown',
      },
    })
    await reset.take(1)
    expect(reset.text()).toBe('id: 0-0\nevent: sse-reset\ndata: \n\n')
    reset.close()
    const ids = [
      await instance.broker.publish('news', 'one'),
      await instance.broker.publish('news', 'two'),
    ]
    await allRead([instance], ids[1]!)
    const back = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': '0-0',
      },
    })
    await back.take(2)
    expect(back.text()).toBe(frame(ids[0]!, 'news', 'one') + frame(ids[1]!, 'news', 'two'))
  })

  test("an event with the publisher's own id carries it on the wire; resuming from it answers a reset", async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const client = await openStream(`${instance.url}/events?topics=news`)
    expect(await instance.broker.publish('news', { id: 'order-7', data: 'shipped' })).toBe(
      'order-7',
    )
    await client.take(1)
    expect(client.text()).toBe(frame('order-7', 'news', 'shipped'))
    await waitFor(() => instance.transport.stats().delivered === 1, 'the event to be read')
    const resumed = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': 'order-7',
      },
    })
    await resumed.take(1)
    expect(resumed.events[0]?.event).toBe('sse-reset')
  })

  async function connections(): Promise<number> {
    const list = (await admin.client('LIST')) as string
    return list.trim().split('\n').length
  }

  test('closing the broker closes the connections the transport opened', async () => {
    const before = await connections()
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    // Publishing and replays, the stream reader, control messages.
    expect(await connections()).toBe(before + 3)
    await instance.close()
    await waitFor(() => instance.transport.stats().connected === false, 'the transport to close')
    expect(await connections()).toBe(before)
  })

  test('a client passed in stays open after close (its duplicates, for reading and control, are closed) unless closeClient is set', async () => {
    const before = await connections()
    const client = new Redis(redis.url)
    cleanups.push(() => client.disconnect())
    const kept = createBroker({ transport: redisTransport({ client, keyPrefix: uniquePrefix() }) })
    await kept.ready
    expect(await connections()).toBe(before + 3)
    await kept.close()
    expect(client.status).toBe('ready')
    expect(await client.ping()).toBe('PONG')
    expect(await connections()).toBe(before + 1)

    const closed = createBroker({
      transport: redisTransport({ client, closeClient: true, keyPrefix: uniquePrefix() }),
    })
    await closed.ready
    await closed.close()
    expect(client.status).toBe('end')
    expect(await connections()).toBe(before)
  })
})
