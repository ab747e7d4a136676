import { randomUUID } from 'node:crypto'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import { useCleanups, waitFor } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { PUBLISH_SCRIPT } from '../src/publishScript.js'
import {
  allRead,
  dataOf,
  hasRedis,
  type Instance,
  newestOf,
  startInstance,
  uniquePrefix,
  useRedis,
} from './helpers.js'

afterEach(closeStreams)

const KiB = 1024

/** Whether each key's values arrive in publish order (conflation may skip some, never go back). */
function neverBack(events: ReadonlyArray<{ data: string }>): boolean {
  const newest = new Map<string, number>()
  for (const { data } of events) {
    const { key, value } = JSON.parse(data) as { key: string; value: number }
    if ((newest.get(key) ?? -1) >= value) return false
    newest.set(key, value)
  }
  return true
}

/** Whether `client` has got the newest value of every key in `published`. */
function current(client: TestStream, published: ReadonlyMap<string, number>): boolean {
  const newest = newestOf(client.events)
  return [...published].every(([key, value]) => newest.get(key) === value)
}

describe.runIf(hasRedis)('bursts that reach another instance through Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** Instances A and B on one fresh key prefix, default broker options, and a Redis connection. */
  async function pair(): Promise<{ a: Instance; b: Instance; admin: Redis; keyPrefix: string }> {
    const keyPrefix = uniquePrefix()
    const [a, b] = (await Promise.all([
      startInstance(cleanups, { url: redis.url, keyPrefix }),
      startInstance(cleanups, { url: redis.url, keyPrefix }),
    ])) as [Instance, Instance]
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    return { a, b, admin, keyPrefix }
  }

  async function reader(instance: Instance, topic: string): Promise<TestStream> {
    const client = await openStream(`${instance.url}/events?topics=${topic}`, { timeout: 20_000 })
    await waitFor(() => instance.broker.subscribers(topic) === 1)
    return client
  }

  /**
   * Appends `events` to the stream in one `MULTI`/`EXEC` with the transport's own script: B's
   * blocked `XREAD` then returns them together, and its reader hands them to its broker in one turn.
   */
  async function appendAtOnce(
    admin: Redis,
    keyPrefix: string,
    topic: string,
    events: ReadonlyArray<{ data: string; key?: string }>,
  ): Promise<string> {
    const multi = admin.multi()
    // A publisher of its own, with its own sequence numbers.
    const publisher = `${keyPrefix}:pub:${randomUUID()}`
    for (const [i, { data, key }] of events.entries()) {
      multi.eval(
        PUBLISH_SCRIPT,
        3,
        `${keyPrefix}:events`,
        `${keyPrefix}:head`,
        publisher,
        '11000',
        topic,
        '',
        '0-0',
        key ?? '',
        String(i + 1),
        `event: ${topic}\ndata: ${data}\n\n`,
      )
    }
    const replies = (await multi.exec()) ?? []
    const last = replies.at(-1)
    if (last === undefined || last[0] !== null)
      throw new Error(`MULTI failed: ${String(last?.[0])}`)
    return String(last[1])
  }

  test('200 keyed updates of 20 keys (2 KiB each) published in one turn on A: a client of B reading at full speed is not cut and ends with the newest value of every key', async () => {
    const { a, b } = await pair()
    const client = await reader(b, 'prices')
    const published = new Map<string, number>()
    const ids: Array<Promise<string>> = []
    for (let i = 0; i < 200; i++) {
      const key = `k${i % 20}`
      ids.push(a.broker.publish('prices', { data: dataOf(key, i, 2 * KiB) }, { key }))
      published.set(key, i)
    }
    const last = (await Promise.all(ids)).at(-1)!
    await allRead([b], last)
    await client.waitFor((c) => current(c, published))
    expect(neverBack(client.events)).toBe(true)
    expect(b.broker.stats().slowDisconnects).toBe(0)
    expect(client.state).toBe('open')
    expect(b.broker.subscribers('prices')).toBe(1)
  })

  test('300 keyed events that reach B in one XREAD reply: a client of B reading at full speed is not cut and ends with the newest value of every key', async () => {
    const { b, admin, keyPrefix } = await pair()
    const client = await reader(b, 'prices')
    const published = new Map<string, number>()
    const events = Array.from({ length: 300 }, (_, i) => {
      const key = `k${i % 20}`
      published.set(key, i)
      return { data: dataOf(key, i, 2 * KiB), key }
    })
    const last = await appendAtOnce(admin, keyPrefix, 'prices', events)
    await allRead([b], last)
    await client.waitFor((c) => current(c, published))
    expect(neverBack(client.events)).toBe(true)
    expect(b.transport.stats()).toMatchObject({ delivered: 300, skipped: 0 })
    expect(b.broker.stats().slowDisconnects).toBe(0)
    expect(client.state).toBe('open')
  })

  test('300 unkeyed events of 2 KiB that reach B in one XREAD reply, default options: a client of B reading at full speed gets every one, in order, and is not cut', async () => {
    const { b, admin, keyPrefix } = await pair()
    const client = await reader(b, 'feed')
    const datas = Array.from({ length: 300 }, (_, i) => dataOf('line', i, 2 * KiB))
    const last = await appendAtOnce(
      admin,
      keyPrefix,
      'feed',
      datas.map((data) => ({ data })),
    )
    await allRead([b], last)
    await client.waitFor((c) => c.events.length >= 300 || c.state !== 'open')
    expect(client.events.map((event) => event.data)).toEqual(datas)
    expect(client.events.at(-1)?.id).toBe(last)
    expect(b.broker.stats().slowDisconnects).toBe(0)
    expect(client.state).toBe('open')
  })
})
