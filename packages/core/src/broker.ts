import { diagnostics } from './diagnostics.js'
import { MemoryTransport } from './memoryTransport.js'
import { brokerOptionsValidator, streamOptionsValidator } from './options.js'
import { assertEventId, encodeEvent, serializeFields } from './serializeEvent.js'
import { SSEError } from './sseError.js'
import { SSEStream, type StreamOwner } from './sseStream.js'
import type {
  BrokerStats,
  Delivery,
  ReplayResult,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from './types.js'

/** The verdict of an `authorize` hook: `true` admits, `false` refuses with 403, an object refuses with its status. */
export type AuthorizeResult = boolean | { status: number; message?: string }

/** Decides whether a request may subscribe to `topics`; runs before any byte is written. */
export type AuthorizeHook = (
  request: SSERequest,
  topics: readonly string[],
) => AuthorizeResult | Promise<AuthorizeResult>

/** Options of {@link createBroker}. Stream options given here are the defaults of every stream. */
export interface BrokerOptions extends SSEStreamOptions {
  /**
   * Events kept per topic for `Last-Event-ID` replay (in-memory transport; with `transport`, give
   * history options to the transport instead).
   * @default 1000
   */
  historySize?: number
  /**
   * Maximum age of replayable events in ms (in-memory transport); `0` means no age limit.
   * @default 0
   */
  historyMaxAge?: number
  /**
   * Open streams allowed at once; past it new streams get `503` with `Retry-After`.
   * @default 10000
   */
  maxConnections?: number
  /**
   * Name of events published without one: `'topic'` (htmx 2's `sse-swap="<topic>"` works) or `'none'`
   * (unnamed `message` events, which htmx 4's `hx-sse` swaps).
   * @default 'topic'
   */
  defaultEventName?: 'topic' | 'none'
  /**
   * Name of the event sent when a client's `Last-Event-ID` is unknown or older than the history:
   * the page should refetch its full state.
   * @default 'sse-reset'
   */
  resetEvent?: string
  /** Authorizes each stream's topics before anything is written. */
  authorize?: AuthorizeHook
  /** Where events travel and history is kept. @default new MemoryTransport(history options) */
  transport?: Transport
  /** Receives failures no caller is waiting on. @default logs with console.error */
  onError?: (error: SSEError) => void
}

/** Options of one stream opened through a broker. */
export interface BrokerStreamOptions extends SSEStreamOptions {
  /** Topics the stream receives, e.g. `['notifications', `project:${id}`]`. */
  topics?: string | readonly string[]
}

/** Options of one publish. */
export interface PublishOptions {
  /** Overrides the broker's `defaultEventName` for this event. */
  defaultEventName?: 'topic' | 'none'
}

/** A subscriber as the broker sees it. */
interface Subscriber {
  readonly stream: SSEStream
  topics: readonly string[]
  /** Last multi-topic delivery stamp this subscriber got, so it gets each event once. */
  stamp: number
  /** Live frames held back while a replay is written. */
  backlog: Array<{ id: string; frame: Buffer }> | null
  /** The state of the {@link StreamGroup} the stream was opened through, if any. */
  readonly group: GroupState | undefined
}

/** What the broker needs of a {@link StreamGroup}. */
interface GroupState {
  readonly members: Set<SSEStream>
  closed: boolean
}

const MAX_TOPIC_LENGTH = 256
const NO_TOPICS: readonly string[] = []

function assertTopic(topic: unknown): asserts topic is string {
  if (
    typeof topic !== 'string' ||
    topic.length === 0 ||
    topic.length > MAX_TOPIC_LENGTH ||
    topic.indexOf('\n') !== -1 ||
    topic.indexOf('\r') !== -1 ||
    topic.indexOf('\0') !== -1
  ) {
    throw new SSEError(
      'INVALID_TOPIC',
      `@sse/core: a topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters without CR, LF or NUL, got ${JSON.stringify(topic)}`,
    )
  }
}

function topicList(topics: string | readonly string[] | undefined): readonly string[] {
  if (topics === undefined) return NO_TOPICS
  const list = typeof topics === 'string' ? [topics] : topics
  for (const topic of list) assertTopic(topic)
  return list.length > 1 ? [...new Set(list)] : list
}

function frameFor(subscriber: Subscriber, delivery: Delivery): Buffer {
  const frames = delivery.frames
  if (frames.length === 1) return frames[0]!
  for (let i = 0; i < delivery.topics.length; i++) {
    if (subscriber.topics.includes(delivery.topics[i]!)) return frames[i]!
  }
  return frames[0]!
}

function logError(error: SSEError): void {
  console.error(error)
}

/**
 * Topics, fan-out, history and replay. Each publish is serialized once and the same bytes go to
 * every subscriber; the publisher never waits on a client.
 *
 * @example
 * const broker = createBroker()
 * http.createServer((req, res) => {
 *   if (req.url?.startsWith('/events')) broker.stream(req, res, { topics: ['notifications'] })
 * })
 * broker.publish('notifications', { data: '<li>Deployed</li>' })
 */
export class Broker {
  readonly #transport: Transport
  readonly #ready: Promise<void>
  readonly #streamDefaults: SSEStreamOptions
  readonly #maxConnections: number
  readonly #defaultEventName: 'topic' | 'none'
  readonly #resetEvent: string
  readonly #authorize: AuthorizeHook | undefined
  readonly #onError: (error: SSEError) => void
  readonly #streams = new Map<SSEStream, Subscriber>()
  readonly #topics = new Map<string, Set<Subscriber>>()
  #stamp = 0
  #closing: Promise<void> | undefined
  #published = 0
  #delivered = 0
  #dropped = 0
  #slowDisconnects = 0
  #replayed = 0
  #refused = 0

  readonly #owner: StreamOwner = {
    streamClosed: (stream) => this.#remove(stream),
    frameDropped: (stream) => {
      this.#dropped++
      if (diagnostics.drop.hasSubscribers) diagnostics.drop.publish({ broker: this, stream })
    },
    slowDisconnect: (stream) => {
      this.#slowDisconnects++
      if (diagnostics.slowDisconnect.hasSubscribers) {
        diagnostics.slowDisconnect.publish({ broker: this, stream })
      }
    },
  }

  readonly #sink: TransportSink = {
    deliver: (delivery) => this.#deliver(delivery),
    error: (error) => this.#reportError(error),
  }

  /** Prefer {@link createBroker}. Throws an {@link SSEError} `INVALID_OPTION` for bad options. */
  constructor(options: BrokerOptions = {}) {
    brokerOptionsValidator.assert(options)
    const {
      historySize,
      historyMaxAge,
      maxConnections,
      defaultEventName,
      resetEvent,
      authorize,
      transport,
      onError,
      ...streamDefaults
    } = options
    if (transport !== undefined && (historySize !== undefined || historyMaxAge !== undefined)) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/core: option "${historySize !== undefined ? 'historySize' : 'historyMaxAge'}" configures the in-memory transport; with "transport", give history options to the transport`,
      )
    }
    this.#streamDefaults = streamDefaults
    this.#maxConnections = maxConnections ?? 10_000
    this.#defaultEventName = defaultEventName ?? 'topic'
    this.#resetEvent = resetEvent ?? 'sse-reset'
    this.#authorize = authorize
    this.#onError = onError ?? logError
    this.#transport =
      transport ??
      new MemoryTransport({
        ...(historySize !== undefined && { historySize }),
        ...(historyMaxAge !== undefined && { historyMaxAge }),
      })
    this.#ready = Promise.resolve(this.#transport.start(this.#sink))
    this.#ready.catch((cause: unknown) =>
      this.#reportError(
        cause instanceof SSEError
          ? cause
          : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed to start', { cause }),
      ),
    )
  }

  /** Resolves once the transport has started (immediately for the in-memory one). */
  get ready(): Promise<void> {
    return this.#ready
  }

  /** `true` after {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing !== undefined
  }

  /**
   * Publishes one event to one or several topics and returns at once; it never waits on a client.
   * The event is serialized once; unless it has a name (or `defaultEventName` is `'none'`) it is
   * named after its topic. A string is shorthand for `{ data: string }`.
   *
   * Throws an {@link SSEError} synchronously for an invalid event or topic (`INVALID_*`), after
   * `close()` (`BROKER_CLOSED`), or when the transport knows it cannot deliver
   * (`TRANSPORT_UNAVAILABLE`): nothing reaches any client then. The promise resolves to the event's
   * id; it rejects only if the transport fails after accepting the event (the failure also goes
   * to `onError`).
   *
   * @example
   * broker.publish('notifications', { data: html`<li>${note.title}</li>` })
   * broker.publish(['user:1', 'user:2'], { event: 'ping', data: { at: Date.now() } })
   */
  publish(
    topics: string | readonly string[],
    event: SSEEvent | string,
    options?: PublishOptions,
  ): Promise<string> {
    if (this.#closing !== undefined) {
      throw new SSEError('BROKER_CLOSED', '@sse/core: cannot publish, the broker is closed')
    }
    const list = typeof topics === 'string' ? [topics] : topicList(topics)
    if (list.length === 0) {
      throw new SSEError('INVALID_TOPIC', '@sse/core: publish needs at least one topic')
    }
    if (typeof topics === 'string') assertTopic(topics)
    const message: SSEEvent = typeof event === 'string' ? { data: event } : event
    if (message.id !== undefined) assertEventId(message.id)
    const byTopic =
      message.event === undefined &&
      (options?.defaultEventName ?? this.#defaultEventName) === 'topic'
    const bodies = byTopic
      ? list.map((topic) => serializeFields(message, undefined, topic))
      : [serializeFields(message, undefined, message.event)]
    const result = this.#transport.publish(
      message.id === undefined
        ? { topics: list, bodies }
        : { topics: list, bodies, id: message.id },
    )
    this.#published++
    if (typeof result === 'string') {
      if (diagnostics.publish.hasSubscribers) {
        diagnostics.publish.publish({ broker: this, id: result, topics: list })
      }
      return Promise.resolve(result)
    }
    return result.then(
      (id) => {
        if (diagnostics.publish.hasSubscribers) {
          diagnostics.publish.publish({ broker: this, id, topics: list })
        }
        return id
      },
      (cause: unknown) => {
        const error = asTransportError(cause)
        this.#reportError(error)
        throw error
      },
    )
  }

  /**
   * Answers a request with an SSE stream subscribed to `topics`. The stream is returned at once;
   * it opens after the `authorize` hook admits it, replays what the client missed (from its
   * `Last-Event-ID`) and then receives live events. Refusals (`authorize`, `maxConnections`, a
   * closed broker) answer with a plain status before any SSE byte. Without topics, the stream is
   * for the caller's own `send()` calls.
   */
  stream(
    request: SSERequest,
    response: SSEResponse,
    options?: BrokerStreamOptions,
    /** @internal */ group?: GroupState,
  ): SSEStream {
    let topics = NO_TOPICS
    let streamOptions = this.#streamDefaults
    if (options !== undefined) {
      const { topics: requested, ...overrides } = options
      topics = topicList(requested)
      if (Object.keys(overrides).length > 0) {
        streamOptionsValidator.assert(overrides)
        streamOptions = { ...this.#streamDefaults, ...overrides }
      }
    }
    const stream = new SSEStream(request, response, streamOptions, this.#owner)
    const subscriber: Subscriber = { stream, topics, stamp: 0, backlog: null, group }
    this.#streams.set(stream, subscriber)
    group?.members.add(stream)
    if (this.#closing !== undefined || group?.closed) {
      this.#refuse(stream, 503, 'The event stream is shutting down.', { 'Retry-After': '5' })
    } else if (this.#streams.size > this.#maxConnections) {
      this.#refuse(stream, 503, 'Too many open event streams.', { 'Retry-After': '5' })
    } else if (this.#authorize === undefined) {
      this.#admit(subscriber, true)
    } else {
      let verdict: AuthorizeResult | Promise<AuthorizeResult>
      try {
        verdict = this.#authorize(request, topics)
      } catch (cause) {
        this.#authorizeFailed(subscriber, cause)
        return stream
      }
      if (typeof verdict === 'object' && verdict !== null && 'then' in verdict) {
        verdict.then(
          (result) => this.#admit(subscriber, result),
          (cause: unknown) => this.#authorizeFailed(subscriber, cause),
        )
      } else {
        this.#admit(subscriber, verdict)
      }
    }
    return stream
  }

  /** Current counters. */
  stats(): BrokerStats {
    return {
      streams: this.#streams.size,
      topics: this.#topics.size,
      published: this.#published,
      delivered: this.#delivered,
      dropped: this.#dropped,
      slowDisconnects: this.#slowDisconnects,
      replayed: this.#replayed,
      refused: this.#refused,
    }
  }

  /**
   * A set of streams opened through this broker that can be ended together without closing the
   * broker: what an adapter uses when the app shuts down but the broker (passed in by the user) lives on.
   * `defaults` are stream options for the group's streams, under the options of each call.
   */
  group(defaults?: SSEStreamOptions): StreamGroup {
    return new StreamGroup(this, defaults)
  }

  /** Number of subscribers of `topic` on this instance. */
  subscribers(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0
  }

  /**
   * Ends every stream (after an optional final event) and closes the transport. Streams let go of
   * their connections, so a server closing afterwards is not held open. Publishing afterwards
   * throws `BROKER_CLOSED`. Idempotent.
   */
  close(options?: { event?: SSEEvent }): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    const finalFrame = options?.event === undefined ? undefined : encodeEvent(options.event)
    this.#closing = (async () => {
      shutdownAll(this.#streams.keys(), finalFrame)
      await this.#transport.close()
    })()
    return this.#closing
  }

  #refuse(stream: SSEStream, status: number, message: string, headers?: Record<string, string>) {
    this.#refused++
    if (diagnostics.refuse.hasSubscribers) {
      diagnostics.refuse.publish({ broker: this, request: stream.request, status })
    }
    stream.refuse(status, message, headers)
  }

  #authorizeFailed(subscriber: Subscriber, cause: unknown): void {
    this.#reportError(
      new SSEError('AUTHORIZE_FAILED', '@sse/core: the authorize hook threw; answering 500', {
        cause,
      }),
    )
    this.#refuse(subscriber.stream, 500, 'Authorization failed.')
  }

  #admit(subscriber: Subscriber, verdict: AuthorizeResult): void {
    const stream = subscriber.stream
    if (stream.isClosed) return
    if (this.#closing !== undefined) {
      this.#refuse(stream, 503, 'The event stream is shutting down.', { 'Retry-After': '5' })
      return
    }
    if (verdict !== true) {
      const status = typeof verdict === 'object' ? verdict.status : 403
      const message = (typeof verdict === 'object' && verdict.message) || 'Forbidden.'
      this.#refuse(stream, status, message)
      return
    }
    stream.open()
    if (stream.isClosed) return
    const topics = subscriber.topics
    for (const topic of topics) {
      let set = this.#topics.get(topic)
      if (set === undefined) {
        set = new Set()
        this.#topics.set(topic, set)
      }
      set.add(subscriber)
    }
    if (diagnostics.open.hasSubscribers) diagnostics.open.publish({ broker: this, stream, topics })
    const lastEventId = stream.lastEventId
    if (lastEventId === undefined || topics.length === 0) return
    subscriber.backlog = []
    let result: ReplayResult | Promise<ReplayResult>
    try {
      result = this.#transport.replay(topics, lastEventId)
    } catch (cause) {
      this.#replayFailed(subscriber, cause)
      return
    }
    if ('then' in result) {
      result.then(
        (answer) => this.#replay(subscriber, answer),
        (cause: unknown) => this.#replayFailed(subscriber, cause),
      )
    } else {
      this.#replay(subscriber, result)
    }
  }

  #replay(subscriber: Subscriber, result: ReplayResult): void {
    const backlog = subscriber.backlog ?? []
    subscriber.backlog = null
    const stream = subscriber.stream
    if (stream.isClosed) return
    let seen: Set<string> | undefined
    let count = 0
    if (result.reset) {
      stream.sendFrame(encodeEvent({ id: result.headId, event: this.#resetEvent, data: '' }), true)
    } else if (result.deliveries.length > 0) {
      const frames = result.deliveries.map((delivery) => frameFor(subscriber, delivery))
      stream.sendFrame(frames.length === 1 ? frames[0]! : Buffer.concat(frames), true)
      count = frames.length
      this.#replayed += count
      if (backlog.length > 0) seen = new Set(result.deliveries.map((delivery) => delivery.id))
    }
    // On an instance whose transport delivers later than the one the client left, live events up
    // to the client's own last id can still be queued: the client has them already.
    const known = backlog.findIndex((entry) => entry.id === stream.lastEventId)
    for (let i = known + 1; i < backlog.length; i++) {
      const { id, frame } = backlog[i]!
      if (seen?.has(id)) continue
      if (stream.sendFrame(frame)) this.#delivered++
    }
    if (diagnostics.replay.hasSubscribers) {
      diagnostics.replay.publish({ broker: this, stream, count, reset: result.reset })
    }
  }

  #replayFailed(subscriber: Subscriber, cause: unknown): void {
    this.#reportError(asTransportError(cause))
    // Without history the client cannot be told what it missed: close so it retries later.
    subscriber.backlog = null
    subscriber.stream.close()
  }

  #deliver(delivery: Delivery): void {
    const topics = delivery.topics
    if (topics.length === 1) {
      const set = this.#topics.get(topics[0]!)
      if (set === undefined) return
      const frame = delivery.frames[0]!
      for (const subscriber of set) {
        if (subscriber.backlog !== null) subscriber.backlog.push({ id: delivery.id, frame })
        else if (subscriber.stream.sendFrame(frame)) this.#delivered++
      }
      return
    }
    const stamp = ++this.#stamp
    for (let i = 0; i < topics.length; i++) {
      const set = this.#topics.get(topics[i]!)
      if (set === undefined) continue
      const frame = delivery.frames[i] ?? delivery.frames[0]!
      for (const subscriber of set) {
        if (subscriber.stamp === stamp) continue
        subscriber.stamp = stamp
        if (subscriber.backlog !== null) subscriber.backlog.push({ id: delivery.id, frame })
        else if (subscriber.stream.sendFrame(frame)) this.#delivered++
      }
    }
  }

  #remove(stream: SSEStream): void {
    const subscriber = this.#streams.get(stream)
    if (subscriber === undefined) return
    this.#streams.delete(stream)
    subscriber.group?.members.delete(stream)
    for (const topic of subscriber.topics) {
      const set = this.#topics.get(topic)
      if (set === undefined) continue
      set.delete(subscriber)
      if (set.size === 0) this.#topics.delete(topic)
    }
    if (diagnostics.close.hasSubscribers) {
      diagnostics.close.publish({ broker: this, stream, topics: subscriber.topics })
    }
  }

  #reportError(error: SSEError): void {
    if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ broker: this, error })
    try {
      this.#onError(error)
    } catch {
      // An onError hook that throws must not take the broker down with it.
    }
  }
}

function shutdownAll(streams: Iterable<SSEStream>, finalFrame: Buffer | undefined): void {
  for (const stream of [...streams]) {
    if (stream.isOpen) stream.shutdown(finalFrame)
    else stream.refuse(503, 'The event stream is shutting down.', { 'Retry-After': '5' })
  }
}

/**
 * Streams opened through one adapter (or any other owner) on a shared broker. Closing the group
 * ends its streams and lets go of their connections; the broker stays open.
 */
export class StreamGroup {
  /** The broker the group's streams belong to. */
  readonly broker: Broker
  readonly #state: GroupState = { members: new Set(), closed: false }
  readonly #defaults: SSEStreamOptions | undefined

  constructor(broker: Broker, defaults?: SSEStreamOptions) {
    if (defaults !== undefined) streamOptionsValidator.assert(defaults)
    this.broker = broker
    this.#defaults = defaults
  }

  /** Number of open (or pending) streams in the group. */
  get size(): number {
    return this.#state.members.size
  }

  /** `true` after {@link close}: new streams are refused with 503. */
  get isClosed(): boolean {
    return this.#state.closed
  }

  /** Like {@link Broker.stream}, and the stream joins the group until it closes. */
  stream(request: SSERequest, response: SSEResponse, options?: BrokerStreamOptions): SSEStream {
    const merged = this.#defaults === undefined ? options : { ...this.#defaults, ...options }
    return this.broker.stream(request, response, merged, this.#state)
  }

  /**
   * Ends every stream of the group (after an optional final event); streams asked for afterwards
   * get 503 with `Retry-After`, as from a closed broker.
   */
  close(options?: { event?: SSEEvent }): void {
    this.#state.closed = true
    const finalFrame = options?.event === undefined ? undefined : encodeEvent(options.event)
    shutdownAll(this.#state.members, finalFrame)
  }
}

function asTransportError(cause: unknown): SSEError {
  return cause instanceof SSEError
    ? cause
    : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed', { cause })
}

/**
 * Creates a {@link Broker}. Throws an {@link SSEError} `INVALID_OPTION` naming the bad key.
 *
 * @example
 * const broker = createBroker({ historySize: 500, keepAlive: 15_000 })
 */
export function createBroker(options?: BrokerOptions): Broker {
  return new Broker(options)
}
