import { diagnostics } from '../diagnostics.js'
import { MemoryTransport } from '../history/memoryTransport.js'
import { Revocation } from '../lifetime/revocation.js'
import { Rotation } from '../lifetime/rotation.js'
import type {
  BrokerOptions,
  BrokerStreamOptions,
  DisconnectOptions,
  DisconnectSelector,
  PublishOptions,
  StreamLifetimeOptions,
} from '../options/brokerOptions.js'
import { publishOptionsValidator, streamDefaultsValidator } from '../options/options.js'
import { readLifetime } from '../options/streamLifetime.js'
import { SSEError } from '../sseError.js'
import { SSEStream, type StreamOwner } from '../stream/sseStream.js'
import {
  type BrokerCounters,
  countDropped,
  countPublished,
  countRefused,
  countSlowDisconnect,
  createCounters,
} from '../subscribers/brokerCounters.js'
import { type GroupState, StreamGroup, shutdownAll } from '../subscribers/streamGroup.js'
import { Subscriber, SubscriberOptionsMemo } from '../subscribers/subscriber.js'
import { TopicIndex } from '../subscribers/topicIndex.js'
import type {
  BrokerStats,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
  Transport,
  TransportSink,
} from '../types.js'
import { readResumeId } from '../wire/lastEventId.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { Admission } from './admission.js'
import { readBrokerSettings } from './brokerSettings.js'
import { ErrorReports } from './errorReports.js'
import { FanOut } from './fanOut.js'
import { toOutgoingMessage } from './outgoingMessage.js'
import { type ReplayContext, replayTo } from './replaySession.js'
import { readStreamRequest, type StreamDefaults } from './streamRequest.js'
import { publishThrough, startTransport } from './transportCalls.js'

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
  readonly #defaults: StreamDefaults
  readonly #errors: ErrorReports
  readonly #defaultEventName: 'topic' | 'none'
  readonly #counters: BrokerCounters = createCounters()
  /** Admitted (counted) streams, open or waiting for their verdict. */
  readonly #streams = new Map<SSEStream, Subscriber>()
  /** Pipelined requests waiting behind another response on their connection: not counted. */
  readonly #waiting = new WeakMap<SSEStream, Subscriber>()
  readonly #index = new TopicIndex<Subscriber>()
  readonly #fanOut = new FanOut(this, this.#index, this.#counters)
  readonly #admission: Admission
  readonly #replay: ReplayContext
  readonly #subscriberOptions = new SubscriberOptionsMemo()
  readonly #revocation: Revocation
  readonly #rotation = new Rotation({ broker: this, counters: this.#counters })
  #closing: Promise<void> | undefined

  readonly #owner: StreamOwner = {
    streamClosed: (stream) => this.#remove(stream),
    frameDropped: (stream) => countDropped(this, this.#counters, stream),
    slowDisconnect: (stream, duringReplay) =>
      countSlowDisconnect(this, this.#counters, stream, duringReplay),
    streamReady: (stream) => {
      const subscriber = this.#waiting.get(stream)
      if (subscriber === undefined) return
      this.#waiting.delete(stream)
      this.#admit(subscriber)
    },
  }

  readonly #sink: TransportSink = {
    deliver: (delivery) => this.#fanOut.deliver(delivery),
    error: (error) => this.#errors.report(error),
    control: (message) => {
      if (this.#closing === undefined) this.#revocation.received(message)
    },
  }

  /** Prefer {@link createBroker}. Throws an {@link SSEError} `INVALID_OPTION` for bad options. */
  constructor(options: BrokerOptions = {}) {
    const settings = readBrokerSettings(options)
    this.#defaults = {
      stream: settings.streamDefaults,
      lifetimeOptions: settings.lifetimeOptions,
      lifetime: settings.lifetime,
      maxTopics: settings.maxTopicsPerStream,
    }
    this.#defaultEventName = settings.defaultEventName
    this.#errors = new ErrorReports(this, settings.onError ?? logError, this.#counters)
    this.#transport = settings.transport ?? new MemoryTransport(settings.history)
    const report = (error: SSEError) => this.#errors.report(error)
    this.#admission = new Admission({
      maxConnections: settings.maxConnections,
      authorize: settings.authorize,
      streams: this.#streams,
      closing: () => this.#closing !== undefined,
      refuse: (stream, status, message, headers) => this.#refuse(stream, status, message, headers),
      report,
      transport: this.#transport,
      opened: (subscriber) => this.#subscribe(subscriber),
    })
    this.#revocation = new Revocation({
      broker: this,
      counters: this.#counters,
      transport: this.#transport,
      failed: (cause) => this.#errors.transportFailed(cause, 'disconnectFailures'),
      sent: () => this.#errors.transportWorked(),
      report,
    })
    this.#replay = {
      broker: this,
      transport: this.#transport,
      limits: settings.replayLimits,
      resetEvent: settings.resetEvent,
      snapshotTimeout: settings.snapshotTimeout,
      counters: this.#counters,
      report,
    }
    this.#ready = startTransport(this.#transport, this.#sink, this.#errors)
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
    return publishThrough(this.#transport, message, this.#errors, this.#accepted)
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
   * `defaults` are stream options for the group's streams, under the options of each call. Throws an
   * {@link SSEError} `INVALID_OPTION` for bad defaults (`checked`: an adapter checked them already).
   */
  group(
    defaults?: SSEStreamOptions & StreamLifetimeOptions,
    /** @internal */ checked = false,
  ): StreamGroup {
    if (defaults !== undefined && !checked) {
      streamDefaultsValidator.assert(defaults)
      readLifetime(defaults)
    }
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
    const asked = readStreamRequest(options, this.#defaults)
    const stream = new SSEStream(request, response, asked.streamOptions, this.#owner)
    if ('status' in asked) {
      if (asked.status === 500) this.#errors.report(asked.error)
      this.#refuse(stream, asked.status, asked.message, undefined, asked.error)
      return stream
    }
    const { topics, snapshot, tags, lifetime } = asked
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

  #remove(stream: SSEStream): void {
    const subscriber = this.#streams.get(stream)
    if (subscriber === undefined) return
    this.#streams.delete(stream)
    subscriber.stopHolding()
    subscriber.group?.members.delete(stream)
    this.#index.delete(subscriber)
    if (subscriber.following) {
      subscriber.following = false
      this.#transport.unfollow?.(subscriber.topics)
    }
    this.#revocation.untrack(subscriber)
    this.#rotation.stop(subscriber)
    if (diagnostics.close.hasSubscribers) {
      diagnostics.close.publish({ broker: this, stream, topics: subscriber.topics })
    }
  }

  readonly #accepted = (id: string, topics: readonly string[]): void => {
    this.#errors.transportWorked()
    countPublished(this, this.#counters, id, topics)
  }

  #refuse(
    stream: SSEStream,
    status: number,
    message: string,
    headers?: Readonly<Record<string, string>>,
    error?: SSEError,
  ): void {
    countRefused(this, this.#counters, stream.request, status, error)
    stream.refuse(status, message, headers)
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
