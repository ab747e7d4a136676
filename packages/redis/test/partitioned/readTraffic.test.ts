import type { RedisTransportOptions } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { countingProxy, hasRedis, startInstance, uniquePrefix, useRedis } from '../helpers.js'

afterEach(closeStreams)

describe.runIf(hasRedis)('read traffic per instance', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** Bytes Redis sent to an instance whose one client wants 1 topic of 10, while 1,000 events go to all 10. */
  async function bytesRead(layout: RedisTransportOptions) {
    const keyPrefix = uniquePrefix()
    const publisher = await startInstance(cleanups, { url: redis.url, keyPrefix, ...layout })
    const proxy = await countingProxy(cleanups, Number(new URL(redis.url).port))
    const reader = await startInstance(cleanups, { url: proxy.url, keyPrefix, ...layout })
    const client = await openStream(`${reader.url}/events?topics=topic-0`)
    const start = proxy.counter.bytes
    const data = 'x'.repeat(512)
    for (let i = 0; i < 1000; i++) await publisher.broker.publish(`topic-${i % 10}`, data)
    await client.take(100)
    const bytes = proxy.counter.bytes - start
    const delivered = reader.transport.stats().delivered
    await client.close()
    return { bytes, delivered }
  }

  test('an instance whose clients want one topic in ten reads about a tenth of what is published in the partitioned layout, all of it in the single stream', async () => {
    const single = await bytesRead({})
    const partitioned = await bytesRead({ partitions: 3 })
    console.log(
      `read traffic, 1,000 × 512 B events on 10 topics, one wanted: single stream ${(single.bytes / 1024).toFixed(0)} KiB (${single.delivered} entries), partitioned ${(partitioned.bytes / 1024).toFixed(0)} KiB (${partitioned.delivered} entries), ${(partitioned.bytes / single.bytes).toFixed(3)}×`,
    )
    expect(single.delivered).toBeGreaterThanOrEqual(990)
    expect(partitioned.delivered).toBe(100)
    expect(partitioned.bytes).toBeLessThan(single.bytes * 0.2)
  })
})
