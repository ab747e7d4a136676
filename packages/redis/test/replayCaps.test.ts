import type { ReplayLimits, ReplayResult } from '@sse/core/kit'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { type HistoryRequest, readHistory } from '../src/readHistory.js'
import {
  allRead,
  frame,
  hasRedis,
  type Instance,
  startInstance,
  uniquePrefix,
  useRedis,
} from './helpers.js'

afterEach(closeStreams)

const UNLIMITED: ReplayLimits = {
  maxEvents: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
}

function resetFrame(id: string): string {
  return `id: ${id}\nevent: sse-reset\ndata: \n\n`
}

function deliveredIds(result: ReplayResult): string[] {
  if (result.reset) throw new Error(`unexpected reset to ${result.headId}`)
  return result.deliveries.map((delivery) => delivery.id)
}

describe.runIf(hasRedis)('replay caps through a broker', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  async function publishMany(
    instance: Instance,
    count: number,
    data: (i: number) => string = (i) => `event ${i}`,
  ): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(await instance.broker.publish('news', data(i)))
    await allRead([instance], ids[ids.length - 1]!)
    return ids
  }

  test('a client further behind than maxReplayEvents gets the reset event with the newest id, and resumes from it', async () => {
    const instance = await startInstance(
      cleanups,
      { url: redis.url, keyPrefix: uniquePrefix() },
      { maxReplayEvents: 5 },
    )
    const ids = await publishMany(instance, 8)
    const newest = ids[7]!
    const capped = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[1]!,
      },
    })
    await capped.take(1)
    expect(capped.text()).toBe(resetFrame(newest))
    expect(instance.broker.stats()).toMatchObject({ resets: 1, replaysCapped: 1, replayed: 0 })
    capped.close()

    const resumed = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': newest,
      },
    })
    const next = await instance.broker.publish('news', 'next')
    await resumed.take(1)
    expect(resumed.text()).toBe(frame(next, 'news', 'next'))
    expect(instance.broker.stats()).toMatchObject({ resets: 1, replaysCapped: 1 })
  })

  test('a client exactly maxReplayEvents behind gets the whole replay', async () => {
    const instance = await startInstance(
      cleanups,
      { url: redis.url, keyPrefix: uniquePrefix() },
      { maxReplayEvents: 5 },
    )
    const ids = await publishMany(instance, 8)
    const client = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[2]!,
      },
    })
    await client.take(5)
    expect(client.text()).toBe(
      ids
        .slice(3)
        .map((id, i) => frame(id, 'news', `event ${3 + i}`))
        .join(''),
    )
    expect(instance.broker.stats()).toMatchObject({ resets: 0, replaysCapped: 0, replayed: 5 })
  })

  test('a replay of exactly maxReplayBytes is written whole; one event more gets the reset event', async () => {
    const keyPrefix = uniquePrefix()
    const data = (i: number) => `${i}`.padStart(100, '.')
    const probe = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const ids = await publishMany(probe, 6, data)
    await probe.close()
    const lastFour = ids
      .slice(2)
      .map((id, i) => frame(id, 'news', data(2 + i)))
      .join('')
    const instance = await startInstance(
      cleanups,
      { url: redis.url, keyPrefix },
      { maxReplayBytes: Buffer.byteLength(lastFour) },
    )
    await allRead([instance], ids[5]!)

    const whole = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[1]!,
      },
    })
    await whole.take(4)
    expect(whole.text()).toBe(lastFour)

    const capped = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': ids[0]!,
      },
    })
    await capped.take(1)
    expect(capped.text()).toBe(resetFrame(ids[5]!))
    expect(instance.broker.stats()).toMatchObject({ resets: 1, replaysCapped: 1, replayed: 4 })
  })

  test('a client resuming from 0-0 before anything was published gets no replay and then every event live', async () => {
    const instance = await startInstance(
      cleanups,
      { url: redis.url, keyPrefix: uniquePrefix() },
      { maxReplayEvents: 1 },
    )
    const client = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': '0-0',
      },
    })
    const ids = [
      await instance.broker.publish('news', 'one'),
      await instance.broker.publish('news', 'two'),
    ]
    await client.take(2)
    expect(client.text()).toBe(frame(ids[0]!, 'news', 'one') + frame(ids[1]!, 'news', 'two'))
    expect(instance.broker.stats()).toMatchObject({ resets: 0, replaysCapped: 0 })
  })

  test('a replay from 0-0 reads the stream from its start, under the caps', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const ids = await publishMany(instance, 3)
    const { transport } = instance
    const limits = (maxEvents: number): ReplayLimits => ({ maxEvents, maxBytes: 1024 })
    expect(deliveredIds(await transport.replay(['news'], '0-0', limits(3)))).toEqual(ids)
    expect(await transport.replay(['news'], '0-0', limits(2))).toEqual({
      reset: true,
      headId: ids[2],
      capped: true,
    })
    expect(deliveredIds(await transport.replay(['sports'], '0-0', limits(0)))).toEqual([])
  })

  test('an unusable Last-Event-ID gets the reset event naming the newest id, not counted as capped', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const [newest] = await publishMany(instance, 1)
    const tooLong = await openStream(`${instance.url}/events?topics=news`, {
      headers: {
        'last-event-id': `1-${'0'.repeat(300)}`,
      },
    })
    const control = await openStream(`${instance.url}/events?topics=news&lastEventId=1%01`)
    for (const client of [tooLong, control]) {
      await client.take(1)
      expect(client.text()).toBe(resetFrame(newest!))
    }
    expect(instance.broker.stats()).toMatchObject({ resets: 2, replaysCapped: 0 })
    expect(instance.transport.replay(['news'], '\u0000unusable', UNLIMITED)).toEqual({
      reset: true,
      headId: newest,
    })
  })

  test('identical replays at once share one read only when their limits are the same too', async () => {
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const ids = await publishMany(instance, 10)
    const limits: ReplayLimits = { maxEvents: 5, maxBytes: 1024 * 1024 }
    const together = Array.from({ length: 20 }, () =>
      instance.transport.replay(['news'], ids[4]!, { ...limits }),
    )
    expect(new Set(together).size).toBe(1)
    const fewer = instance.transport.replay(['news'], ids[4]!, { ...limits, maxEvents: 4 })
    const fewerBytes = instance.transport.replay(['news'], ids[4]!, { ...limits, maxBytes: 100 })
    expect(fewer).not.toBe(together[0])
    expect(fewerBytes).not.toBe(together[0])
    expect(deliveredIds(await together[0]!)).toEqual(ids.slice(5))
    expect(await fewer).toEqual({ reset: true, headId: ids[9], capped: true })
    expect(await fewerBytes).toEqual({ reset: true, headId: ids[9], capped: true })
  })
})

describe.runIf(hasRedis)('readHistory', () => {
  const redis = useRedis()
  let client: Redis
  beforeAll(() => {
    client = new Redis(redis.url)
  })
  afterAll(() => client?.quit())
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** Writes entries as the publish script does, ids `1-0`, `2-0`, …; returns the stream key. */
  async function fill(
    count: number,
    entry: (i: number) => { topics: string[]; data: string[] },
  ): Promise<string> {
    const key = `${uniquePrefix()}:events`
    for (let start = 0; start < count; start += 1000) {
      const pipeline = client.pipeline()
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const { topics, data } = entry(i)
        const id = `${i + 1}-0`
        const frames = data.flatMap((body, f) => ['f', frame(id, topics[f]!, body)])
        pipeline.xadd(key, id, 't', topics.join('\n'), 'n', String(i + 1), ...frames)
      }
      await pipeline.exec()
    }
    return key
  }

  function request(
    key: string,
    count: number,
    topics: string[],
    limits: ReplayLimits,
  ): HistoryRequest {
    return {
      key,
      topics,
      after: '1-0',
      head: `${count}-0`,
      headCount: count,
      historySize: count,
      limits,
      skipped: () => {},
    }
  }

  test('a capped read of a 10,000-entry stream stops after its first page, where an uncapped one reads 20', async () => {
    const key = await fill(10_000, (i) => ({ topics: ['news'], data: [`event ${i}`] }))
    const xrange = vi.spyOn(client, 'xrangeBuffer')
    const byEvents = { maxEvents: 10, maxBytes: Number.POSITIVE_INFINITY }
    expect(await readHistory(client, request(key, 10_000, ['news'], byEvents))).toEqual({
      reset: true,
      headId: '10000-0',
      capped: true,
    })
    expect(xrange).toHaveBeenCalledTimes(1)

    const byBytes = { maxEvents: Number.POSITIVE_INFINITY, maxBytes: 4096 }
    expect(await readHistory(client, request(key, 10_000, ['news'], byBytes))).toMatchObject({
      capped: true,
    })
    expect(xrange).toHaveBeenCalledTimes(2)

    const whole = await readHistory(client, request(key, 10_000, ['news'], UNLIMITED))
    expect(deliveredIds(whole)).toHaveLength(9_999)
    expect(xrange).toHaveBeenCalledTimes(22)
  })

  test('bytes are counted with the frame each event is written with for the requested topics', async () => {
    // Per-topic frames: the one for "news" is a byte shorter than the one for "other".
    const key = await fill(5, () => ({ topics: ['other', 'news'], data: ['x', 'x'] }))
    const newsBytes = [2, 3, 4, 5]
      .map((n) => Buffer.byteLength(frame(`${n}-0`, 'news', 'x')))
      .reduce((sum, bytes) => sum + bytes)
    const exact = { maxEvents: 4, maxBytes: newsBytes }
    const whole = await readHistory(client, request(key, 5, ['news'], exact))
    expect(deliveredIds(whole)).toEqual(['2-0', '3-0', '4-0', '5-0'])
    if (whole.reset) return
    expect(whole.deliveries.map((delivery) => delivery.frames.map(String))).toEqual(
      [2, 3, 4, 5].map((n) => [frame(`${n}-0`, 'news', 'x')]),
    )
    const oneByteLess = { maxEvents: 4, maxBytes: newsBytes - 1 }
    expect(await readHistory(client, request(key, 5, ['news'], oneByteLess))).toMatchObject({
      capped: true,
    })
    // Subscribed to both topics, the frame of the first of the event's topics counts: "other".
    expect(await readHistory(client, request(key, 5, ['news', 'other'], exact))).toMatchObject({
      capped: true,
    })
  })

  test('an answer holds copies of its own frames only, not the Redis reply buffers around them', async () => {
    const key = await fill(500, (i) =>
      i % 25 === 0
        ? { topics: ['news'], data: [`event ${i}`] }
        : { topics: ['other'], data: ['x'.repeat(10_000)] },
    )
    const result = await readHistory(client, request(key, 500, ['news'], UNLIMITED))
    if (result.reset) throw new Error('unexpected reset')
    const frames = result.deliveries.flatMap((delivery) => delivery.frames)
    expect(frames).toHaveLength(19)
    const backing = new Set(frames.map((frame) => frame.buffer))
    let held = 0
    for (const buffer of backing) held += buffer.byteLength
    // The reply was about 5 MB; 19 small copied frames sit in a few of Node's buffer pools
    // (Buffer.poolSize: 8 KiB on Node 20, 64 KiB on Node 24).
    expect(held).toBeLessThanOrEqual(4 * Buffer.poolSize)
  })
})
