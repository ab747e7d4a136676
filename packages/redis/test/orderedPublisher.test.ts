import { useCleanups, waitFor } from '@sse/testkit'
import { type RedisServer, startRedis } from '@sse/testkit/redisServer'
import { Redis } from 'ioredis'
import { describe, expect, test } from 'vitest'
import { PUBLISH_SCRIPT } from '../src/publishScript.js'
import { compareStreamIds } from '../src/streamId.js'
import { hasRedis, holdingProxy, type Instance, startInstance, uniquePrefix } from './helpers.js'

type Outcome = { id: string } | { error: unknown }

/** Publishes `data` on `order`, fire and forget; the outcome is kept, never thrown. */
function publish(instance: Instance, data: string): Promise<Outcome> {
  return instance.broker.publish('order', data).then(
    (id) => ({ id }),
    (error: unknown) => ({ error }),
  )
}

function idsOf(outcomes: readonly Outcome[]): string[] {
  return outcomes.map((outcome) => {
    if ('id' in outcome) return outcome.id
    throw new Error(`a publish failed: ${String(outcome.error)}`)
  })
}

describe.runIf(hasRedis)('publishes through a script cache that Redis loses', () => {
  const cleanups = useCleanups()

  async function setUp(): Promise<{ server: RedisServer; admin: Redis; keyPrefix: string }> {
    const server = await startRedis()
    cleanups.push(() => server.stop())
    const admin = new Redis(server.url)
    admin.on('error', () => {})
    cleanups.push(() => admin.quit())
    return { server, admin, keyPrefix: uniquePrefix() }
  }

  /** How many commands Redis answered with NOSCRIPT since it started. */
  async function noScriptCount(admin: Redis): Promise<number> {
    const match = /errorstat_NOSCRIPT:count=(\d+)/.exec(await admin.info('errorstats'))
    return Number(match?.[1] ?? 0)
  }

  /** The data of the stream's entries, in stream order. */
  async function stored(admin: Redis, keyPrefix: string): Promise<string[]> {
    const entries = await admin.xrange(`${keyPrefix}:events`, '-', '+')
    return entries.map(([, fields]) => /\ndata: (.*)\n/.exec(fields[fields.indexOf('f') + 1]!)![1]!)
  }

  test('after a Redis restart the first publishes on the new connection find the script: none answers NOSCRIPT, none fails', async () => {
    const { server, admin, keyPrefix } = await setUp()
    const instance = await startInstance(cleanups, { url: server.url, keyPrefix })
    await instance.broker.publish('order', 'before')
    await server.restart()
    await waitFor(() => instance.transport.stats().connected, 'the instance to reconnect')
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => publish(instance, `after ${i}`)),
    )
    const ids = idsOf(outcomes)
    expect(ids).toEqual([...ids].sort(compareStreamIds))
    expect(await noScriptCount(admin)).toBe(0)
  })

  test('publishes in flight when the script cache is flushed are re-sent in call order, and none is lost', async () => {
    const { server, admin, keyPrefix } = await setUp()
    const instance = await startInstance(cleanups, { url: server.url, keyPrefix })
    await instance.broker.publish('order', 'warm-up')
    await admin.script('FLUSH')
    const before = await noScriptCount(admin)
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => publish(instance, `p${i}`)),
    )
    const ids = idsOf(outcomes)
    expect(ids).toEqual([...ids].sort(compareStreamIds))
    expect((await noScriptCount(admin)) - before).toBe(10)
    expect(await stored(admin, keyPrefix)).toEqual([
      'warm-up',
      ...Array.from({ length: 10 }, (_, i) => `p${i}`),
    ])
  })

  test('publishes answered NOSCRIPT that a later publish of the instance overtook fail with TRANSPORT_ERROR rather than land after it; publishes made meanwhile wait and keep their order', async () => {
    const { server, admin, keyPrefix } = await setUp()
    // The 7th EVALSHA on the publishing connection (p5 below) and all after it reach Redis late.
    const url = await holdingProxy(cleanups, server.port, {
      command: 'evalsha',
      occurrence: 7,
      delayMs: 500,
    })
    const instance = await startInstance(cleanups, { url, keyPrefix })
    await instance.broker.publish('order', 'warm-up')
    await admin.script('FLUSH')
    const before = await noScriptCount(admin)
    const first = Array.from({ length: 10 }, (_, i) => publish(instance, `p${i}`))
    await waitFor(
      async () => (await noScriptCount(admin)) - before === 5,
      'p0 to p4 to answer NOSCRIPT',
    )
    const meanwhile = Array.from({ length: 5 }, (_, i) => publish(instance, `p${10 + i}`))
    // Another instance loads the script again before p5 to p9 reach Redis: they run.
    await admin.script('LOAD', PUBLISH_SCRIPT)

    const outcomes = await Promise.all([...first, ...meanwhile])
    for (const outcome of outcomes.slice(0, 5)) {
      expect(outcome).toMatchObject({
        error: { code: 'TRANSPORT_ERROR', message: expect.stringMatching(/call order/) },
      })
    }
    const ids = idsOf(outcomes.slice(5))
    expect(ids).toEqual([...ids].sort(compareStreamIds))
    expect(await stored(admin, keyPrefix)).toEqual([
      'warm-up',
      ...Array.from({ length: 10 }, (_, i) => `p${5 + i}`),
    ])
    expect(instance.broker.stats().publishFailures).toBe(5)
    expect(instance.errors.map((error) => error.code)).toEqual(['TRANSPORT_ERROR'])
  })
})
