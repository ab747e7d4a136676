import { randomUUID } from 'node:crypto'
import { redisTransport } from '@sse/redis'
import { transportContract } from '@sse/testing/transport'
import { type RedisServer, redisAvailable, startRedis } from '@sse/testkit/redisServer'
import { afterAll, beforeAll, describe, test } from 'vitest'

describe.runIf(redisAvailable('@sse/redis tests'))(
  'RedisTransport meets the Transport contract',
  () => {
    let redis: RedisServer | undefined
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(() => redis?.stop())

    /** A transport on its own key prefix: its own stream and history. */
    const create = (historySize?: number) =>
      redisTransport({
        url: redis!.url,
        keyPrefix: `sse-contract:${randomUUID()}`,
        ...(historySize === undefined ? {} : { historySize }),
      })

    const checks = transportContract({
      create: () => create(),
      createWithHistorySize: create,
      // Only stream ids can be looked up: an event's own id is answered with a reset.
      resumesFromPublisherIds: false,
    })
    for (const check of checks) test(check.name, check.run)
  },
)
