import { SSEError } from '@sse/core'
import type { RedisClient } from './redisClient.js'

/** Longest wait between retries after a Redis error on a live connection (a misused key, say). */
export const MAX_BACKOFF_MS = 2000

/**
 * Resolves once `redis` is ready, or at once when `signal` aborts; rejects when the connection
 * ended for good (a `retryStrategy` that gave up, or closed).
 */
export function whenReady(redis: RedisClient, signal: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  if (redis.status === 'end') {
    return Promise.reject(new Error('the Redis connection was closed and will not reconnect'))
  }
  return new Promise((resolve) => {
    const done = () => {
      redis.off('ready', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    redis.on('ready', done)
    signal.addEventListener('abort', done)
  })
}

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

/** The backoff before the next read after `failures` errors in a row on a live connection. */
export function backoff(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 50 * 2 ** failures)
}

/** The report of a read that failed: the connection lost, or an error reply reading `what`. */
export function readFailed(
  redis: RedisClient,
  cause: unknown,
  what: string,
  lostDetail: string,
): SSEError {
  const lost = redis.status !== 'ready'
  return new SSEError(
    lost ? 'TRANSPORT_UNAVAILABLE' : 'TRANSPORT_ERROR',
    lost
      ? `@sse/redis: lost the connection to Redis; reconnecting. ${lostDetail}`
      : `@sse/redis: reading ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    { cause },
  )
}

/** The first report of entries not written by `@sse/redis` (later ones are only counted). */
export function foreignEntry(id: string, key: string): SSEError {
  return new SSEError(
    'TRANSPORT_ERROR',
    `@sse/redis: skipped entry ${id} of "${key}": it was not written by @sse/redis (further ones are only counted, in stats().skipped)`,
  )
}

/** The report of `missed` entries of `key` trimmed before a reader got to them. */
export function trimmedBeforeRead(missed: number, key: string, advice: string): SSEError {
  return new SSEError(
    'TRANSPORT_ERROR',
    `@sse/redis: ${missed} event(s) of "${key}" were trimmed before this instance read them; ${advice}`,
  )
}
