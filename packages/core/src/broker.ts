import {
  type AuthorizeResult,
  failedVerdict,
  readVerdict,
  type Verdict,
} from './authorizeVerdict.js'
import {
  type AuthorizeHook,
  BROKER_DEFAULTS,
  type BrokerOptions,
  type BrokerStreamOptions,
  type PublishOptions,
} from './brokerOptions.js'
import { diagnostics } from './diagnostics.js'
import { isResumableId, readResumeId } from './lastEventId.js'
import { MemoryTransport } from './memoryTransport.js'
import { brokerOptionsValidator, streamOptionsValidator } from './options.js'
import { type HeldFrame, handOff } from './replayHandoff.js'
import { assertEventId, encodeEvent, serializeFields } from './serializeEvent.js'
import { SSEError } from './sseError.js'
import { SSEStream, type StreamOwner } from './sseStream.js'
import { type GroupState, refuseShuttingDown, StreamGroup, shutdownAll } from './streamGroup.js'
import { TopicIndex } from './topicIndex.js'
import { readTopics } from './topics.js'
import type {
  BrokerStats,
  Delivery,
  ReplayLimits,
  ReplayResult,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from './types.js'

export type { AuthorizeHook, AuthorizeResult, BrokerOptions, BrokerStreamOptions, PublishOptions }

/** A stream as the broker sees it, from the request until it closes. */
interface Subscriber {
  readonly stream: SSEStream
  readonly topics: readonly string[]
  /** Multi-topic fan-out stamp (see {@link TopicIndex.visit}). */
  stamp: number
  /** Live frames held while the replay is read; `null` once live. */
  backlog: HeldFrame[] | null
  backlogBytes: number
  readonly group: GroupState | undefined
  /** A `HEAD` request: answered with the head alone, never subscribed, never counted. */
  readonly head: boolean
}

function ignore(): void {}

function logError(error: SSEError): void {
  console.error(error)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function asTransportError(cause: unknown): SSEError {
  return cause instanceof SSEError
    ? cause
    : new SSEError('TRANSPORT_ERROR', '@sse/core: the transport failed', { cause })
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'an array' : typeof value
}

/** The event a publish stands for: an event object, or a string (or `html` result) as its data. */
function eventOf(event: unknown): SSEEvent {
  if (typeof event === 'string' || event instanceof String) return { data: event }
  if (typeof event === 'object' && event !== null && !Array.isArray(event)) return event
  throw new SSEError(
    'INVALID_EVENT',
    `@sse/core: publish takes an event object or a string, got ${kindOf(event)}`,
  )
}

/** Refuses at publish an id that a client could not resume from. */
function assertPublishedId(id: unknown): asserts id is string {
  assertEventId(id)
  if (!isResumableId(id)) {
    throw new SSEError(
      'INVALID_EVENT_ID',
      `@sse/core: an event id must be at most 256 characters without control characters, so that a client can resume from it; got ${JSON.stringify(id.slice(0, 80))}`,
    )
  }
}

function frameFor(subscriber: Subscriber, delivery: Delivery): Buffer {
  const frames = delivery.frames
  if (frames.length === 1) return frames[0]!
  for (let i = 0; i < delivery.topics.length; i++) {
    if (subscriber.topics.includes(delivery.topics[i]!)) return frames[i] ?? frames[0]!
  }
  return frames[0]!
}

const RETRY_AFTER: Readonly<Record<string, string>> = { 'Retry-After': '5' }

let openInGroup: (
  broker: Broker,
  request: SSERequest,
  response: SSEResponse,
  options: BrokerStreamOptions | undefined,
  group: GroupState,
) => SSEStream

/** Opens a stream that belongs to a {@link StreamGroup} (the group's side of the broker). */
export function streamInGroup(
  broker: Broker,
  request: SSERequest,
  response: SSEResponse,
  options: BrokerStreamOptions | undefined,
  group: GroupState,
): SSEStream {
  return openInGroup(broker, request, response, options, group)
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
  static {
    openInGroup = (broker, request, response, options, group) =>
      broker.#stream(request, response, options, group)
  }

  readonly #transport: Transport
  readonly #ready: Promise<void>
  readonly #streamDefaults: SSEStreamOptions
  readonly #maxConnections: number
  readonly #maxTopics: number
  readonly #replayLimits: ReplayLimits
  readonly #defaultEventName: 'topic' | 'none'
  readonly #resetEvent: string
  readonly #authorize: AuthorizeHook | undefined
  readonly #onError: (error: SSEError) => void
  /** Admitted (counted) streams, open or waiting for their verdict. */
  readonly #streams = new Map<SSEStream, Subscriber>()
  /** Pipelined requests waiting behind another response on their connection: not counted. */
  readonly #waiting = new WeakMap<SSEStream, Subscriber>()
  readonly #index = new TopicIndex<Subscriber>()
  #visiting: Delivery | undefined
  #closing: Promise<void> | undefined
  #transportDown = false
  #published = 0
  #publishFailures = 0
  #delivered = 0
  #dropped = 0
  #slowDisconnects = 0
  #replayed = 0
  #resets = 0
  #replaysCapped = 0
  #replaysCut = 0
  #refused = 0

  readonly #owner: StreamOwner = {
    streamClosed: (stream) => this.#remove(stream),
    frameDropped: (stream) => {
      this.#dropped++
      if (diagnostics.drop.hasSubscribers) diagnostics.drop.publish({ broker: this, stream })
    },
    slowDisconnect: (stream, duringReplay) => {
      this.#slowDisconnects++
      if (duringReplay) this.#replaysCut++
      if (diagnostics.slowDisconnect.hasSubscribers) {
        diagnostics.slowDisconnect.publish({ broker: this, stream, duringReplay })
      }
    },
    streamReady: (stream) => {
      const subscriber = this.#waiting.get(stream)
      if (subscriber === undefined) return
      this.#waiting.delete(stream)
      this.#admit(subscriber)
    },
  }

  readonly #sink: TransportSink = {
    deliver: (delivery) => this.#deliver(delivery),
    error: (error) => this.#reportError(error),
  }

  /** Visits one subscriber of a multi-topic event (bound once: no closure per publish). */
  readonly #visit = (subscriber: Subscriber, topic: number): void => {
    const delivery = this.#visiting!
    this.#send(subscriber, delivery.id, delivery.frames[topic] ?? delivery.frames[0]!)
  }

  /** Prefer {@link createBroker}. Throws an {@link SSEError} `INVALID_OPTION` for bad options. */
  constructor(options: BrokerOptions = {}) {
    brokerOptionsValidator.assert(options)
    const {
      historySize,
      historyMaxAge,
      historyMaxBytes,
      maxConnections,
      maxTopicsPerStream,
      maxReplayEvents,
      maxReplayBytes,
      defaultEventName,
      resetEvent,
      authorize,
      transport,
      onError,
      ...streamDefaults
    } = options
    if (transport !== undefined) {
      const history = Object.entries({ historySize, historyMaxAge, historyMaxBytes }).find(
        ([, value]) => value !== undefined,
      )
      if (history !== undefined) {
        throw new SSEError(
          'INVALID_OPTION',
          `@sse/core: option "${history[0]}" configures the in-memory transport; with "transport", give history options to the transport`,
        )
      }
    }
    this.#streamDefaults = streamDefaults
    this.#maxConnections = maxConnections ?? BROKER_DEFAULTS.maxConnections
    this.#maxTopics = maxTopicsPerStream ?? BROKER_DEFAULTS.maxTopicsPerStream
    this.#replayLimits = {
      maxEvents: maxReplayEvents ?? BROKER_DEFAULTS.maxReplayEvents,
      maxBytes: maxReplayBytes ?? BROKER_DEFAULTS.maxReplayBytes,
    }
    this.#defaultEventName = defaultEventName ?? 'topic'
    this.#resetEvent = resetEvent ?? BROKER_DEFAULTS.resetEvent
    this.#authorize = authorize
    this.#onError = onError ?? logError
    this.#transport =
      transport ??
      new MemoryTransport({
        ...(historySize !== undefined && { historySize }),
        ...(historyMaxAge !== undefined && { historyMaxAge }),
        ...(historyMaxBytes !== undefined && { historyMaxBytes }),
      })
    let started: void | Promise<void>
    try {
      started = this.#transport.start(this.#sink)
    } catch (cause) {
      started = Promise.reject(cause)
    }
    this.#ready = Promise.resolve(started)
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
   * Programming errors throw an {@link SSEError} synchronously: an invalid event or topic
   * (`INVALID_*`), or a closed broker (`BROKER_CLOSED`). Delivery failures never throw: while the
   * transport is down (`TRANSPORT_UNAVAILABLE`) or when it loses the event in flight, the promise
   * rejects, the failure is counted (`stats().publishFailures`) and goes to `onError` once per
   * outage. The promise's rejection is already handled, so a publish whose promise is ignored is
   * safe; `await` it to learn the outcome. It resolves to the event's id.
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
    const list = readTopics(topics, Number.POSITIVE_INFINITY)
    if (list instanceof SSEError) throw list
    if (list.length === 0) {
      throw new SSEError('INVALID_TOPIC', '@sse/core: publish needs at least one topic')
    }
    const message = eventOf(event)
    if (message.id !== undefined) assertPublishedId(message.id)
    const byTopic =
      message.event === undefined &&
      (options?.defaultEventName ?? this.#defaultEventName) === 'topic'
    const bodies = byTopic
      ? list.map((topic) => serializeFields(message, undefined, topic))
      : [serializeFields(message, undefined, message.event)]
    let result: string | Promise<string>
    try {
      result = this.#transport.publish(
        message.id === undefined
          ? { topics: list, bodies }
          : { topics: list, bodies, id: message.id },
      )
    } catch (cause) {
      return this.#publishFailed(cause)
    }
    if (typeof result === 'string') {
      this.#accepted(result, list)
      return Promise.resolve(result)
    }
    const settled = Promise.resolve(result).then(
      (id) => {
        this.#accepted(id, list)
        return id
      },
      (cause: unknown) => this.#publishFailed(cause),
    )
    settled.catch(ignore)
    return settled
  }

  /**
   * Answers a request with an SSE stream subscribed to `topics`, and returns the stream at once.
   * It never throws for what a request carries: invalid topics, or more than `maxTopicsPerStream`,
   * answer 400; the stream opens after `authorize` admits it, replays what the client missed (from
   * its `Last-Event-ID`), then receives live events. Refusals (`authorize`, `maxConnections`, a
   * closed broker) answer with a plain status before any SSE byte. A `HEAD` request gets the SSE
   * head and an ended body; a request pipelined behind another response on its connection holds no
   * slot until it gets the connection. Without topics, the stream is for the caller's own `send()`
   * calls. It never throws into a request handler: invalid stream options answer 500 and go to
   * `onError` (`INVALID_OPTION`), like a head that cannot be written (`OPEN_FAILED`).
   */
  stream(request: SSERequest, response: SSEResponse, options?: BrokerStreamOptions): SSEStream {
    return this.#stream(request, response, options, undefined)
  }

  /** Current counters and gauges, for metrics and alerts. */
  stats(): BrokerStats {
    let bufferedBytes = 0
    for (const [stream, subscriber] of this.#streams) {
      bufferedBytes += stream.bufferedBytes + subscriber.backlogBytes
    }
    return {
      streams: this.#streams.size,
      topics: this.#index.size,
      published: this.#published,
      publishFailures: this.#publishFailures,
      delivered: this.#delivered,
      dropped: this.#dropped,
      slowDisconnects: this.#slowDisconnects,
      replayed: this.#replayed,
      resets: this.#resets,
      replaysCapped: this.#replaysCapped,
      replaysCut: this.#replaysCut,
      refused: this.#refused,
      bufferedBytes,
      history: this.#transport.historyStats?.(),
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
    return this.#index.count(topic)
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

  #stream(
    request: SSERequest,
    response: SSEResponse,
    options: BrokerStreamOptions | undefined,
    group: GroupState | undefined,
  ): SSEStream {
    let requested: unknown
    let streamOptions = this.#streamDefaults
    let invalid: SSEError | undefined
    try {
      if (options !== undefined) {
        if (typeof options !== 'object' || options === null) {
          throw new SSEError(
            'INVALID_OPTION',
            `@sse/core: stream options must be an object, got ${kindOf(options)}`,
          )
        }
        const { topics, ...overrides } = options
        requested = topics
        if (Object.keys(overrides).length > 0) {
          streamOptionsValidator.assert(overrides)
          streamOptions = { ...this.#streamDefaults, ...overrides }
        }
      }
    } catch (cause) {
      invalid = cause instanceof SSEError ? cause : new SSEError('INVALID_OPTION', String(cause))
    }
    const stream = new SSEStream(request, response, streamOptions, this.#owner)
    if (invalid !== undefined) {
      // Options are often built from the request: a bad value must not throw into a request handler.
      this.#reportError(invalid)
      this.#refuse(stream, 500, 'The event stream could not be opened.', undefined, invalid)
      return stream
    }
    const topics = readTopics(requested, this.#maxTopics)
    if (topics instanceof SSEError) {
      const message = topics.code === 'TOO_MANY_TOPICS' ? 'Too many topics.' : 'Invalid topic.'
      this.#refuse(stream, 400, message, undefined, topics)
      return stream
    }
    const subscriber: Subscriber = {
      stream,
      topics,
      stamp: 0,
      backlog: null,
      backlogBytes: 0,
      group,
      head: request.method === 'HEAD',
    }
    if (stream.queued) {
      this.#waiting.set(stream, subscriber)
      stream.awaitConnection()
    } else {
      this.#admit(subscriber)
    }
    return stream
  }

  #admit(subscriber: Subscriber): void {
    const { stream, group } = subscriber
    if (this.#closing !== undefined || group?.closed) {
      this.#refuseShuttingDown(stream)
      return
    }
    if (!subscriber.head) {
      if (this.#streams.size >= this.#maxConnections) {
        this.#refuse(stream, 503, 'Too many open event streams.', RETRY_AFTER)
        return
      }
      this.#streams.set(stream, subscriber)
      group?.members.add(stream)
    }
    const authorize = this.#authorize
    if (authorize === undefined) {
      this.#open(subscriber)
      return
    }
    let verdict: unknown
    let pending = false
    try {
      verdict = authorize(stream.request, subscriber.topics)
      pending = isThenable(verdict)
    } catch (cause) {
      this.#decide(subscriber, failedVerdict(cause))
      return
    }
    if (!pending) {
      this.#decide(subscriber, readVerdict(verdict))
      return
    }
    Promise.resolve(verdict).then(
      (result) => this.#decide(subscriber, readVerdict(result)),
      (cause: unknown) => this.#decide(subscriber, failedVerdict(cause)),
    )
  }

  /** Acts on a verdict. Never throws: it also runs inside a promise callback. */
  #decide(subscriber: Subscriber, verdict: Verdict): void {
    const stream = subscriber.stream
    if (stream.isClosed) return
    if (this.#closing !== undefined || subscriber.group?.closed) {
      this.#refuseShuttingDown(stream)
      return
    }
    if (verdict.admit) {
      this.#open(subscriber)
      return
    }
    if ('error' in verdict) {
      this.#reportError(verdict.error)
      this.#refuse(stream, 500, 'Authorization failed.')
      return
    }
    this.#refuse(stream, verdict.status, verdict.message)
  }

  #open(subscriber: Subscriber): void {
    const stream = subscriber.stream
    try {
      if (subscriber.head) {
        stream.answerHead()
        return
      }
      stream.open()
    } catch (cause) {
      this.#reportError(
        new SSEError('OPEN_FAILED', '@sse/core: writing the event stream’s head failed', {
          cause,
        }),
      )
      this.#refuse(stream, 500, 'The event stream could not be opened.')
      return
    }
    if (stream.isClosed) return
    const topics = subscriber.topics
    this.#index.add(subscriber)
    if (diagnostics.open.hasSubscribers) diagnostics.open.publish({ broker: this, stream, topics })
    if (topics.length === 0) return
    const lastEventId = stream.lastEventId ?? readResumeId(stream.request)
    if (lastEventId !== undefined) this.#startReplay(subscriber, lastEventId)
  }

  #startReplay(subscriber: Subscriber, lastEventId: string): void {
    subscriber.backlog = []
    let result: ReplayResult | Promise<ReplayResult>
    let pending = false
    try {
      result = this.#transport.replay(subscriber.topics, lastEventId, this.#replayLimits)
      pending = isThenable(result)
    } catch (cause) {
      this.#replayFailed(subscriber, cause)
      return
    }
    if (!pending) {
      this.#replay(subscriber, lastEventId, result as ReplayResult)
      return
    }
    Promise.resolve(result).then(
      (answer) => this.#replay(subscriber, lastEventId, answer),
      (cause: unknown) => this.#replayFailed(subscriber, cause),
    )
  }

  /** Writes the replay (or the reset event), then the live events held meanwhile. Never throws. */
  #replay(subscriber: Subscriber, lastEventId: string, result: ReplayResult): void {
    const held = subscriber.backlog ?? []
    subscriber.backlog = null
    subscriber.backlogBytes = 0
    const stream = subscriber.stream
    if (stream.isClosed) return
    try {
      const plan = handOff(
        result,
        held,
        lastEventId,
        (delivery) => frameFor(subscriber, delivery),
        this.#replayLimits,
      )
      const reset = plan.reset
      if (reset !== undefined) {
        this.#resets++
        if (reset.capped) this.#replaysCapped++
        const event = this.#resetEvent
        stream.sendFrame(
          encodeEvent(
            reset.headId === '' ? { event, data: '' } : { id: reset.headId, event, data: '' },
          ),
        )
      } else if (plan.replay.length > 0) {
        this.#replayed += plan.replay.length
        stream.sendReplay(plan.replay)
      }
      for (const frame of plan.live) if (stream.sendFrame(frame)) this.#delivered++
      if (diagnostics.replay.hasSubscribers) {
        diagnostics.replay.publish({
          broker: this,
          stream,
          count: plan.replay.length,
          reset: reset !== undefined,
          capped: reset?.capped === true,
        })
      }
    } catch (cause) {
      this.#replayFailed(subscriber, cause)
    }
  }

  #replayFailed(subscriber: Subscriber, cause: unknown): void {
    this.#reportError(asTransportError(cause))
    // Without history the client cannot be told what it missed: close so it retries later.
    subscriber.backlog = null
    subscriber.backlogBytes = 0
    subscriber.stream.close()
  }

  #deliver(delivery: Delivery): void {
    const topics = delivery.topics
    if (topics.length === 1) {
      const set = this.#index.of(topics[0]!)
      if (set === undefined) return
      const frame = delivery.frames[0]!
      for (const subscriber of set) this.#send(subscriber, delivery.id, frame)
      return
    }
    this.#visiting = delivery
    try {
      this.#index.visit(topics, this.#visit)
    } finally {
      this.#visiting = undefined
    }
  }

  #send(subscriber: Subscriber, id: string, frame: Buffer): void {
    if (subscriber.backlog === null) {
      if (subscriber.stream.sendFrame(frame)) this.#delivered++
      return
    }
    // Held while the replay is read, under the same bound as frames queued on the stream.
    const stream = subscriber.stream
    const held = subscriber.backlogBytes + stream.bufferedBytes
    if (held > 0 && held + frame.length > stream.maxBufferedBytes) {
      stream.overflow()
      return
    }
    subscriber.backlog.push({ id, frame })
    subscriber.backlogBytes += frame.length
  }

  #remove(stream: SSEStream): void {
    const subscriber = this.#streams.get(stream)
    if (subscriber === undefined) return
    this.#streams.delete(stream)
    subscriber.backlog = null
    subscriber.group?.members.delete(stream)
    this.#index.delete(subscriber)
    if (diagnostics.close.hasSubscribers) {
      diagnostics.close.publish({ broker: this, stream, topics: subscriber.topics })
    }
  }

  #accepted(id: string, topics: readonly string[]): void {
    this.#published++
    this.#transportDown = false
    if (diagnostics.publish.hasSubscribers) {
      diagnostics.publish.publish({ broker: this, id, topics })
    }
  }

  /** A delivery failure: counted, reported once per outage, and a handled rejection. */
  #publishFailed(cause: unknown): Promise<never> {
    const error = asTransportError(cause)
    this.#publishFailures++
    if (!this.#transportDown) {
      this.#transportDown = true
      this.#reportError(error)
    }
    const failed = Promise.reject(error)
    failed.catch(ignore)
    return failed
  }

  #refuseShuttingDown(stream: SSEStream): void {
    this.#counted(stream, 503)
    refuseShuttingDown(stream)
  }

  #refuse(
    stream: SSEStream,
    status: number,
    message: string,
    headers?: Readonly<Record<string, string>>,
    error?: SSEError,
  ): void {
    this.#counted(stream, status, error)
    stream.refuse(status, message, headers)
  }

  #counted(stream: SSEStream, status: number, error?: SSEError): void {
    this.#refused++
    if (diagnostics.refuse.hasSubscribers) {
      diagnostics.refuse.publish({ broker: this, request: stream.request, status, error })
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

/**
 * Creates a {@link Broker}. Throws an {@link SSEError} `INVALID_OPTION` naming the bad key.
 *
 * @example
 * const broker = createBroker({ historySize: 500, keepAlive: 15_000 })
 */
export function createBroker(options?: BrokerOptions): Broker {
  return new Broker(options)
}
