import { describe, test } from 'vitest'
import { hasRedis, redisContract, useRedis } from './helpers.js'

describe.runIf(hasRedis)('RedisTransport meets the Transport contract', () => {
  const redis = useRedis()
  describe('the single-stream layout', () => {
    for (const check of redisContract('single stream', () => ({ url: redis.url }))) {
      test(check.name, check.run)
    }
  })
  // follow() and unfollow() included.
  describe('the partitioned layout', () => {
    for (const check of redisContract('partitioned', () => ({ url: redis.url }))) {
      test(check.name, check.run)
    }
  })
})
