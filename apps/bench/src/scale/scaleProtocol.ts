/**
 * What the scale orchestrator and its child processes (servers, client processes, the publisher)
 * say to each other over IPC. Each child gets its setup as JSON in `argv[2]`, answers
 * `{ ready: true, … }` once it can work, then one reply per request.
 */

/** `plain`: the plain `node:http` loop fed by Redis PUBLISH/SUBSCRIBE; `ours`: @sse/core on @sse/redis. */
export type ScaleMode = 'plain' | 'ours'

/** The topic of ours and the Redis channel of the plain loop. */
export const SCALE_TOPIC = 'scale'

/** What a server process and the publisher both need to reach the same fan-out. */
export interface FanOutSetup {
  mode: ScaleMode
  redisUrl: string
  /** Ours: the transport's `keyPrefix`; plain: the channel is `<keyPrefix>:<topic>`. */
  keyPrefix: string
  /** Ours only, passed to `redisTransport()` only when given. */
  partitions?: number
}

export interface ServerSetup extends FanOutSetup {
  /** Ours: the broker's `maxConnections` (its default, 10,000, is below a process's share). */
  maxConnections: number
  /** The plain loop's keep-alive comment interval, ms (ours keeps core's default, 30 s). */
  plainKeepAliveMs: number
}

export type ServerRequest =
  /** RSS and heap after three `gc()`s: a {@link MemoryReading}. */
  | { op: 'memory' }
  /** CPU time used so far (µs, user + system). */
  | { op: 'cpu' }
  /** Streams the server currently holds. */
  | { op: 'subscribers' }

export interface MemoryReading {
  rss: number
  heapUsed: number
}

export interface ClientSetup {
  /** The server ports; connection `i` goes to `ports[(first + i) % ports.length]`. */
  ports: number[]
  /** Connections of the client processes before this one: all processes together spread evenly. */
  first: number
  /**
   * This process's loopback source addresses, so it has ephemeral ports of its own; connection
   * `i` binds to `localAddresses[i % localAddresses.length]`.
   */
  localAddresses: string[]
  count: number
  /** Connections opening at once. */
  concurrency: number
}

export type ClientRequest =
  /** Opens every connection: a {@link ConnectOutcome}. */
  | { op: 'connect' }
  /** Waits until every open connection has broadcast `seq`, or `timeout` ms: a {@link SeqOutcome}. */
  | { op: 'awaitSeq'; seq: number; timeout: number }
  /** Counters and the latency histogram: a {@link ClientReport}. */
  | { op: 'report' }

export interface ConnectOutcome {
  opened: number
  failed: number
  /** Response status → connections (0: no response head). */
  statuses: Record<number, number>
  /** ms from the request to the last response head. */
  elapsedMs: number
}

export interface SeqOutcome {
  /** Connections that received the broadcast. */
  received: number
  /** µs (wall clock): when the last of them received it, 0 if none did. */
  lastAt: number
}

export interface ClientReport {
  connections: number
  /** Connections still open. */
  open: number
  /** Broadcast events received, over every connection. */
  received: number
  /** Broadcasts skipped in a connection's sequence. */
  gaps: number
  reorders: number
  /** Publish-to-receive latency: `[bucket, count]` of the non-empty buckets of a LatencyHistogram. */
  histogram: Array<[number, number]>
}

export type PublisherRequest =
  /** Publishes broadcast `seq`; resolves with its send time, µs (wall clock). */
  { op: 'publish'; seq: number; size: number }

/** A child's first message: it is ready (`port`: a server's listening port). */
export interface ReadyMessage {
  ready: true
  port?: number
}

export type ChildReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
