import { closeStreams, openStream } from '@sse/testing'
import { type Cleanups, useCleanups } from '@sse/testkit'
import { type RedisServer, redisAvailable, startRedis } from '@sse/testkit/redisServer'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { nodeOnly, startRuntime, useServerBundles } from './runtime/startRuntime.js'

describe.runIf(!nodeOnly && redisAvailable('@sse/fetch Redis tests'))(
  '@sse/redis from Bun, Deno and Node, one Redis between them',
  () => {
    const bundles = useServerBundles()
    let redis: RedisServer
    const shared: Cleanups = []
    beforeAll(async () => {
      redis = await startRedis()
      shared.push(() => redis.kill())
      return async () => {
        for (const cleanup of shared.reverse()) await cleanup()
      }
    })
    const cleanups = useCleanups()
    afterEach(closeStreams)

    test('an event published on any of them reaches clients on all three, and history replays on each', async () => {
      const options = { redisUrl: redis.url }
      const runtimes = ['bun', 'deno', 'node'] as const
      const apps = await Promise.all(
        runtimes.map((runtime) => startRuntime(runtime, bundles(), cleanups, options)),
      )
      const clients = await Promise.all(
        apps.map((app) => openStream(`${app.origin}/events`, { timeout: 15_000 })),
      )
      const ids: string[] = []
      for (const app of apps) {
        const answer = await fetch(`${app.origin}/publish?count=2`, { method: 'POST' })
        ids.push(...((await answer.json()) as { ids: string[] }).ids)
      }
      for (const [i, client] of clients.entries()) {
        // A failure names the runtime whose client missed events, and what it got.
        const got = await client.take(6).catch((error: Error) => {
          throw new Error(
            `the ${runtimes[i]} app's client, published ${ids.join(' ')}: ${error.message}`,
          )
        })
        expect(
          got.map((event) => event.id),
          `the ${runtimes[i]} app's client`,
        ).toEqual(ids)
      }
      // A client that comes back to another runtime resumes from the shared history.
      const [bun, deno, node] = apps
      for (const app of [deno!, node!, bun!]) {
        const back = await openStream(`${app.origin}/events`, {
          lastEventId: ids[1]!,
          timeout: 15_000,
        })
        expect((await back.take(4)).map((event) => event.id)).toEqual(ids.slice(2))
      }
    })
  },
)
