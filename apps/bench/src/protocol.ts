/** Ids of the contenders, in the order they run in every round. */
export const CONTENDER_IDS = [
  'baseline',
  'core',
  'fastify',
  'express',
  'better-sse',
  'fastify-sse',
  'fastify-sse-v2',
] as const

/**
 * Framework floors, run in S2 and S3 after their adapter: the baseline's handler behind a plain
 * Express or Fastify route (no SSE library), to tell the framework's own cost (latency, memory per
 * connection) from the adapter's. Bare Express is one: `--contenders=express-floor` runs it alone.
 */
export const FLOOR_IDS = ['express-floor', 'fastify-floor'] as const

/**
 * Our packages on the public write path (`writePath: 'response'`: every chunk through
 * `res.write()`), run beside their direct twin (the default `'socket'` path) in S1, S1b and S6.
 */
export const RESPONSE_PATH_IDS = ['core-response', 'fastify-response', 'express-response'] as const

export type ResponsePathId = (typeof RESPONSE_PATH_IDS)[number]

/**
 * The Fetch adapter and its peer, run when `--contenders` names them (in S1, S1b, S2 and S3 only):
 * `@sse/fetch` and hono's `streamSSE`, each in a Hono app on Node (`@hono/node-server`) and on Bun
 * (`Bun.serve`); the plain loop on Bun that the Bun rows are ratios to (see runtimes.ts); and
 * `hono-floor`, the Fetch adapter's framework floor on Node (run after it in S2 and S3).
 */
export const FETCH_IDS = [
  'fetch',
  'fetch-web',
  'hono-floor',
  'hono-sse',
  'baseline-bun',
  'fetch-bun',
  'hono-sse-bun',
] as const

export type ContenderId =
  | (typeof CONTENDER_IDS)[number]
  | (typeof FLOOR_IDS)[number]
  | ResponsePathId
  | (typeof FETCH_IDS)[number]

/** Every contender `--contenders` accepts. */
export const ALL_CONTENDER_IDS: readonly ContenderId[] = [
  ...CONTENDER_IDS,
  ...FLOOR_IDS,
  ...RESPONSE_PATH_IDS,
  ...FETCH_IDS,
]

/** Where an SSE stream of our packages writes its chunks (the stream option `writePath`). */
export type WritePath = 'socket' | 'response'

/** What the orchestrator passes to a contender server process. */
export interface ServerConfig {
  contender: ContenderId
  /** Our packages: per-client bound before `onOverflow` applies. */
  maxBufferedBytes?: number
  /** Our packages: events kept per topic for replay. */
  historySize?: number
  /** Our core only: run over `@sse/redis` instead of the in-memory transport. */
  redisUrl?: string
  redisKeyPrefix?: string
  /** Our packages: the stream option `writePath`; absent, the library's default. */
  writePath?: WritePath
}

/** Commands the orchestrator sends to a contender server over IPC. */
export type ServerCommand =
  | {
      /** Publishes `count` events, `chunk` per event-loop turn (setImmediate between chunks). */
      op: 'burst'
      count: number
      size: number
      chunk: number
    }
  | {
      /**
       * Publishes `count` events of `size` bytes at `megabytesPerSecond` (MB = 2²⁰ bytes) on a
       * drift-free schedule, at most one per event-loop turn: a {@link BurstResult}.
       */
      op: 'paced'
      count: number
      size: number
      megabytesPerSecond: number
    }
  | {
      /**
       * Keeps the server's event loop busy `forMs` in every `everyMs` until the next `busy`
       * command; `forMs: 0` stops. Resolves with what it spent busy-waiting since the last stop
       * (a `BusySpent`).
       */
      op: 'busy'
      everyMs: number
      forMs: number
    }
  | {
      /** Publishes `rate` events per second for `duration` ms on a drift-free schedule. */
      op: 'rate'
      rate: number
      duration: number
      size: number
    }
  | { op: 'memory' }
  | { op: 'subscribers' }
  | { op: 'stats' }
  | { op: 'peakRss'; reset: boolean }
  /** CPU time the server process has used so far (µs, user + system), from process.cpuUsage(). */
  | { op: 'cpu' }
  /** CPU time (µs) and write system calls this process has made so far: a {@link ServerUsage}. */
  | { op: 'usage' }

export interface ServerUsage {
  /** µs, user + system, from process.cpuUsage(). */
  cpuMicros: number
  /**
   * `syscw` of /proc/self/io: write/writev calls so far; `null` where they do not count the
   * server's writes: off Linux, and on Bun, which sends with `sendto` (IPC carries `NaN` as `null`).
   */
  writeSyscalls: number | null
}

export interface MemorySample {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

export interface BurstResult {
  firstSeq: number
  lastSeq: number
  /** µs, server clock */
  startedAt: number
  endedAt: number
}

export type ServerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }

/**
 * `node`: the version of Node the server runs on (`process.version`; on Bun, the Node version it
 * stands in for); `bun`: Bun's version, when the server runs on Bun.
 */
export type ServerMessage =
  | { ready: true; port: number; node: string; bun: string | undefined }
  | ServerReply

/** How each contender is named in reports. */
export const CONTENDER_LABELS: Record<ContenderId, string> = {
  baseline: 'baseline (node:http, write loop)',
  core: '@sse/core (node:http)',
  fastify: '@sse/fastify',
  express: '@sse/express',
  'better-sse': 'better-sse (Channel.broadcast)',
  'fastify-sse': '@fastify/sse',
  'fastify-sse-v2': 'fastify-sse-v2',
  'express-floor': 'floor: bare Express 5 route, no SSE library',
  'fastify-floor': 'floor: Fastify 5 route (hijack), no SSE library',
  'core-response': "@sse/core, writePath 'response'",
  'fastify-response': "@sse/fastify, writePath 'response'",
  'express-response': "@sse/express, writePath 'response'",
  fetch: '@sse/fetch (Hono on @hono/node-server, node: c.env)',
  'fetch-web': '@sse/fetch through the web Response (Hono on @hono/node-server)',
  'hono-sse': "hono's streamSSE (@hono/node-server)",
  'hono-floor': 'floor: Hono route on @hono/node-server, ReadableStream per client, no SSE library',
  'baseline-bun': 'baseline on Bun (Bun.serve, ReadableStream per client)',
  'fetch-bun': '@sse/fetch on Bun (Hono on Bun.serve)',
  'hono-sse-bun': "hono's streamSSE on Bun (Bun.serve)",
}

/** Our packages: they keep history and can replay. */
export const OURS: readonly ContenderId[] = ['core', 'fastify', 'express']

/** Each public-write-path contender's direct twin (the same package on its default path). */
export const DIRECT_TWIN: Record<ResponsePathId, ContenderId> = {
  'core-response': 'core',
  'fastify-response': 'fastify',
  'express-response': 'express',
}

/** Each of our packages' public-write-path twin. */
export const RESPONSE_TWIN: Partial<Record<ContenderId, ResponsePathId>> = {
  core: 'core-response',
  fastify: 'fastify-response',
  express: 'express-response',
}

/** Each adapter's framework floor: the same framework without our package. */
export const FLOOR_OF: Partial<Record<ContenderId, ContenderId>> = {
  express: 'express-floor',
  fastify: 'fastify-floor',
  'fetch-web': 'hono-floor',
}
