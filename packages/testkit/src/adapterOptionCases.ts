/**
 * Options every adapter must refuse with `INVALID_OPTION` and a message naming the key, one
 * `[key, value]` per case. Each adapter asserts it its own way (Fastify at `register()`, Express
 * when the middleware is made), since the message starts with its package name.
 */
export const invalidAdapterOptions: ReadonlyArray<[key: string, value: unknown]> = [
  ['keepAlive', 2_147_483_648],
  ['retry', 2_147_483_648],
  ['resetEvent', 'a\nb'],
  ['resetEvent', ''],
  ['headers', { 'bad name': 'x' }],
  ['headers', { 'x-name': '✓' }],
  ['maxTopicsPerStream', 0],
  ['maxTopicsPerStream', 1.5],
  ['maxTopicsPerStream', '64'],
  ['maxReplayEvents', -1],
  ['maxReplayEvents', 2.5],
  ['maxReplayBytes', -1],
  ['maxReplayBytes', 1024.5],
  ['historyMaxBytes', 0],
  ['historyMaxBytes', 1.5],
]

/** The largest timer values and the integer limits at their edge: every adapter must accept them. */
export const largestAdapterOptions = {
  keepAlive: 2_147_483_647,
  retry: 2_147_483_647,
  maxTopicsPerStream: 1,
  maxReplayEvents: 0,
  maxReplayBytes: 0,
  historyMaxBytes: 1,
} as const
