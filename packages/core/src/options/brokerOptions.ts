import type { SSEError } from '../sseError.js'
import type { SSEEvent, SSERequest, SSEStreamOptions, Transport } from '../types.js'

/**
 * What an `authorize` hook may answer: `true` admits; `false`, `null` or `undefined` refuse with 403;
 * `{ status, message? }` refuses with that status (400–599).
 */
export type AuthorizeResult = boolean | null | undefined | { status: number; message?: string }

/** Decides whether a request may subscribe to `topics`; runs before any byte is written. */
export type AuthorizeHook = (
  request: SSERequest,
  topics: readonly string[],
) => AuthorizeResult | Promise<AuthorizeResult>

/** Options of {@link createBroker}. Stream options given here are the defaults of every stream. */
export interface BrokerOptions extends SSEStreamOptions, StreamLifetimeOptions {
  /**
   * Events kept per topic for `Last-Event-ID` replay (in-memory transport; with `transport`, give
   * history options to the transport instead).
   * @default 1000
   */
  historySize?: number
  /**
   * Maximum age of replayable events in ms (in-memory transport); `0` means no age limit. Older
   * events are freed by a sweep on a shared timer.
   * @default 0
   */
  historyMaxAge?: number
  /**
   * Bytes of history kept in memory across all topics (in-memory transport). Past it, the least
   * recently published topics are dropped whole; clients resuming from them get the reset event.
   * @default 33554432 (32 MiB)
   */
  historyMaxBytes?: number
  /**
   * Open streams allowed at once; past it new streams get `503` with `Retry-After`.
   * @default 10000
   */
  maxConnections?: number
  /**
   * Topics one stream may subscribe to; past it the request is answered `400` before any SSE byte.
   * @default 64
   */
  maxTopicsPerStream?: number
  /**
   * Most events one reconnecting client is replayed; a client further behind gets the reset event
   * and refetches its state. Each replayed event costs one frame of writes. Counted after log
   * compaction: of keyed events (`publish(..., { key })`), only the newest per topic and key is replayed.
   * @default 1000
   */
  maxReplayEvents?: number
  /**
   * Most bytes one reconnecting client is replayed (frames as written); past it, the reset event.
   * This bounds what one request can make the server write. Counted after log compaction, like
   * `maxReplayEvents`.
   * @default 1048576 (1 MiB)
   */
  maxReplayBytes?: number
  /**
   * Name of events published without one: `'topic'` (htmx 2's `sse-swap="<topic>"` works) or `'none'`
   * (unnamed `message` events, which htmx 4's `hx-sse` swaps).
   * @default 'topic'
   */
  defaultEventName?: 'topic' | 'none'
  /**
   * Name of the event sent when a client's `Last-Event-ID` cannot be resumed from (unknown, older
   * than the history, unusable, or over a replay cap): the page should refetch its full state. The
   * event carries an id the client can resume from.
   * @default 'sse-reset'
   */
  resetEvent?: string
  /**
   * Authorizes each stream's topics before anything is written, sync or async: `true` admits;
   * `false`, `null` or `undefined` answer 403; `{ status: 400–599, message? }` answers that status.
   * Anything else, a throw or a rejection answers 500 and goes to `onError` (`AUTHORIZE_FAILED`).
   */
  authorize?: AuthorizeHook
  /**
   * Ms a stream's `snapshot` may take to settle; past it the reset event is sent instead and the
   * error goes to `onError` (`SNAPSHOT_FAILED`), so a hung snapshot never holds its client.
   * @default 5000
   */
  snapshotTimeout?: number
  /** Where events travel and history is kept. @default new MemoryTransport(history options) */
  transport?: Transport
  /**
   * Receives failures no caller is waiting on: a transport outage (once per outage), a failing
   * `authorize` hook, a stream whose head could not be written. @default logs with console.error
   */
  onError?: (error: SSEError) => void
}

/** What a {@link SnapshotFunction} is called with. */
export interface SnapshotContext {
  readonly request: SSERequest
  readonly topics: readonly string[]
  /**
   * The id of "now" when the snapshot is asked for: the last snapshot event carries it, and only
   * events after it follow on the stream.
   */
  readonly cursor: string | undefined
}

/**
 * The whole state a page shows, as one or more events, for a client whose `Last-Event-ID` cannot
 * be resumed from. Read the state synchronously, or before anything can change it: events published
 * after the call begins follow the snapshot on the stream.
 */
export type SnapshotFunction = (
  context: SnapshotContext,
) => SSEEvent | readonly SSEEvent[] | Promise<SSEEvent | readonly SSEEvent[]>

/** Options of one stream opened through a broker. */
export interface BrokerStreamOptions extends SSEStreamOptions, StreamLifetimeOptions {
  /** Topics the stream receives, e.g. `['notifications', `project:${id}`]`. */
  topics?: string | readonly string[]
  /**
   * Sent instead of the reset event when the client's `Last-Event-ID` cannot be resumed from
   * (unknown, evicted, over a replay cap, from before a restart): the page gets its whole state on
   * the stream itself, with no second request and no gap. Live events published meanwhile are held
   * and follow it, none twice. If it throws or rejects, the reset event is sent instead and the
   * error goes to `onError` (`SNAPSHOT_FAILED`); so it is when it takes longer than the broker's
   * `snapshotTimeout` or its frames pass `maxReplayBytes`.
   *
   * @example
   * reply.sse({ topics: ['notifications'], snapshot: () => ({ event: 'notes', data: renderNotes(store) }) })
   */
  snapshot?: SnapshotFunction
  /**
   * Labels for `broker.disconnect({ tag })`, such as the user and the session the stream belongs to:
   * at most 16, each a non-empty string of at most 256 characters without control characters.
   *
   * @example
   * reply.sse({ topics: ['notes'], tags: [`user:${user.id}`, `session:${session.id}`] })
   */
  tags?: readonly string[]
}

/**
 * Rotation: how long a stream opened through a broker may stay open. Broker options (the default of
 * every stream), adapter options (also next to a shared `broker`), or options of one stream.
 */
export interface StreamLifetimeOptions {
  /**
   * Ends each stream about this many ms after it opened (± `maxDurationJitter`), gracefully: what is
   * queued is written first, then the connection is let go of. The client reconnects with
   * `Last-Event-ID` and misses nothing; `authorize` runs again, so expired credentials stop working;
   * a load balancer can place the new connection elsewhere. `0` never ends it. One shared timer
   * serves every stream.
   * @default 0 (no limit)
   * @example
   * createBroker({ maxDuration: 30 * 60_000, maxDurationJitter: 5 * 60_000 })   // 25 to 35 minutes
   */
  maxDuration?: number
  /**
   * Spread of `maxDuration` in ms: each stream's lifetime is drawn uniformly between
   * `maxDuration − maxDurationJitter` and `maxDuration + maxDurationJitter`, so that clients that
   * connected together (after a deploy) do not all come back in the same second. Less than
   * `maxDuration`; ignored without it. A stream that sets its own `maxDuration` does not inherit
   * the broker's jitter.
   * @default maxDuration / 10
   */
  maxDurationJitter?: number
}

/** Which streams `broker.disconnect()` ends: those carrying `tag`, or any of `tags`. */
export type DisconnectSelector =
  | { readonly tag: string; readonly tags?: undefined }
  | { readonly tags: readonly string[]; readonly tag?: undefined }

/** Options of `broker.disconnect()`. */
export interface DisconnectOptions {
  /**
   * Written to each matching stream before it ends (serialized once), e.g. so that the page shows
   * "signed out". Give it no `id`: the client's `Last-Event-ID` should stay at the last real event.
   * @example { event: 'signed-out', data: '<p>You were signed out.</p>' }
   */
  event?: SSEEvent
}

/** Options of one publish. */
export interface PublishOptions {
  /** Overrides the broker's `defaultEventName` for this event. */
  defaultEventName?: 'topic' | 'none'
  /**
   * Conflation key: the event is the newest value of one thing on its topic (`'cpu'`,
   * `'price:ACME'`), and only the newest matters. For a client that has fallen behind, a pending
   * event of the same topic and key that is not written yet is replaced by this one (the client
   * stays connected and current, within `maxBufferedBytes`), and a replay sends only the newest
   * event per topic and key after the client's id. A non-empty string of at most 256 characters
   * without control characters; it never reaches the wire.
   * @default undefined (not conflated: the stream's `onOverflow` policy applies)
   * @example
   * broker.publish('system', { data: html`<b>${cpu}%</b>` }, { key: 'cpu' })
   */
  key?: string
}
