import { MemoryTransport } from '../history/memoryTransport.js'
import { asTransportError, type ReplayContext, replayTo } from '../history/replaySession.js'
import { Revocation } from '../lifetime/revocation.js'
import { Rotation } from '../lifetime/rotation.js'
import { overrideLifetime, readLifetime, type StreamLifetime } from '../lifetime/streamLifetime.js'
import {
  type AuthorizeHook,
  BROKER_DEFAULTS,
  type BrokerOptions,
  type BrokerStreamOptions,
  type DisconnectOptions,
  type DisconnectSelector,
  type PublishOptions,
  type SnapshotFunction,
  type StreamLifetimeOptions,
} from '../options/brokerOptions.js'
import {
  brokerOptionsValidator,
  brokerStreamOptionsValidator,
  publishOptionsValidator,
} from '../options/options.js'
import { SSEError } from '../sseError.js'
import { SSEStream, type StreamOwner } from '../stream/sseStream.js'
import type {
  BrokerStats,
  Delivery,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from '../types.js'
import { readResumeId } from '../wire/lastEventId.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { readTopics } from '../wire/topics.js'
import { Admission } from './admission.js'
import type { AuthorizeResult } from './authorizeVerdict.js'
import { type BrokerCounters, createCounters } from './brokerCounters.js'
import { diagnostics } from './diagnostics.js'
import { KeyedFanOut } from './keyedFanOut.js'
import { kindOf, toOutgoingMessage } from './outgoingMessage.js'
import { type GroupState, StreamGroup, shutdownAll } from './streamGroup.js'
import { Subscriber, SubscriberOptionsMemo } from './subscriber.js'
import { TopicIndex } from './topicIndex.js'

export type {
  AuthorizeHook,
  AuthorizeResult,
  BrokerOptions,
  BrokerStreamOptions,
  DisconnectOptions,
  DisconnectSelector,
  PublishOptions,
}

function ignore(): void {}

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
  readonly #maxTopics: number
  readonly #defaultEventName: 'topic' | 'none'
  readonly #onError: (error: SSEError) => void
  readonly #counters: BrokerCounters = createCounters()
  /** Admitted (counted) streams, open or waiting for their verdict. */
  readonly #streams = new Map<SSEStream, Subscriber>()
  /** Pipelined requests waiting behind another response on their connection: not counted. */
  readonly #waiting = new WeakMap<SSEStream, Subscriber>()
  readonly #index = new TopicIndex<Subscriber>()
  readonly #keyed = new KeyedFanOut(this, this.#index, this.#counters)
  readonly #admission: Admission
  readonly #replay: ReplayContext
  readonly #lifetimeDefaults: StreamLifetimeOptions
  readonly #lifetime: StreamLifetime
  readonly #subscriberOptions = new SubscriberOptionsMemo()
  readonly #revocation: Revocation
  readonly #rotation = new Rotation({ broker: this, counters: this.#counters })
  #visiting: Delivery | undefined
  #closing: Promise<void> | undefined
  #transportDown = false

  readonly #owner: StreamOwner = {
    streamClosed: (stream) => this.#remove(stream),
    frameDropped: (stream) => {
      this.#counters.dropped++
      if (diagnostics.drop.hasSubscribers) diagnostics.drop.publish({ broker: this, stream })
    },
    slowDisconnect: (stream, duringReplay) => {
      this.#counters.slowDisconnects++
      if (duringReplay) this.#counters.replaysCut++
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
    control: (message) => {
      if (this.#closing === undefined) this.#revocation.received(message)
    },
  }

  /** Visits one subscriber of a multi-topic event (bound once: no closure per publish). */
  readonly #visit = (subscriber: Subscriber, topic: number): void => {
    const delivery = this.#visiting!
    const frame = delivery.frames[topic] ?? delivery.frames[0]!
    if (subscriber.deliver(delivery.id, frame)) this.#counters.delivered++
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
      snapshotTimeout,
      authorize,
      transport,
      onError,
      maxDuration,
      maxDurationJitter,
      ...streamDefaults
    } = options
    const history = { historySize, historyMaxAge, historyMaxBytes }
    const given = Object.entries(history).find(([, value]) => value !== undefined)
    if (transport !== undefined && given !== undefined) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/core: option "${given[0]}" configures the in-memory transport; with "transport", give history options to the transport`,
      )
    }
    this.#streamDefaults = streamDefaults
    this.#lifetimeDefaults = {
      ...(maxDuration === undefined ? {} : { maxDuration }),
      ...(maxDurationJitter === undefined ? {} : { maxDurationJitter }),
    }
    this.#lifetime = readLifetime(this.#lifetimeDefaults)
    this.#maxTopics = maxTopicsPerStream ?? BROKER_DEFAULTS.maxTopicsPerStream
    this.#defaultEventName = defaultEventName ?? 'topic'
    this.#onError = onError ?? logError
    this.#transport =
      transport ??
      new MemoryTransport(
        Object.fromEntries(Object.entries(history).filter(([, value]) => value !== undefined)),
      )
    this.#admission = new Admission({
      maxConnections: maxConnections ?? BROKER_DEFAULTS.maxConnections,
      authorize,
      streams: this.#streams,
      closing: () => this.#closing !== undefined,
      refuse: (stream, status, message, headers) => this.#refuse(stream, status, message, headers),
      report: (error) => this.#reportError(error),
      opened: (subscriber) => this.#subscribe(subscriber),
    })
    this.#revocation = new Revocation({
      broker: this,
      counters: this.#counters,
      transport: this.#transport,
      failed: (cause) => this.#transportFailed(cause, 'disconnectFailures'),
      sent: () => {
        this.#transportDown = false
      },
      report: (error) => this.#reportError(error),
    })
    this.#replay = {
      broker: this,
      transport: this.#transport,
      limits: {
        maxEvents: maxReplayEvents ?? BROKER_DEFAULTS.maxReplayEvents,
        maxBytes: maxReplayBytes ?? BROKER_DEFAULTS.maxReplayBytes,
      },
      resetEvent: resetEvent ?? BROKER_DEFAULTS.resetEvent,
      snapshotTimeout: snapshotTimeout ?? BROKER_DEFAULTS.snapshotTimeout,
      counters: this.#counters,
      report: (error) => this.#reportError(error),
    }
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
   * named after its topic. A string is shorthand for `{ data: string }`. With `{ key }`, a client
   * that has fallen behind gets only the newest pending event per topic and key (conflation), and a
   * replay only the newest after the client's id.
   *
   * Programming errors throw an {@link SSEError} synchronously: an invalid event, topic or option
   * (`INVALID_*`), or a closed broker (`BROKER_CLOSED`). Delivery failures never throw: while the
   * transport is down (`TRANSPORT_UNAVAILABLE`) or when it loses the event in flight, the promise
   * rejects, the failure is counted (`stats().publishFailures`) and goes to `onError` once per
   * outage. The promise's rejection is already handled, so a publish whose promise is ignored is
   * safe; `await` it to learn the outcome. It resolves to the event's id.
   *
   * @example
   * broker.publish('notifications', { data: html`<li>${note.title}</li>` })
   * broker.publish(['user:1', 'user:2'], { event: 'ping', data: { at: Date.now() } })
   * broker.publish('prices', { data: html`<td>${price}</td>` }, { key: 'ACME' })
   */
  publish(
    topics: string | readonly string[],
    event: SSEEvent | string,
    options?: PublishOptions,
  ): Promise<string> {
    if (this.#closing !== undefined) {
      throw new SSEError('BROKER_CLOSED', '@sse/core: cannot publish, the broker is closed')
    }
    if (options !== undefined) publishOptionsValidator.assert(options)
    const nameAfterTopic = (options?.defaultEventName ?? this.#defaultEventName) === 'topic'
    const message = toOutgoingMessage(topics, event, nameAfterTopic, options?.key)
    let result: string | Promise<string>
    try {
      result = this.#transport.publish(message)
    } catch (cause) {
      return this.#transportFailed(cause, 'publishFailures')
    }
    if (typeof result === 'string') {
      this.#accepted(result, message.topics)
      return Promise.resolve(result)
    }
    const settled = Promise.resolve(result).then(
      (id) => {
        this.#accepted(id, message.topics)
        return id
      },
      (cause: unknown) => this.#transportFailed(cause, 'publishFailures'),
    )
    settled.catch(ignore)
    return settled
  }

  /**
   * Ends every stream tagged `selector.tag` (or any of `selector.tags`; see the `tags` stream
   * option), on this instance and on every other instance sharing the transport, after an optional
   * final event, serialized once. Over `@sse/redis` this is a control message (Redis `PUBLISH`),
   * never an event in the history. A stream still waiting for its `authorize` verdict is ended as
   * soon as it opens. A client that reconnects is a new request: `authorize` runs again, so make it
   * refuse what was revoked.
   *
   * Resolves to the number of streams ended on this instance, once the other instances were sent
   * the message. Those streams are ended at once in any case. A bad selector or event throws an
   * {@link SSEError} synchronously (`INVALID_*`), as does a closed broker (`BROKER_CLOSED`). When the
   * transport cannot carry the message, the promise rejects like a publish's (already handled,
   * counted in `stats().disconnectFailures`, `onError` once per outage). A transport without a
   * control channel ends this instance's streams only.
   *
   * @example
   * revoked.add(session.id)   // what authorize checks
   * broker.disconnect({ tag: `session:${session.id}` }, { event: { event: 'signed-out', data: '' } })
   */
  disconnect(selector: DisconnectSelector, options?: DisconnectOptions): Promise<number> {
    if (this.#closing !== undefined) {
      throw new SSEError('BROKER_CLOSED', '@sse/core: cannot disconnect, the broker is closed')
    }
    return this.#revocation.disconnect(selector, options)
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

  /**
   * The id of "now": render it into a page's stream URL (`?lastEventId=<cursor>`) together with the
   * state the page shows, and the stream starts exactly after it: nothing published between the
   * render and the connection is missed, nothing is sent twice. Valid for every topic, on any
   * instance sharing the transport. Cheap (no round trip to Redis). `undefined` while the
   * transport cannot tell yet.
   *
   * @example
   * const cursor = broker.cursor()
   * const notes = store.latest()   // read in the same tick as the cursor
   * html`<div hx-ext="sse" sse-connect="/events?topics=notes&lastEventId=${cursor}">…`
   */
  cursor(): string | undefined {
    return this.#transport.cursor()
  }

  /** Current counters and gauges, for metrics and alerts. */
  stats(): BrokerStats {
    let bufferedBytes = 0
    for (const subscriber of this.#streams.values()) bufferedBytes += subscriber.bufferedBytes
    return {
      streams: this.#streams.size,
      topics: this.#index.size,
      ...this.#counters,
      bufferedBytes,
      history: this.#transport.historyStats?.(),
    }
  }

  /**
   * A set of streams opened through this broker that can be ended together without closing the
   * broker: what an adapter uses when the app shuts down but the broker (passed in by the user) lives on.
   * `defaults` are stream options for the group's streams, under the options of each call.
   */
  group(defaults?: SSEStreamOptions & StreamLifetimeOptions): StreamGroup {
    return new StreamGroup(
      (request, response, options, group) => this.#stream(request, response, options, group),
      defaults,
    )
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
      this.#rotation.clear()
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
    let snapshot: SnapshotFunction | undefined
    let streamOptions = this.#streamDefaults
    let tags: readonly string[] | undefined
    let lifetime = this.#lifetime
    let invalid: SSEError | undefined
    try {
      if (options !== undefined) {
        if (typeof options !== 'object' || options === null) {
          throw new SSEError(
            'INVALID_OPTION',
            `@sse/core: stream options must be an object, got ${kindOf(options)}`,
          )
        }
        const { topics, snapshot: givenSnapshot, ...overrides } = options
        requested = topics
        if (givenSnapshot !== undefined && typeof givenSnapshot !== 'function') {
          throw new SSEError(
            'INVALID_OPTION',
            `@sse/core: option "snapshot" must be a function, got ${kindOf(givenSnapshot)}`,
          )
        }
        snapshot = givenSnapshot
        if (Object.keys(overrides).length > 0) {
          brokerStreamOptionsValidator.assert(overrides)
          const { tags: givenTags, maxDuration, maxDurationJitter, ...own } = overrides
          tags = givenTags
          if (maxDuration !== undefined || maxDurationJitter !== undefined) {
            lifetime = overrideLifetime(this.#lifetimeDefaults, overrides)
          }
          if (Object.keys(own).length > 0) streamOptions = { ...this.#streamDefaults, ...own }
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
    const subscriberOptions = this.#subscriberOptions.of(group, snapshot, tags, lifetime)
    const subscriber = new Subscriber(stream, topics, subscriberOptions)
    if (stream.queued) {
      this.#waiting.set(stream, subscriber)
      stream.awaitConnection()
    } else {
      this.#admit(subscriber)
    }
    return stream
  }

  /** Admits a stream; once counted (open, or waiting for its verdict), it is findable by its tags. */
  #admit(subscriber: Subscriber): void {
    this.#admission.admit(subscriber)
    // A refusal leaves nothing behind: only a stream still counted is tracked (`#remove` untracks it).
    if (subscriber.tags.length > 0 && this.#streams.get(subscriber.stream) === subscriber) {
      this.#revocation.track(subscriber)
    }
  }

  /** The stream's head is written: it joins its topics and, if it came back, replays. */
  #subscribe(subscriber: Subscriber): void {
    // Revoked while its verdict was pending: a verdict read before the revocation lets nothing in.
    if (this.#revocation.endIfRevoked(subscriber)) return
    const { stream, topics } = subscriber
    this.#index.add(subscriber)
    if (diagnostics.open.hasSubscribers) diagnostics.open.publish({ broker: this, stream, topics })
    this.#rotation.start(subscriber)
    if (topics.length === 0) return
    const lastEventId = stream.lastEventId ?? readResumeId(stream.request)
    if (lastEventId !== undefined) replayTo(this.#replay, subscriber, lastEventId)
  }

  #deliver(delivery: Delivery): void {
    if (delivery.key !== undefined) {
      this.#keyed.deliver(delivery, delivery.key)
      return
    }
    const topics = delivery.topics
    if (topics.length === 1) {
      const set = this.#index.of(topics[0]!)
      if (set === undefined) return
      const { id, frames } = delivery
      const frame = frames[0]!
      let delivered = 0
      for (const subscriber of set) if (subscriber.deliver(id, frame)) delivered++
      this.#counters.delivered += delivered
      return
    }
    this.#visiting = delivery
    try {
      this.#index.visit(topics, this.#visit)
    } finally {
      this.#visiting = undefined
    }
  }

  #remove(stream: SSEStream): void {
    const subscriber = this.#streams.get(stream)
    if (subscriber === undefined) return
    this.#streams.delete(stream)
    subscriber.stopHolding()
    subscriber.group?.members.delete(stream)
    this.#index.delete(subscriber)
    this.#revocation.untrack(subscriber)
    this.#rotation.stop(subscriber)
    if (diagnostics.close.hasSubscribers) {
      diagnostics.close.publish({ broker: this, stream, topics: subscriber.topics })
    }
  }

  #accepted(id: string, topics: readonly string[]): void {
    this.#counters.published++
    this.#transportDown = false
    if (diagnostics.publish.hasSubscribers) {
      diagnostics.publish.publish({ broker: this, id, topics })
    }
  }

  /**
   * A delivery failure (of a publish, or of a disconnect's message to other instances): counted,
   * reported once per outage, and a handled rejection.
   */
  #transportFailed(
    cause: unknown,
    counter: 'publishFailures' | 'disconnectFailures',
  ): Promise<never> {
    const error = asTransportError(cause)
    this.#counters[counter]++
    if (!this.#transportDown) {
      this.#transportDown = true
      this.#reportError(error)
    }
    const failed = Promise.reject(error)
    failed.catch(ignore)
    return failed
  }

  #refuse(
    stream: SSEStream,
    status: number,
    message: string,
    headers?: Readonly<Record<string, string>>,
    error?: SSEError,
  ): void {
    this.#counters.refused++
    if (diagnostics.refuse.hasSubscribers) {
      diagnostics.refuse.publish({ broker: this, request: stream.request, status, error })
    }
    stream.refuse(status, message, headers)
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
