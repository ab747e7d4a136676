import type { Cluster, Redis } from 'ioredis'

/** An ioredis client: one server (`Redis`, Sentinel included) or a Redis Cluster (`Cluster`). */
export type RedisClient = Redis | Cluster
