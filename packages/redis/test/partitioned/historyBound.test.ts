import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { PartitionLayout } from '../../src/partitioned/partitionLayout.js'
import { hasRedis, startInstance, uniquePrefix, useRedis } from '../helpers.js'
import { topicsIn } from './partitionHelpers.js'

function keyOf(prefix: string, topic: string): string {
  const layout = new PartitionLayout(prefix, 2)
  return layout.keys(layout.partitionOf(topic)).topic(topic)
}

afterEach(closeStreams)

/** Bytes Redis uses for data, from `INFO memory`. */
async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory')
  return Number(/used_memory:(\d+)/.exec(info)![1])
}

describe.runIf(hasRedis)('the partitioned layout bounds what it keeps in Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  test('1 KiB events: busy topics keep about topicHistory + maxReaderLag events each; 60 more topics leave at most maxTopics streams, within the bound the README states; a client of a dropped topic gets the reset event', async () => {
    const keyPrefix = uniquePrefix()
    const options = { topicHistory: 20, maxReaderLag: 0, maxTopics: 10, partitions: 2 }
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix, ...options })
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    const [quiet, ...busy] = [...topicsIn(2, 0, 4, 'kept'), ...topicsIn(2, 1, 4, 'kept')] as [
      string,
      ...string[],
    ]
    const reader = await openStream(`${instance.url}/events?topics=${quiet}`)
    await instance.broker.publish(quiet, 'first')
    const [first] = await reader.take(1)
    await reader.close()
    const before = await usedMemory(admin)
    const data = 'x'.repeat(1024)
    // Eight topics (four per partition, within maxTopics): each keeps its last events.
    for (let round = 0; round < 150; round++) {
      await Promise.all(busy.map((topic) => instance.broker.publish(topic, data)))
    }
    const kept = await Promise.all(busy.map((topic) => admin.xlen(keyOf(keyPrefix, topic))))
    // MAXLEN ~ trims whole nodes of at most 4 KiB (stream-node-max-bytes): a few entries over.
    for (const length of kept) {
      expect(length).toBeGreaterThanOrEqual(options.topicHistory)
      expect(length).toBeLessThanOrEqual(options.topicHistory + 8)
    }
    // Then 60 more topics: the partitions drop the history of those published to least recently.
    for (let topic = 0; topic < 60; topic++) await instance.broker.publish(`other-${topic}`, data)
    const topicKeys = await admin.keys(`${keyPrefix}:*:t:*`)
    expect(topicKeys.length).toBeLessThanOrEqual(options.maxTopics)
    // The README's bound: maxTopics × (topicHistory + maxReaderLag + 100) × (event + 200 B).
    const bound =
      options.maxTopics * (options.topicHistory + options.maxReaderLag + 100) * (data.length + 200)
    const grown = (await usedMemory(admin)) - before
    console.log(
      `partitioned history: ${kept.join('/')} entries kept per busy topic, then ${topicKeys.length} topic streams; ${(grown / 1024).toFixed(0)} KiB grown (bound ${(bound / 1024).toFixed(0)} KiB)`,
    )
    expect(grown).toBeLessThan(bound)
    // The quiet topic's history was dropped: its client gets the reset event, not silence.
    const back = await openStream(`${instance.url}/events?topics=${quiet}`, {
      lastEventId: first!.id!,
    })
    const [reset] = await back.take(1)
    expect(reset?.event).toBe('sse-reset')
  })
})
