import type { RedisTransportOptions } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { decodeCursor } from '../../src/partitioned/cursorVector.js'
import { hasRedis, type Instance, startInstance, uniquePrefix, useRedis } from '../helpers.js'
import { topicsIn } from './partitionHelpers.js'

afterEach(closeStreams)

const [A0, A1] = topicsIn(3, 0, 2) as [string, string]
const [B0] = topicsIn(3, 1, 1) as [string]
const [C0] = topicsIn(3, 2, 1) as [string]

describe.runIf(hasRedis)('the partitioned layout (3 partitions) on one Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  function instances(count: number, options: RedisTransportOptions = {}): Promise<Instance[]> {
    const keyPrefix = uniquePrefix()
    return Promise.all(
      Array.from({ length: count }, () =>
        startInstance(cleanups, { url: redis.url, keyPrefix, partitions: 3, ...options }),
      ),
    )
  }

  test('events reach every subscriber of their topics on every instance, once each, in each topic’s order, multi-topic events across partitions included', async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance]
    const all = await openStream(`${b.url}/events?topics=${A0},${B0},${C0}`)
    const one = await openStream(`${a.url}/events?topics=${B0}`)
    const published: [topics: string[], data: string][] = []
    for (let i = 0; i < 30; i++) {
      const topics = [[A0], [B0], [C0], [C0, A0], [B0, C0, A0]][i % 5]!
      published.push([topics, `e${i}`])
    }
    // Fire-and-forget in one turn, from both instances.
    await Promise.all(
      published.map(([topics, data], i) => (i % 2 ? a : b).broker.publish(topics, data)),
    )
    const forAll = published.map(([, data]) => data)
    const forOne = published.filter(([topics]) => topics.includes(B0)).map(([, data]) => data)
    const got = await all.take(forAll.length)
    expect(got.map((event) => event.data).sort()).toEqual([...forAll].sort())
    const gotOne = await one.take(forOne.length)
    expect(gotOne.map((event) => event.data).sort()).toEqual([...forOne].sort())
    // Per topic, the order of publishing from one instance holds.
    for (const topic of [A0, B0, C0]) {
      const mine = published
        .filter(([topics], i) => i % 2 === 0 && topics[0] === topic)
        .map(([, d]) => d)
      const seen = got.map((event) => event.data).filter((data) => mine.includes(data))
      expect(seen).toEqual(mine)
    }
    // Nothing more: each multi-partition event came once.
    const fence = await a.broker.publish(B0, 'fence')
    await all.until((event) => event.data === 'fence')
    expect(all.events.length).toBe(forAll.length + 1)
    expect(decodeCursor(all.lastEventId, 3)?.positions.size).toBe(3)
    expect(typeof fence).toBe('string')
    expect(a.errors.concat(b.errors)).toEqual([])
  })

  test('a client following topics in three partitions resumes on another instance with its Last-Event-ID: no gap, no duplicate', async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance]
    const topics = `${A0},${B0},${C0}`
    const first = await openStream(`${a.url}/events?topics=${topics}`)
    for (let i = 0; i < 9; i++) await b.broker.publish([A0, B0, C0][i % 3]!, `before-${i}`)
    await first.take(9)
    const lastEventId = first.lastEventId
    await first.close()
    for (let i = 0; i < 12; i++) await a.broker.publish([A0, B0, C0, A1][i % 4]!, `gone-${i}`)
    const again = await openStream(`${b.url}/events?topics=${topics}`, { lastEventId })
    const missed = Array.from({ length: 12 }, (_, i) => `gone-${i}`).filter((_, i) => i % 4 !== 3)
    const replayed = await again.take(missed.length)
    // Each topic's events in order; topics in different partitions interleave by Redis' clock.
    const data = replayed.map((event) => event.data)
    expect([...data].sort()).toEqual([...missed].sort())
    for (const topic of [A0, B0, C0]) {
      const own = missed.filter((_, i) => [A0, B0, C0][i % 4] === topic && i % 4 !== 3)
      expect(data.filter((d) => own.includes(d))).toEqual(own)
    }
    await a.broker.publish(C0, 'live')
    const [live] = await again.take(1)
    expect(live?.data).toBe('live')
    // And from the id of the last replayed event, nothing twice.
    const third = await openStream(`${a.url}/events?topics=${topics}`, {
      lastEventId: replayed[replayed.length - 1]!.id!,
    })
    await a.broker.publish(B0, 'after')
    const [next] = await third.take(1)
    expect(next?.data).toBe('live')
    const [after] = await third.take(1)
    expect(after?.data).toBe('after')
  })

  test('a quiet topic keeps its last events however busy a topic of its partition is', async () => {
    const [a, b] = (await instances(2, { topicHistory: 5, maxReaderLag: 10 })) as [
      Instance,
      Instance,
    ]
    const quiet = await openStream(`${b.url}/events?topics=${A1}`)
    for (let i = 0; i < 3; i++) await a.broker.publish(A1, `quiet-${i}`)
    const [firstQuiet] = await quiet.take(1)
    await quiet.take(2)
    await quiet.close()
    const busy = Array.from({ length: 3000 }, (_, i) => a.broker.publish(A0, `busy-${i}`))
    await Promise.all(busy)
    const back = await openStream(`${b.url}/events?topics=${A1}`, { lastEventId: firstQuiet!.id! })
    const events = await back.take(2)
    expect(events.map((event) => event.data)).toEqual(['quiet-1', 'quiet-2'])
    // The busy topic's own history is trimmed: a client far behind on it gets the reset event.
    const far = await openStream(`${b.url}/events?topics=${A0}`, { lastEventId: firstQuiet!.id! })
    const [reset] = await far.take(1)
    expect(reset?.event).toBe('sse-reset')
  })

  test('an event of two topics an instance follows in one partition reaches it once, whole, though its blocked read wakes on one of the two streams', async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance]
    const first = await openStream(`${b.url}/events?topics=${A0}`)
    const second = await openStream(`${b.url}/events?topics=${A1}`)
    const both = await openStream(`${b.url}/events?topics=${A1},${A0}`)
    const before = b.transport.stats().delivered
    for (let i = 0; i < 10; i++) {
      // One at a time: b's read is blocked when each lands, and Redis 7.0 wakes it with one stream.
      await a.broker.publish([A0, A1], `both ${i}`)
      await both.until((event) => event.data === `both ${i}`)
    }
    const expected = Array.from({ length: 10 }, (_, i) => `both ${i}`)
    expect(both.events.map((event) => event.data)).toEqual(expected)
    for (const stream of [first, second]) {
      expect((await stream.take(10)).map((event) => event.data)).toEqual(expected)
    }
    expect(b.transport.stats().delivered - before).toBe(10)
  })

  test('an instance reads only the topics its streams want, and stops reading them when they leave', async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance]
    expect(b.transport.stats()).toMatchObject({ partitionsRead: 0, topicsRead: 0 })
    const stream = await openStream(`${b.url}/events?topics=${A0},${B0}`)
    expect(b.transport.stats()).toMatchObject({ partitionsRead: 2, topicsRead: 2 })
    const before = b.transport.stats().delivered
    for (let i = 0; i < 50; i++) await a.broker.publish([C0, A1][i % 2]!, `not wanted ${i}`)
    await a.broker.publish(A0, 'wanted')
    const [event] = await stream.take(1)
    expect(event?.data).toBe('wanted')
    expect(b.transport.stats().delivered - before).toBe(1)
    await stream.close()
    await waitFor(() => b.transport.stats().topicsRead === 0, 'b to stop reading')
    await waitFor(() => b.transport.stats().partitionsRead === 0, 'b to stop reading partitions')
  })
})
