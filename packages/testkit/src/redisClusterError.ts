/**
 * What went wrong with a launched Redis Cluster:
 * - `INVALID_OPTION`: an option of `startRedisCluster` is out of range;
 * - `NO_FREE_PORTS`: no port (and bus port, + 10000) free for a node, or the fixed ones are taken;
 * - `START_FAILED`: a `redis-server` exited or never answered PING;
 * - `CREATE_FAILED`: `redis-cli --cluster create` failed;
 * - `NOT_READY`: the cluster did not serve every slot, agreed on by every live node, in time;
 * - `UNKNOWN_NODE`: no node of this cluster listens on that port, or it is not in the state asked;
 * - `NO_REPLICA`: the killed master had no replica, so no failover will come.
 */
export type RedisClusterErrorCode =
  | 'INVALID_OPTION'
  | 'NO_FREE_PORTS'
  | 'START_FAILED'
  | 'CREATE_FAILED'
  | 'NOT_READY'
  | 'UNKNOWN_NODE'
  | 'NO_REPLICA'

/** The one error class of the Redis Cluster launcher: a string `code`, the cause if one. */
export class RedisClusterError extends Error {
  override readonly name = 'RedisClusterError'
  readonly code: RedisClusterErrorCode

  constructor(code: RedisClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(`@sse/testkit/redisCluster: ${message}`, options)
    this.code = code
  }
}
