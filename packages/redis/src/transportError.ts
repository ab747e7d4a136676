import { SSEError } from '@sse/core'

/** `TRANSPORT_UNAVAILABLE`: Redis cannot be reached, or the transport is not connected (yet, or any more). */
export function unavailable(detail: string, cause?: unknown): SSEError {
  return new SSEError(
    'TRANSPORT_UNAVAILABLE',
    `@sse/redis: ${detail}`,
    cause === undefined ? undefined : { cause },
  )
}

/** A failed command: a Redis error reply is a `TRANSPORT_ERROR`, anything else means Redis is away. */
export function commandError(cause: unknown, what: string): SSEError {
  if (cause instanceof SSEError) return cause
  if (cause instanceof Error && cause.name === 'ReplyError') {
    return new SSEError('TRANSPORT_ERROR', `@sse/redis: ${what} failed: ${cause.message}`, {
      cause,
    })
  }
  return unavailable(`${what} failed, Redis is unreachable`, cause)
}

/** Why a transport did not start: an `SSEError` as is, anything else as Redis being unreachable. */
export function startFailed(cause: unknown): SSEError {
  return cause instanceof SSEError
    ? cause
    : unavailable('cannot reach Redis; retrying in the background', cause)
}
