import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { SSEError } from './sseError.js'

/** One Server-Sent Event, as given to {@link serializeEvent} or `stream.send()`. */
export interface SSEEvent<TData = unknown> {
  /**
   * The payload. A string is written as is (HTML stays HTML); anything else is JSON-encoded.
   * CR, LF and CRLF all split it into one `data:` line per line.
   */
  data?: TData
  /** The event name (`event:` field). Must not contain CR or LF. */
  event?: string
  /** The event id (`id:` field). Must not contain CR, LF or NUL. An empty string is kept. */
  id?: string
  /** Reconnection delay hint in ms (`retry:` field). A non-negative integer; `0` is kept. */
  retry?: number
  /** A comment (`: ...` lines); multi-line comments are split like data. */
  comment?: string
}

/** A request object the stream can read headers and URL from (HTTP/1.x or the HTTP/2 compat API). */
export type SSERequest = IncomingMessage | Http2ServerRequest
/** A response object the stream writes to (HTTP/1.x or the HTTP/2 compat API). */
export type SSEResponse = ServerResponse | Http2ServerResponse

/** What a stream does when a client falls behind by more than `maxBufferedBytes`. */
export type OverflowPolicy = 'disconnect' | 'drop'

/** Options of one SSE stream. */
export interface SSEStreamOptions {
  /**
   * `retry:` hint sent with the first bytes, in ms.
   * @default undefined (no hint)
   */
  retry?: number
  /**
   * Interval of the `:` keep-alive comment in ms; `0` turns it off. All streams share one timer per interval.
   * @default 30000
   */
  keepAlive?: number
  /**
   * Bytes a stream may hold for a client that is behind: one whose socket pushed back (Node holds
   * bytes it could not send, and `'drain'` has not come). What is queued for it plus what Node holds
   * unsent may reach this; past it `onOverflow` applies. Frames waiting for a coalesced write, or a
   * turn's batch, are never counted: they are written at the end of the turn or the hold. Keyed
   * events count only what is queued, one frame per topic and key.
   * @default 524288 (512 KiB)
   */
  maxBufferedBytes?: number
  /**
   * `disconnect` ends the stream so the client reconnects with `Last-Event-ID` and replays from history;
   * `drop` discards the frame and counts it.
   * @default 'disconnect'
   */
  onOverflow?: OverflowPolicy
  /**
   * Longest wait, in ms, of adaptive write coalescing. Frames sent in one turn always go out in one
   * write. A stream whose last write ended longer ago than the last flush took (all streams' writes
   * of one turn) writes at once, so nothing waits at low rates. One that wrote more recently, while
   * events come faster than the sockets take them, gathers what it is sent for one write after that
   * flush time, capped at this window, on a timer shared by every stream: events published one per
   * turn then cost one write per stream per window instead of one each; a stream that gathers 32 KiB,
   * or gets a frame of 16 KiB or more, is written at the end of the turn instead of waiting. When a
   * hold gathers nothing (events a flush or more apart), holding stops but for a 1 ms test hold every
   * 50 ms. `0` turns it off.
   * @default 10
   */
  coalesceWindow?: number
  /**
   * How an HTTP/1.1 body reaches the client: `'socket'` writes its chunks to the socket directly,
   * where Node's private response fields read as expected (else it falls back by itself);
   * `'response'` always goes through the public `res.write()`. Both put the same bytes on the wire.
   * HTTP/2 always uses `res.write()`.
   * @default 'socket'
   */
  writePath?: 'socket' | 'response'
  /** Extra response headers, written with the SSE headers. Headers already set on the response are kept too. */
  headers?: Record<string, string | number | readonly string[]>
}

/** Counters and gauges exposed by `broker.stats()`. */
export interface BrokerStats {
  /** Streams currently open or waiting for their `authorize` verdict. */
  streams: number
  /** Topics that currently have at least one subscriber on this instance. */
  topics: number
  /** Events the transport accepted from this broker. */
  published: number
  /** Publishes that failed to reach the transport (it was down, or lost the event in flight). */
  publishFailures: number
  /** Frames handed to subscribers' sockets (one per event per subscriber). */
  delivered: number
  /** Frames discarded under the `drop` overflow policy. */
  dropped: number
  /** Streams ended because their client fell too far behind (`disconnect` policy). */
  slowDisconnects: number
  /**
   * Pending frames of keyed events (`publish(..., { key })`) replaced by a newer one of the same
   * topic and key for a client that had fallen behind: frames it was spared.
   */
  conflated: number
  /** Events written from history to reconnecting clients. */
  replayed: number
  /** Reset events sent: the client's id could not be resumed from, or its replay was over a cap. */
  resets: number
  /** Snapshots sent instead of the reset event (streams opened with `snapshot`). */
  snapshots: number
  /** Resets and snapshots answering a replay over `maxReplayEvents` or `maxReplayBytes`. */
  replaysCapped: number
  /** Of {@link slowDisconnects}, those cut while their replay was still being written. */
  replaysCut: number
  /** Streams refused (a bad request, authorization, `maxConnections`, or closed broker). */
  refused: number
  /**
   * Streams ended by `broker.disconnect()` on this instance, asked here or by another instance
   * through the transport (a stream still waiting for its `authorize` verdict counts when matched).
   */
  revoked: number
  /** Streams ended because they reached their `maxDuration` (± jitter): the client reconnects. */
  rotated: number
  /**
   * `broker.disconnect()` calls whose message to other instances failed (the transport was down, or
   * lost it); the streams on this instance were ended all the same.
   */
  disconnectFailures: number
  /** Bytes held for clients right now across streams: queued frames, unsent bytes, held live events. */
  bufferedBytes: number
  /** What the transport holds in memory for replay; `undefined` if it keeps history elsewhere. */
  history: HistoryStats | undefined
}

/**
 * A published event after serialization: what travels through a {@link Transport} and is kept in history.
 * The frames are complete wire bytes, id line included, written unchanged to every subscriber.
 */
export interface Delivery {
  /** The event id on the wire. */
  readonly id: string
  /** Topics the event was published to. */
  readonly topics: readonly string[]
  /**
   * One frame per topic (same order as `topics`), or a single frame shared by all topics.
   * They differ only when the event name defaults to the topic.
   */
  readonly frames: readonly Buffer[]
  /**
   * The conflation key given at publish (`{ key }`), if any: a lagging stream keeps only the newest
   * pending event per topic and key, and a replay only the newest after the client's id.
   */
  readonly key?: string
  /**
   * Set by a transport that stores a multi-topic event once per place its topics live (a partition):
   * this copy is for the topics marked `true` only. A subscriber gets it when the first of `topics`
   * it listens to is marked, so one that listens to topics in several places gets the event once.
   * The frames of unmarked topics are never written and may be empty.
   */
  readonly carries?: readonly boolean[]
}

/** What a publisher hands to the transport: the event serialized once, without its id line. */
export interface OutgoingMessage {
  readonly topics: readonly string[]
  /** Serialized event bodies without the `id:` line, aligned with `topics` like {@link Delivery.frames}. */
  readonly bodies: readonly string[]
  /** An id supplied by the publisher, to be used on the wire instead of a transport-assigned one. */
  readonly id?: string
  /** The conflation key given at publish; the transport hands it on in {@link Delivery.key}. */
  readonly key?: string
}

/**
 * Caps on one replay, from the broker's `maxReplayEvents` and `maxReplayBytes`. A replay that would
 * exceed either is answered with a reset (`capped: true`) instead: the client refetches its state.
 */
export interface ReplayLimits {
  /** Most events one replay may send. */
  readonly maxEvents: number
  /** Most bytes (frames, as written) one replay may send. */
  readonly maxBytes: number
}

/** The answer to a replay request. */
export type ReplayResult =
  | { readonly reset: false; readonly deliveries: readonly Delivery[] }
  | {
      readonly reset: true
      /**
       * The newest id the transport knows, so the client's `Last-Event-ID` moves past the gap. It is
       * always an id the transport can resume from, even before anything was published.
       */
      readonly headId: string
      /** `true` when the reset answers a replay over the {@link ReplayLimits}. */
      readonly capped?: boolean
    }

/** What a transport holds in memory for replay, from {@link Transport.historyStats}. */
export interface HistoryStats {
  /** Topics with at least one retained event. */
  readonly topics: number
  /** Retained events, counted once per topic they were published to. */
  readonly events: number
  /** Estimated bytes held: frames plus bookkeeping per retained event. */
  readonly bytes: number
}

/**
 * A message between broker instances that is not an event: it travels through
 * {@link Transport.sendControl}, and is never kept in history or replayed.
 */
export interface ControlMessage {
  /** `disconnect`: end the streams that carry any of `tags` (`broker.disconnect()`). */
  readonly type: 'disconnect'
  /** At least one tag; see the `tags` stream option. */
  readonly tags: readonly string[]
  /** A complete frame (from `encodeEvent`) written to each of those streams before it ends. */
  readonly frame?: string
}

/** The broker side of a transport: where it delivers every published event, local or remote. */
export interface TransportSink {
  /** Called once for every event, in id order, including those this instance published. */
  deliver(delivery: Delivery): void
  /** Reports a transport failure that no caller is waiting on (it is counted and logged, never thrown). */
  error(error: SSEError): void
  /**
   * Receives a {@link ControlMessage} another instance sent with {@link Transport.sendControl}.
   * Brokers always provide it; a transport calls it for messages from OTHER instances only.
   */
  control?(message: ControlMessage): void
}

/**
 * The seam between the broker and the place events travel through. The in-memory transport is the
 * default; `@sse/redis` carries events between instances. Adapters never see it.
 *
 * A transport must deliver every event to `sink.deliver` exactly once, in id order, and must keep a
 * bounded history to answer `replay`.
 */
export interface Transport {
  /** Called once by the broker before any other method. */
  start(sink: TransportSink): void | Promise<void>
  /**
   * Publishes one event and returns its wire id. Throws an {@link SSEError} with code
   * `TRANSPORT_UNAVAILABLE` synchronously when it knows it cannot deliver.
   */
  publish(message: OutgoingMessage): string | Promise<string>
  /**
   * Every retained event after `lastEventId` on any of `topics`, in id order, or a reset: when the
   * id is unknown (including one that is not an id at all), older than the history, or when the
   * answer would exceed `limits` (then `capped: true`). Keyed events are log-compacted: of those with
   * the same key and topic (the first of the event's topics among `topics`), only the newest is
   * answered. `limits` apply to the compacted answer.
   */
  replay(
    topics: readonly string[],
    lastEventId: string,
    limits: ReplayLimits,
  ): ReplayResult | Promise<ReplayResult>
  /** What the transport holds in memory for replay, where it keeps history in this process. */
  historyStats?(): HistoryStats
  /**
   * An id that stands for "now" on this instance: every event delivered here so far is at or before
   * it, and replaying from it returns exactly the events delivered after it, on any instance. Cheap:
   * no round trip. `undefined` when the transport cannot tell yet (not started, not connected).
   */
  cursor(): string | undefined
  /**
   * Optional: the broker calls it before a stream on `topics` opens (after `authorize`), with the id
   * the client resumes from, if any. A transport that reads only what this instance's streams need
   * starts reading `topics` here; returned promise settles once events on them reach
   * {@link TransportSink.deliver} and the transport has read at least up to `lastEventId`, so a
   * replay right after misses nothing. A rejection refuses the stream with 503 (the client retries).
   * Each call, whatever its outcome, is matched by one {@link unfollow} call once the stream ends.
   */
  follow?(topics: readonly string[], lastEventId: string | undefined): void | Promise<void>
  /** Optional: a stream that {@link follow} was called for ended; its topics may stop being read. */
  unfollow?(topics: readonly string[]): void
  /**
   * Optional control channel: hands `message` to `sink.control` of every OTHER instance sharing
   * this transport, at most once each (an instance cut off from the transport when it is sent
   * misses it), and never keeps it: it is not an event, takes no id, and is never replayed. The
   * sending broker acts on its own instance itself. Throws an {@link SSEError}
   * `TRANSPORT_UNAVAILABLE` synchronously, or rejects, when it cannot send. Without it, the broker
   * acts on its own instance only (the in-memory transport has no other instance).
   */
  sendControl?(message: ControlMessage): void | Promise<void>
  /** Releases what the transport created. */
  close(): void | Promise<void>
}
