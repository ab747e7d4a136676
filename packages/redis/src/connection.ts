import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import type { RedisClient } from './redisClient.js'
import { unavailable } from './transportError.js'

/**
 * Options of the connections the transport opens itself: fail fast instead of queueing. A command
 * sent while Redis is away is rejected at once (`enableOfflineQueue: false`), and one in flight when
 * the connection drops is rejected on the spot (`maxRetriesPerRequest: 0`) rather than resent later
 * (`autoResendUnfulfilledCommands: false`), so a publisher hears about an outage when it happens.
 */
export const CONNECTION_OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
}

/** Connects a client (or waits for it); rejects on the first failure (ioredis keeps retrying). */
export function connect(redis: RedisClient): Promise<void> {
  switch (redis.status) {
    case 'ready':
      return Promise.resolve()
    case 'wait':
      return redis.connect()
    case 'end':
      return Promise.reject(unavailable('the Redis client given was closed'))
    default:
      return new Promise((resolve, reject) => {
        const settle = (error?: unknown) => {
          redis.off('ready', settle)
          redis.off('error', settle)
          if (error === undefined) resolve()
          else reject(error)
        }
        redis.on('ready', settle)
        redis.on('error', settle)
      })
  }
}

/**
 * Quits gracefully when connected (pending replies arrive first), disconnects otherwise, and
 * resolves once the connection is closed.
 */
export async function quit(redis: RedisClient, graceful: boolean): Promise<void> {
  const status = redis.status
  if (status === 'end') return
  if (status !== 'ready' && status !== 'connect' && status !== 'connecting') {
    // No socket (waiting to reconnect): this cancels the retry timer; there is no 'end' to wait for.
    redis.disconnect()
    return
  }
  const ended = new Promise((resolve) => redis.once('end', resolve))
  if (graceful && status === 'ready') await redis.quit().catch(() => redis.disconnect())
  else redis.disconnect()
  await ended
}

/** The same fail-fast behaviour for a Redis Cluster client (and for its connection to each node). */
export const CLUSTER_CONNECTION_OPTIONS: ClusterOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  redisOptions: {
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  },
}

/**
 * A new connection like `client` (same server or cluster, same options) with the transport's
 * fail-fast options, for a reader or a subscriber of its own. `subscriber` turns off ioredis's
 * resubscribing: the control channel subscribes again itself after each reconnect.
 */
export function duplicate(client: RedisClient, subscriber = false): RedisClient {
  if (isCluster(client)) {
    return client.duplicate(undefined, {
      ...CLUSTER_CONNECTION_OPTIONS,
      redisOptions: { ...client.options.redisOptions, ...CLUSTER_CONNECTION_OPTIONS.redisOptions },
    })
  }
  const options = subscriber
    ? { ...CONNECTION_OPTIONS, autoResubscribe: false }
    : CONNECTION_OPTIONS
  return (client as Redis).duplicate(options)
}

/** Whether `client` is a Redis Cluster client (ioredis sets `isCluster` on those). */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true
}
