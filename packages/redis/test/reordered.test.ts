import { useCleanups } from '@sse/testkit'
import { Redis } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { TOPIC_PUBLISH_SCRIPT } from '../src/partitioned/topicPublishScript.js'
import { PUBLISH_SCRIPT } from '../src/publishScript.js'
import { hasRedis, uniquePrefix, useRedis } from './helpers.js'

/**
 * A client that retries (ioredis resending after a reconnect, a Cluster client after a failover)
 * can bring an instance's publish to Redis after a later one. Both publish scripts refuse it.
 */
describe.runIf(hasRedis)('publishes that arrive after a later one of their instance', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  async function admin(): Promise<Redis> {
    const client = new Redis(redis.url)
    cleanups.push(() => client.quit())
    return client
  }

  test('the single-stream script refuses it with REORDERED and stores nothing', async () => {
    const client = await admin()
    const prefix = uniquePrefix()
    const keys = [`${prefix}:events`, `${prefix}:head`, `${prefix}:pub:one`]
    const publish = (sequence: number) =>
      client.eval(
        PUBLISH_SCRIPT,
        3,
        ...keys,
        '100',
        'news',
        '',
        '0-0',
        '',
        String(sequence),
        'data: x\n\n',
      )
    await publish(2)
    await expect(publish(1)).rejects.toThrow(/^REORDERED/)
    await expect(publish(2)).rejects.toThrow(/^REORDERED/)
    await publish(3)
    expect(await client.xlen(keys[0]!)).toBe(2)
    // Another instance has its own sequence.
    await client.eval(
      PUBLISH_SCRIPT,
      3,
      keys[0]!,
      keys[1]!,
      `${prefix}:pub:two`,
      '100',
      'news',
      '',
      '0-0',
      '',
      '1',
      'data: y\n\n',
    )
    expect(await client.xlen(keys[0]!)).toBe(3)
  })

  test('the partitioned script refuses it with REORDERED and stores nothing', async () => {
    const client = await admin()
    const base = `${uniquePrefix()}:{p}`
    const keys = [`${base}:head`, `${base}:topics`, `${base}:pub:one`, `${base}:t:news`]
    const publish = (sequence: number) =>
      client.eval(
        TOPIC_PUBLISH_SCRIPT,
        4,
        ...keys,
        '100',
        '0-0',
        '100',
        'news',
        '',
        '',
        String(sequence),
        'news',
        'data: x\n\n',
      )
    await publish(5)
    await expect(publish(4)).rejects.toThrow(/^REORDERED/)
    await publish(6)
    expect(await client.xlen(keys[3]!)).toBe(2)
  })
})
