import { closeStreams, openStream } from '@sse/testing'
import { runIsolated, useCleanups, waitFor } from '@sse/testkit'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
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

const KiB = 1024

describe.runIf(hasRedis)('conflation keys through Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()
  afterEach(closeStreams)

  function cluster(count: number, maxReplayEvents = 1000): Promise<Instance[]> {
    const keyPrefix = uniquePrefix()
    return Promise.all(
      Array.from({ length: count }, () =>
        startInstance(cleanups, { url: redis.url, keyPrefix }, { maxReplayEvents }),
      ),
    )
  }

  test('the key is stored with the event (field k) and reaches every instance', async () => {
    const keyPrefix = uniquePrefix()
    const a = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const id = await a.broker.publish('t', 'x', { key: 'price:ACME ✓' })
    const client = new Redis(redis.url)
    cleanups.push(() => client.quit())
    const [[, fields]] = (await client.xrange(`${keyPrefix}:events`, id, id)) as [
      [string, string[]],
    ]
    expect(fields[fields.indexOf('k') + 1]).toBe('price:ACME ✓')
  })

  test('a client resuming on another instance gets the log-compacted replay: the newest event per topic and key after its id, every unkeyed one, in id order, under maxReplayEvents', async () => {
    const [a, b] = (await cluster(2, 10)) as [Instance, Instance]
    const from = await a.broker.publish(['t', 'u'], 'before')
    const plain: string[] = []
    let last = from
    for (let i = 0; i < 100; i++) {
      for (const key of ['cpu', 'memory']) {
        last = await a.broker.publish('t', { data: dataOf(key, i) }, { key })
      }
      // The same key on another topic is another thing, and is not asked for.
      await a.broker.publish('u', { data: dataOf('cpu', -i) }, { key: 'cpu' })
      if (i % 40 === 0) {
        plain.push(`plain ${i}`)
        last = await a.broker.publish('t', { data: `plain ${i}` })
      }
    }
    await allRead([b], last)
    const client = await openStream(`${b.url}/events?topics=t`, { lastEventId: from })
    await client.take(5)
    expect(client.events.map((event) => event.data)).toEqual([
      ...plain,
      dataOf('cpu', 99),
      dataOf('memory', 99),
    ])
    expect(b.broker.stats()).toMatchObject({ replayed: 5, resets: 0, replaysCapped: 0 })
    expect(b.errors).toEqual([])
  })

  test('a client that stopped reading, fed by another instance through Redis, is kept current under its bound instead of being cut', async () => {
    const [a, b] = (await cluster(2)) as [Instance, Instance]
    const client = await openStream(`${b.url}/events?topics=t`, { timeout: 20_000 })
    await waitFor(() => b.broker.subscribers('t') === 1)
    client.pause()
    const published = new Map<string, number>()
    let last = ''
    // 64 KiB frames of 4 keys: loopback TCP takes megabytes before it pushes back.
    for (let i = 0; b.broker.stats().conflated < 50; i++) {
      if (i === 2000) throw new Error('the socket never pushed back')
      const key = `k${i % 4}`
      last = await a.broker.publish('t', { data: dataOf(key, i, 64 * KiB) }, { key })
      published.set(key, i)
      expect(b.broker.stats().bufferedBytes).toBeLessThanOrEqual(512 * KiB)
    }
    await allRead([b], last)
    expect(b.broker.stats()).toMatchObject({ slowDisconnects: 0, dropped: 0 })
    client.resume()
    await client.waitFor((c) => {
      const newest = newestOf(c.events)
      return [...published].every(([key, value]) => newest.get(key) === value)
    })
    expect(b.broker.subscribers('t')).toBe(1)
  })

  test('keyed publishes fired and forgotten while Redis is unreachable fail quietly: no unhandled rejection, counted', async () => {
    const run = await runIsolated(
      `
import { createBroker } from '@sse/core'
import { redisTransport } from '@sse/redis'

const codes = new Set()
const broker = createBroker({
  keepAlive: 0,
  transport: redisTransport({ url: 'redis://127.0.0.1:1' }),
  onError: (error) => codes.add(error.code),
})
for (let i = 0; i < 200; i++) broker.publish('system', { data: String(i) }, { key: 'cpu' })
await new Promise((resolve) => setTimeout(resolve, 300))
for (let i = 0; i < 200; i++) broker.publish('system', { data: String(i) }, { key: 'cpu' })
await new Promise((resolve) => setTimeout(resolve, 300))
console.log(JSON.stringify({ failures: broker.stats().publishFailures, codes: [...codes] }))
await broker.close()
`,
      { from: 'redis', timeoutMs: 30_000 },
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout.trim()) as { failures: number; codes: string[] }
    expect(result.failures).toBe(400)
    expect(result.codes).toContain('TRANSPORT_UNAVAILABLE')
  })
})
