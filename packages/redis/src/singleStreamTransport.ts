import { randomUUID } from 'node:crypto'
import type {
  ControlMessage,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from '@sse/core/kit'
import type { Redis } from 'ioredis'
import { loadOnEveryNode } from './clusterScripts.js'
import { connect, duplicate, isCluster, quit } from './connection.js'
import { ControlChannel } from './controlChannel.js'
import { OrderedPublisher } from './orderedPublisher.js'
import { PUBLISH_SCRIPT, PUBLISH_SCRIPT_SHA } from './publishScript.js'
import { readHistory } from './readHistory.js'
import { compareStreamIds, isStreamId, STREAM_START } from './streamId.js'
import { StreamReader } from './streamReader.js'
import { createCounters, type TransportCounters } from './transportCounters.js'
import { commandError, startFailed, unavailable } from './transportError.js'
import type { TransportState } from './transportState.js'

/** What the single-stream layout is built with, checked and defaulted by `redisTransport()`. */
export interface SingleStreamSettings {
  readonly client: Redis
  readonly quitClient: boolean
  readonly keyPrefix: string
  readonly historySize: number
  readonly maxReaderLag: number
}

const NO_REPLAY: ReplayResult = { reset: false, deliveries: [] }
const NO_LIMITS: ReplayLimits = {
  maxEvents: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
}

function ignore(): void {}

function replayFailed(cause: unknown): never {
  throw commandError(cause, 'replay')
}

/**
 * Carries events between broker instances through one Redis Stream, which is also the shared
 * history: event ids are stream ids, so a client can resume on any instance.
 *
 * - `publish` runs a Lua script that assigns the id, builds the complete frame once and `XADD`s it
 *   (trimmed with `MAXLEN ~ historySize + maxReaderLag`). While Redis is unreachable it fails with
 *   `TRANSPORT_UNAVAILABLE`; `broker.publish()` then returns a rejected promise (never throws),
 *   counts the failure and reports it to `onError` once per outage.
 * - Every instance follows the stream with `XREAD BLOCK` on its own connection and writes the stored
 *   frames to its subscribers unchanged, its own events included.
 * - `replay` reads the entries after the client's id with `XRANGE`, or answers a reset when that id
 *   is gone from the stream or the replay would pass the broker's `maxReplayEvents` or
 *   `maxReplayBytes` (it stops reading there).
 * - `sendControl` carries `broker.disconnect()` to the other instances with Redis pub/sub on
 *   `<keyPrefix>:control`, heard on a third connection: never in the stream, so never replayed.
 *
 */
export class SingleStreamTransport implements Transport {
  readonly #client: Redis
  readonly #readerConnection: Redis
  readonly #quitClient: boolean
  readonly #keys: readonly [stream: string, head: string, publisher: string]
  /** Publishes sent: the script refuses one that arrives after a later one. */
  #sequence = 0
  readonly #historySize: number
  readonly #maxLength: string
  readonly #counters: TransportCounters = createCounters()
  readonly #reader: StreamReader
  readonly #control: ControlChannel
  readonly #publisher: OrderedPublisher
  #sink: TransportSink | undefined
  #starting: Promise<void> | undefined
  #closing: Promise<void> | undefined
  /** The latest stream id this instance's publishes were given: its next ones come after it. */
  #lastPublished: string = STREAM_START
  /** Replays being read, by head, last event id, limits and topics: identical requests share one read. */
  readonly #replays = new Map<string, Promise<ReplayResult>>()

  constructor(settings: SingleStreamSettings) {
    const { client, quitClient, keyPrefix, historySize, maxReaderLag } = settings
    this.#client = client
    this.#quitClient = quitClient
    this.#readerConnection = duplicate(client) as Redis
    this.#readerConnection.on('error', ignore)
    // On a Cluster both keys share a hash tag: the publish script touches them together.
    const base = isCluster(client) ? `{${keyPrefix}}` : keyPrefix
    this.#keys = [`${base}:events`, `${base}:head`, `${base}:pub:${randomUUID()}`]
    this.#control = new ControlChannel(this.#client, `${keyPrefix}:control`, this.#counters)
    this.#publisher = new OrderedPublisher(this.#client, {
      source: PUBLISH_SCRIPT,
      sha: PUBLISH_SCRIPT_SHA,
    })
    this.#historySize = historySize
    this.#maxLength = String(historySize + maxReaderLag)
    this.#reader = new StreamReader(
      this.#readerConnection,
      this.#keys[0],
      {
        deliver: (delivery) => this.#sink?.deliver(delivery),
        error: (error) => this.#sink?.error(error),
      },
      this.#counters,
    )
  }

  /**
   * Connects, finds the end of the stream, and starts following it. Resolves when ready; rejects
   * with `TRANSPORT_UNAVAILABLE` if Redis cannot be reached, and keeps trying in the background
   * (the broker reports the rejection to `onError`; publishing works once Redis is reachable).
   */
  start(sink: TransportSink): Promise<void> {
    this.#sink = sink
    const control = sink.control?.bind(sink)
    if (isCluster(this.#client)) loadOnEveryNode(this.#client, PUBLISH_SCRIPT)
    const started = Promise.all([
      connect(this.#client),
      connect(this.#readerConnection),
      this.#reader.initialized,
      control && this.#control.listen({ control, error: (error) => this.#sink?.error(error) }),
    ]).then(
      () => {
        this.#starting = undefined
      },
      (cause: unknown) => {
        this.#starting = undefined
        throw startFailed(cause)
      },
    )
    this.#starting = started
    this.#reader.start()
    return started
  }

  /**
   * Adds the event to the stream and resolves to its id. Throws `TRANSPORT_UNAVAILABLE` at once
   * while Redis is unreachable; the promise rejects with it if the connection drops before Redis
   * answers (the event may then have been published or not). A publish made while the transport is
   * still starting waits for the start. The broker turns both into a rejected (and already handled)
   * promise of `broker.publish()`: its callers never see this method throw.
   *
   * Publishes that succeed get increasing ids in call order.
   */
  publish(message: OutgoingMessage): Promise<string> {
    if (this.#closing !== undefined) throw unavailable('the transport is closed')
    // Until the start settles, every publish queues behind it, even once the reader is ready:
    // one sent at once would overtake those already waiting.
    const starting = this.#starting
    if (starting !== undefined) return starting.then(() => this.#send(message))
    if (this.#reader.position === undefined) {
      throw unavailable('not connected to Redis yet; the event was not published')
    }
    return this.#send(message)
  }

  /**
   * The entries after `lastEventId` on `topics`, up to the last one this instance delivered live
   * (later ones reach the client live), or a reset: when `lastEventId` is not in the stream any more
   * (trimmed, lost in a Redis restart, or never a stream id), or, with `capped: true`, as soon as
   * the events read on `topics` pass `limits` (the broker passes its `maxReplayEvents` and
   * `maxReplayBytes`; without `limits`, nothing is capped). Each event answered carries only the
   * frame it is written with for `topics`.
   */
  replay(
    topics: readonly string[],
    lastEventId: string,
    limits: ReplayLimits = NO_LIMITS,
  ): ReplayResult | Promise<ReplayResult> {
    const head = this.#reader.position
    if (head === undefined) throw unavailable('not connected to Redis yet; cannot replay')
    // Any id we did not hand out, the broker's marker for an unusable Last-Event-ID included.
    if (!isStreamId(lastEventId)) return { reset: true, headId: head }
    const order = compareStreamIds(lastEventId, head)
    // Up to date: nothing to read, even while Redis is away (live events resume when it is back).
    if (order === 0) return NO_REPLAY
    if (this.#client.status !== 'ready') throw unavailable('Redis is unreachable; cannot replay')
    if (order > 0) {
      return this.#ahead(lastEventId, head).catch(replayFailed)
    }
    // Clients that reconnect together (after a deploy or a blip) ask for the same range: they share
    // one read. The result is only read by the broker, so sharing it is safe.
    const key = `${head}\n${lastEventId}\n${limits.maxEvents}\n${limits.maxBytes}\n${topics.join('\n')}`
    const pending = this.#replays.get(key)
    if (pending !== undefined) return pending
    const replay = readHistory(this.#client, {
      key: this.#keys[0],
      topics,
      after: lastEventId,
      head,
      headCount: this.#reader.count,
      historySize: this.#historySize,
      limits,
      skipped: () => {
        this.#counters.skipped++
      },
    })
      .catch(replayFailed)
      .finally(() => this.#replays.delete(key))
    this.#replays.set(key, replay)
    return replay
  }

  /** Closes the connections the transport opened (and `client` if `closeClient` is set). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = this.#reader.close()
      await this.#control.close()
      await quit(this.#readerConnection, false)
      await stopped
      if (this.#quitClient) await quit(this.#client, true)
    })()
    return this.#closing
  }

  /**
   * The last stream id this instance's reader delivered (`0-0` for an empty stream): no round trip
   * to Redis. `undefined` until the reader has found the end of the stream.
   */
  cursor(): string | undefined {
    return this.#reader.position
  }

  /**
   * Publishes `message` on `<keyPrefix>:control` (Redis `PUBLISH`, not the stream: it is never
   * history) for the other instances, which hand it to their brokers; this instance skips its own.
   * Throws `TRANSPORT_UNAVAILABLE` at once while Redis is unreachable or the transport is closed;
   * rejects if the connection drops before Redis answers. An instance that is cut off from Redis
   * when the message is sent misses it.
   */
  sendControl(message: ControlMessage): Promise<void> {
    if (this.#closing !== undefined) throw unavailable('the transport is closed')
    return this.#control.send(message)
  }

  /** This instance's counters and connection state. */
  state(): TransportState {
    return {
      counters: this.#counters,
      connected: this.#reader.healthy && this.#client.status === 'ready' && this.#control.healthy,
      position: this.#reader.position,
      partitionsRead: this.#reader.position === undefined ? 0 : 1,
      topicsRead: 0,
    }
  }

  #send(message: OutgoingMessage): Promise<string> {
    const status = this.#client.status
    if (status !== 'ready') {
      throw unavailable(`Redis is unreachable (connection ${status}); the event was not published`)
    }
    const position = this.#reader.position ?? STREAM_START
    const args = [
      this.#maxLength,
      message.topics.join('\n'),
      message.id ?? '',
      compareStreamIds(position, this.#lastPublished) > 0 ? position : this.#lastPublished,
      message.key ?? '',
      String(++this.#sequence),
      ...message.bodies,
    ]
    return this.#publisher.run(this.#keys, args).then(
      (reply) => {
        this.#counters.published++
        const id = String(reply)
        if (compareStreamIds(id, this.#lastPublished) > 0) this.#lastPublished = id
        return message.id === undefined || message.id === '' ? id : message.id
      },
      (cause: unknown) => {
        throw commandError(cause, 'publish')
      },
    )
  }

  /** The client saw events this instance has not read yet (it came from a faster instance). */
  async #ahead(lastEventId: string, head: string): Promise<ReplayResult> {
    const [stream] = this.#keys
    const found = await this.#client.xrangeBuffer(stream, lastEventId, lastEventId)
    if (found.length === 0) return { reset: true, headId: head }
    // Let the reader catch up so that what the client already has arrives while the broker still
    // holds live events back, rather than after.
    await this.#reader.reached(lastEventId)
    return NO_REPLAY
  }
}
