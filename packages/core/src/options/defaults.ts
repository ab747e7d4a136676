/**
 * Every default of `@sse/core`, in one place: the TSDoc `@default` of each option says the same,
 * and the options tables of the docs are checked against these.
 */

/** Defaults of the stream options (`SSEStreamOptions`). */
export const STREAM_DEFAULTS = {
  keepAlive: 30_000,
  maxBufferedBytes: 512 * 1024,
  onOverflow: 'disconnect',
  coalesceWindow: 10,
  writePath: 'socket',
} as const

/** Defaults of the broker's own limits. */
export const BROKER_DEFAULTS = {
  maxConnections: 10_000,
  maxTopicsPerStream: 64,
  maxReplayEvents: 1000,
  maxReplayBytes: 1024 * 1024,
  resetEvent: 'sse-reset',
  snapshotTimeout: 5000,
  defaultEventName: 'topic',
} as const

/** Defaults of the in-memory history (`MemoryTransportOptions`). */
export const HISTORY_DEFAULTS = {
  historySize: 1000,
  historyMaxAge: 0,
  historyMaxBytes: 32 * 1024 * 1024,
} as const

/** Without `maxDurationJitter`, the jitter is `maxDuration` divided by this. */
export const JITTER_DIVISOR = 10
