import { randomUUID } from 'node:crypto'
import type {
  ControlMessage,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from '@sse/core/kit'
import { loadOnEveryNode } from '../clusterScripts.js'
import { connect, duplicate, isCluster, quit } from '../connection.js'
import { ControlChannel } from '../controlChannel.js'
import { OrderedPublisher } from '../orderedPublisher.js'
import type { RedisClient } from '../redisClient.js'
import { compareStreamIds, STREAM_START } from '../streamId.js'
import { createCounters } from '../transportCounters.js'
import { commandError, startFailed, unavailable } from '../transportError.js'
import type { TransportState } from '../transportState.js'
import { decodeCursor, encodeCursor, farthestBack, splitId } from './cursorVector.js'
import { liveDelivery } from './liveDelivery.js'
import { PartitionLayout } from './partitionLayout.js'
import { PartitionReader, type TopicRead } from './partitionReader.js'
import { type PartitionRange, readTopicHistory } from './topicHistory.js'
import { TOPIC_PUBLISH_SCRIPT, TOPIC_PUBLISH_SCRIPT_SHA } from './topicPublishScript.js'

/** Longest a stream waits for its topics to be read before it is refused (503, it retries). */
const FOLLOW_TIMEOUT_MS = 5000
const SCRIPT = { source: TOPIC_PUBLISH_SCRIPT, sha: TOPIC_PUBLISH_SCRIPT_SHA }

/** What the topic-streams layout is built with, checked and defaulted by `redisTransport()`. */
export interface TopicStreamsSettings {
  readonly client: RedisClient
  readonly quitClient: boolean
  readonly keyPrefix: string
  readonly partitions: number
  readonly topicHistory: number
  readonly maxReaderLag: number
  readonly maxTopics: number
}

/**
 * The partitioned layout: each topic has a stream of its own (its history, trimmed to about
 * `topicHistory + maxReaderLag` entries), in one of `partitions` partitions whose keys share a hash
 * tag. An instance reads only the topics its streams want (`follow`), one blocking read per
 * partition; a client's position is a cursor with one stream id per partition (see
 * `cursorVector.ts`).
 */
export class TopicStreamsTransport implements Transport {
  readonly #settings: TopicStreamsSettings
  readonly #client: RedisClient
  readonly #layout: PartitionLayout
  readonly #instance = randomUUID()
  readonly #counters = createCounters()
  /** One per partition: order is kept per partition, and a Cluster serves each from one master. */
  readonly #publishers: (OrderedPublisher | undefined)[]
  readonly #control: ControlChannel
  readonly #readers: (PartitionReader | undefined)[]
  readonly #connections: RedisClient[] = []
  readonly #lastPublished: string[]
  /** Publishes sent per partition: the script refuses one that arrives after a later one. */
  readonly #sequence: number[]
  /** Streams of this instance following each topic. */
  readonly #refs = new Map<string, number>()
  #sink: TransportSink | undefined
  #starting: Promise<void> | undefined
  #started = false
  #closing: Promise<void> | undefined
  /** Redis time minus local time, in ms, measured at start. */
  #clockOffset = 0

  constructor(settings: TopicStreamsSettings) {
    this.#settings = settings
    this.#client = settings.client
    this.#layout = new PartitionLayout(settings.keyPrefix, settings.partitions)
    this.#readers = new Array(settings.partitions).fill(undefined)
    this.#lastPublished = new Array(settings.partitions).fill(STREAM_START)
    this.#sequence = new Array(settings.partitions).fill(0)
    this.#publishers = new Array(settings.partitions).fill(undefined)
    this.#control = new ControlChannel(
      this.#client,
      `${settings.keyPrefix}:control`,
      this.#counters,
    )
  }

  start(sink: TransportSink): Promise<void> {
    this.#sink = sink
    const control = sink.control?.bind(sink)
    if (isCluster(this.#client)) loadOnEveryNode(this.#client, TOPIC_PUBLISH_SCRIPT)
    const started = Promise.all([
      connect(this.#client).then(() => this.#measureClock()),
      control && this.#control.listen({ control, error: (error) => this.#sink?.error(error) }),
    ]).then(
      () => {
        this.#starting = undefined
        this.#started = true
      },
      (cause: unknown) => {
        this.#starting = undefined
        throw startFailed(cause)
      },
    )
    this.#starting = started
    return started
  }

  publish(message: OutgoingMessage): Promise<string> {
    if (this.#closing !== undefined) throw unavailable('the transport is closed')
    const starting = this.#starting
    if (starting !== undefined) return starting.then(() => this.#send(message))
    if (!this.#started) throw unavailable('not connected to Redis yet; the event was not published')
    return this.#send(message)
  }

  follow(topics: readonly string[], lastEventId: string | undefined): void | Promise<void> {
    for (const topic of topics) this.#refs.set(topic, (this.#refs.get(topic) ?? 0) + 1)
    const resume =
      lastEventId === undefined ? undefined : decodeCursor(lastEventId, this.#layout.count)
    const waits: Promise<void>[] = []
    for (const [partition, group] of this.#layout.group(topics)) {
      const reader = this.#reader(partition)
      const known = reader.position
      const ahead = resume?.positions.get(partition)
      const behind =
        known !== undefined && ahead !== undefined && compareStreamIds(ahead, known) > 0
      if (group.every((topic) => reader.follows(topic)) && !behind) continue
      waits.push(this.#startReading(reader, group))
    }
    if (waits.length === 0) return
    return Promise.all(waits).then(() => undefined)
  }

  unfollow(topics: readonly string[]): void {
    const dropped: string[] = []
    for (const topic of topics) {
      const refs = (this.#refs.get(topic) ?? 0) - 1
      if (refs > 0) {
        this.#refs.set(topic, refs)
        continue
      }
      this.#refs.delete(topic)
      dropped.push(topic)
    }
    for (const [partition, group] of this.#layout.group(dropped)) {
      const reader = this.#readers[partition]
      if (reader?.remove(group) === true) this.#wake(reader)
    }
  }

  replay(
    topics: readonly string[],
    lastEventId: string,
    limits: ReplayLimits,
  ): ReplayResult | Promise<ReplayResult> {
    const heads = this.#positions()
    const reset = { reset: true as const, headId: this.#cursorOf(heads) }
    const resume = decodeCursor(lastEventId, this.#layout.count)
    if (resume === undefined) return reset
    const ranges: PartitionRange[] = []
    for (const [partition, group] of this.#layout.group(topics)) {
      const head = heads.get(partition)
      if (head === undefined)
        throw unavailable('the stream’s topics are not being read; cannot replay')
      const from = resume.positions.get(partition)
      if (from !== undefined && compareStreamIds(from, head) > 0) {
        // Nothing of these topics lies before a position written as far back as a cursor goes.
        if (from === farthestBack(resume.floor)) continue
        return reset
      }
      ranges.push(
        from === undefined
          ? { partition, topics: group, from: `${resume.floor}-0`, inclusive: true, head }
          : { partition, topics: group, from, inclusive: false, head },
      )
    }
    if (ranges.every((range) => !range.inclusive && range.from === range.head)) {
      return { reset: false, deliveries: [] }
    }
    if (this.#client.status !== 'ready') throw unavailable('Redis is unreachable; cannot replay')
    return readTopicHistory(this.#client, this.#layout, {
      ranges,
      wanted: topics,
      topicHistory: this.#settings.topicHistory,
      limits,
      start: resume.positions,
      heads,
      floor: 0,
      reset,
      skipped: () => {
        this.#counters.skipped++
      },
    }).catch((cause: unknown) => {
      throw commandError(cause, 'replay')
    })
  }

  cursor(): string | undefined {
    return this.#started ? this.#cursorOf(this.#positions()) : undefined
  }

  sendControl(message: ControlMessage): Promise<void> {
    if (this.#closing !== undefined) throw unavailable('the transport is closed')
    return this.#control.send(message)
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = this.#readers.map((reader) => reader?.close())
      await this.#control.close()
      await Promise.all(this.#connections.map((connection) => quit(connection, false)))
      await Promise.all(stopped)
      if (this.#settings.quitClient) await quit(this.#client, true)
    })()
    return this.#closing
  }

  state(): TransportState {
    let partitionsRead = 0
    let topicsRead = 0
    let healthy = true
    for (const reader of this.#readers) {
      if (reader === undefined) continue
      if (reader.position !== undefined) partitionsRead++
      topicsRead += reader.topics
      healthy &&= reader.healthy
    }
    return {
      counters: this.#counters,
      connected:
        this.#started && healthy && this.#client.status === 'ready' && this.#control.healthy,
      position: this.cursor(),
      partitionsRead,
      topicsRead,
    }
  }

  /** Starts reading `group` in the reader's partition (from its current head) and waits for it. */
  async #startReading(reader: PartitionReader, group: readonly string[]): Promise<void> {
    if (this.#closing !== undefined) throw unavailable('the transport is closed')
    const keys = this.#layout.keys(reader.partition)
    let head: string
    try {
      const [ms, seq] = await this.#client.hmget(keys.head, 'ms', 'seq')
      head = ms === null || seq === null ? STREAM_START : `${ms}-${seq}`
    } catch (cause) {
      throw commandError(cause, 'reading a partition’s head')
    }
    // Only the topics still followed by a stream: one may have left meanwhile.
    const still = group.filter((topic) => this.#refs.has(topic))
    reader.add(still, head)
    this.#wake(reader)
    if (!(await reader.reached(head, FOLLOW_TIMEOUT_MS))) {
      throw unavailable(`could not read partition ${reader.partition} in time`)
    }
  }

  #reader(partition: number): PartitionReader {
    let reader = this.#readers[partition]
    if (reader === undefined) {
      const connection = duplicate(this.#client)
      connection.on('error', ignore)
      // Lazy: the reader waits for it; ioredis keeps retrying after a failure.
      connect(connection).catch(ignore)
      this.#connections.push(connection)
      reader = new PartitionReader(
        partition,
        connection,
        this.#layout.keys(partition),
        this.#instance,
        {
          deliver: (from, entries) => this.#deliver(from, entries),
          error: (error) => this.#sink?.error(error),
        },
        this.#counters,
      )
      this.#readers[partition] = reader
    }
    return reader
  }

  /** Makes the reader's blocked `XREAD` return, so that it reads its new set of topics. */
  #wake(reader: PartitionReader): void {
    if (this.#client.status !== 'ready') return
    const key = reader.wakeKey
    this.#client.xadd(key, 'MAXLEN', '1', '*', 'w', '1').catch(ignore)
    this.#client.pexpire(key, 60_000).catch(ignore)
  }

  #deliver(partition: number, entries: readonly TopicRead[]): void {
    // The floor of an event's cursor is its newest position: the same on every instance that reads
    // the same partitions, whenever it is written.
    const cursor = encodeCursor(this.#positions(), 0)
    this.#sink?.deliver(liveDelivery(entries, cursor, partition, this.#layout))
  }

  #send(message: OutgoingMessage): Promise<string> {
    const status = this.#client.status
    if (status !== 'ready') {
      throw unavailable(`Redis is unreachable (connection ${status}); the event was not published`)
    }
    const { topics, bodies } = message
    const { topicHistory, maxReaderLag, maxTopics, partitions } = this.#settings
    const all = topics.join('\n')
    const sends: Promise<[number, string]>[] = []
    for (const [partition, group] of this.#layout.group(topics)) {
      const keys = this.#layout.keys(partition)
      const reader = this.#readers[partition]?.position
      const last = this.#lastPublished[partition]!
      const floor = reader !== undefined && compareStreamIds(reader, last) > 0 ? reader : last
      const own =
        bodies.length === 1 ? [bodies[0]!] : group.map((topic) => bodies[topics.indexOf(topic)]!)
      const args = [
        String(topicHistory + maxReaderLag),
        floor,
        String(Math.floor(maxTopics / partitions)),
        all,
        message.id ?? '',
        message.key ?? '',
        String(++this.#sequence[partition]!),
        ...group,
        ...own,
      ]
      const streamKeys = [
        keys.head,
        keys.topics,
        keys.publisher(this.#instance),
        ...group.map((topic) => keys.topic(topic)),
      ]
      sends.push(
        this.#publisher(partition)
          .run(streamKeys, args)
          .then((reply) => {
            const id = String(reply)
            if (compareStreamIds(id, this.#lastPublished[partition]!) > 0) {
              this.#lastPublished[partition] = id
            }
            return [partition, id]
          }),
      )
    }
    return Promise.all(sends).then(
      (ids) => {
        this.#counters.published++
        if (message.id !== undefined && message.id !== '') return message.id
        const [partition, id] = ids[0]!
        return encodeCursor(new Map([[partition, id]]), splitId(id)[0])
      },
      (cause: unknown) => {
        throw commandError(cause, 'publish')
      },
    )
  }

  #publisher(partition: number): OrderedPublisher {
    let publisher = this.#publishers[partition]
    if (publisher === undefined) {
      publisher = new OrderedPublisher(this.#client, SCRIPT)
      this.#publishers[partition] = publisher
    }
    return publisher
  }

  #positions(): Map<number, string> {
    const positions = new Map<number, string>()
    for (const reader of this.#readers) {
      const position = reader?.position
      if (reader !== undefined && position !== undefined) positions.set(reader.partition, position)
    }
    return positions
  }

  #cursorOf(positions: ReadonlyMap<number, string>): string {
    return encodeCursor(positions, this.#now())
  }

  /** Redis time now, as this instance can tell it without a round trip. */
  #now(): number {
    return Date.now() + this.#clockOffset
  }

  async #measureClock(): Promise<void> {
    const sent = Date.now()
    const [seconds, micros] = (await this.#client.time()) as [number | string, number | string]
    const received = Date.now()
    const redis = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    // Err early: a floor a little before Redis' time replays a little more, never less.
    this.#clockOffset = redis - received - (received - sent) - 5
  }
}

function ignore(): void {}
