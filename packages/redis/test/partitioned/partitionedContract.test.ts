import { randomUUID } from 'node:crypto'
import { redisTransport } from '@sse/redis'
import { transportContract } from '@sse/testing/transport'
import { type RedisServer, redisAvailable, startRedis } from '@sse/testkit/redisServer'
import { afterAll, beforeAll, describe, test } from 'vitest'

/**
 * The partitioned layout against the Transport contract, follow() and unfollow() included: with one
 * partition, where the contract's order across topics holds (with more, it holds per partition only,
 * which the tests beside this one check).
 */
describe.runIf(redisAvailable('@sse/redis tests'))(
  'RedisTransport, partitioned, meets the Transport contract',
  () => {
    let redis: RedisServer | undefined
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(() => redis?.stop())

    const create = (topicHistory = 100) =>
      redisTransport({
        url: redis!.url,
        keyPrefix: `sse-contract:${randomUUID()}`,
        partitions: 1,
        topicHistory,
        maxReaderLag: 0,
      })

    const checks = transportContract({
      create: () => create(),
      createWithHistorySize: create,
      resumesFromPublisherIds: false,
    })
    for (const check of checks) test(check.name, check.run)
  },
)
