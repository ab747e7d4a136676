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
 * Framework floors, run in S3 only: the baseline's handler behind a plain Express or Fastify
 * route (no SSE library), to tell the framework's own cost per connection from the adapter's.
 */
export const FLOOR_IDS = ['express-floor', 'fastify-floor'] as const

export type ContenderId = (typeof CONTENDER_IDS)[number] | (typeof FLOOR_IDS)[number]

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
  /** `syscw` of /proc/self/io: write/writev calls so far (`NaN` off Linux). */
  writeSyscalls: number
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

export type ServerMessage = { ready: true; port: number } | ServerReply

/** How each contender is named in reports. */
export const CONTENDER_LABELS: Record<ContenderId, string> = {
  baseline: 'baseline (node:http, write loop)',
  core: '@sse/core (node:http)',
  fastify: '@sse/fastify',
  express: '@sse/express',
  'better-sse': 'better-sse (Channel.broadcast)',
  'fastify-sse': '@fastify/sse',
  'fastify-sse-v2': 'fastify-sse-v2',
  'express-floor': 'floor: Express 5 route, no SSE library',
  'fastify-floor': 'floor: Fastify 5 route (hijack), no SSE library',
}

/** Our packages: they keep history and can replay. */
export const OURS: readonly ContenderId[] = ['core', 'fastify', 'express']
