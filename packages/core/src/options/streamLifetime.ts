import { SSEError } from '../sseError.js'
import type { StreamLifetimeOptions } from './brokerOptions.js'
import { JITTER_DIVISOR } from './defaults.js'

/** How long a stream may stay open: `maxDuration` ± `jitter` ms; `maxDuration` 0 is no limit. */
export interface StreamLifetime {
  readonly maxDuration: number
  readonly jitter: number
}

/** No limit: the stream stays open until the client or the app ends it. */
export const UNLIMITED: StreamLifetime = { maxDuration: 0, jitter: 0 }

/** The last lifetime read, handed out again for the same values (streams through one adapter). */
let lastRead: StreamLifetime = UNLIMITED

/**
 * Reads `maxDuration` and `maxDurationJitter` (each already checked to be an integer in range):
 * the jitter defaults to a tenth of `maxDuration` and must be less than it, so that every drawn
 * lifetime is positive. Throws an {@link SSEError} `INVALID_OPTION` naming `maxDurationJitter`,
 * prefixed with `packageName`.
 */
export function readLifetime(
  options: StreamLifetimeOptions,
  packageName = '@sse/core',
): StreamLifetime {
  const { maxDuration = 0, maxDurationJitter } = options
  if (maxDuration === 0) return UNLIMITED
  const jitter = maxDurationJitter ?? Math.floor(maxDuration / JITTER_DIVISOR)
  if (jitter >= maxDuration) {
    throw new SSEError(
      'INVALID_OPTION',
      `${packageName}: option "maxDurationJitter" must be less than "maxDuration" (${maxDuration}), got ${jitter}`,
    )
  }
  if (lastRead.maxDuration !== maxDuration || lastRead.jitter !== jitter) {
    lastRead = { maxDuration, jitter }
  }
  return lastRead
}

/**
 * One stream's lifetime in ms, drawn uniformly from `maxDuration − jitter` to `maxDuration + jitter`,
 * or `0` for no limit.
 */
export function drawLifetime(lifetime: StreamLifetime): number {
  const { maxDuration, jitter } = lifetime
  if (maxDuration === 0) return 0
  return Math.max(1, Math.round(maxDuration + (Math.random() * 2 - 1) * jitter))
}

/**
 * The lifetime of a stream whose own options (`own`) override the broker's (`defaults`). A jitter
 * goes with its `maxDuration`: a stream that sets its own `maxDuration` gets its own jitter (or a
 * tenth of it), never the broker's.
 */
export function overrideLifetime(
  defaults: StreamLifetimeOptions,
  own: StreamLifetimeOptions,
): StreamLifetime {
  if (own.maxDuration !== undefined) return readLifetime(own)
  if (own.maxDurationJitter === undefined) return readLifetime(defaults)
  return readLifetime({ ...defaults, maxDurationJitter: own.maxDurationJitter })
}
