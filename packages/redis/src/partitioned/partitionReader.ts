import { SSEError } from '@sse/core'
import {
  backoff,
  foreignEntry,
  readFailed,
  sleep,
  trimmedBeforeRead,
  whenReady,
} from '../readerWaits.js'
import type { RedisClient } from '../redisClient.js'
import { compareStreamIds, STREAM_START } from '../streamId.js'
import type { TransportCounters } from '../transportCounters.js'
import type { PartitionKeys } from './partitionLayout.js'
import { parseTopicEntry, type RawTopicEntry, type TopicEntry } from './topicEntry.js'

/** Entries read per topic per `XREAD`. */
const BATCH = 500
/** How long one `XREAD` blocks when nothing happens, in ms. */
const BLOCK_MS = 5000

/** Where a partition reader hands what it reads. */
export interface PartitionSink {
  /** One event: its entries in the followed topics' streams (same id), each with its topic. */
  deliver(partition: number, entries: readonly TopicRead[]): void
  error(error: SSEError): void
}

/** An entry read from the stream of `topic`. */
export interface TopicRead {
  readonly topic: string
  readonly entry: TopicEntry
}

interface Followed {
  readonly name: string
  readonly key: string
  /** Last id read from this topic's stream (or where reading it starts). */
  position: string
  /** Publish counter of the last entry read, to tell entries trimmed before they were read. */
  count: number | undefined
}

interface Waiter {
  readonly id: string
  readonly resolve: (reached: boolean) => void
}

type XReadReply = [key: Buffer, entries: RawTopicEntry[]][] | null

function later(a: string, b: string): string {
  return compareStreamIds(a, b) >= 0 ? a : b
}

/** The earlier of two stream ids, `b` when there is no `a`. */
function earlier(a: string | undefined, b: string): string {
  return a === undefined || compareStreamIds(b, a) < 0 ? b : a
}

/**
 * Follows the streams of the topics this instance's streams want in one partition, on a connection
 * of its own: one `XREAD BLOCK` over all of them (they share a hash slot) plus a wake stream, so
 * that a newly followed topic joins at once. Entries of all topics are merged in id order, an event
 * stored in several of them is handed on once, and {@link position} says how far every followed
 * topic has been read. With no topic left it stops reading; the next `follow` starts it again.
 */
export class PartitionReader {
  readonly partition: number
  readonly #redis: RedisClient
  readonly #keys: PartitionKeys
  readonly #wakeKey: string
  readonly #sink: PartitionSink
  readonly #counters: TransportCounters
  readonly #topics = new Map<string, Followed>()
  readonly #byKey = new Map<string, string>()
  readonly #waiters = new Set<Waiter>()
  readonly #abort = new AbortController()
  #wakeId = STREAM_START
  /** Every entry up to here of every followed topic was handed on; `undefined` while not reading. */
  #position: string | undefined
  /** A partition head read before the next `XREAD`: once it answers, {@link position} reaches it. */
  #pendingHead: string | undefined
  #loop: Promise<void> | undefined
  /** The last blocking read answered part of an event (see {@link #consume}): read again at once. */
  #split = false
  /** Whether an `XREAD` is on its way: a topic followed meanwhile is not in its reply. */
  #reading = false
  /** The earliest start of a topic followed while the current `XREAD` was on its way. */
  #joined: string | undefined
  #closed = false
  #healthy = true
  #reportedForeign = false

  constructor(
    partition: number,
    redis: RedisClient,
    keys: PartitionKeys,
    instance: string,
    sink: PartitionSink,
    counters: TransportCounters,
  ) {
    this.partition = partition
    this.#redis = redis
    this.#keys = keys
    this.#wakeKey = keys.wake(instance)
    this.#sink = sink
    this.#counters = counters
  }

  /** How far this partition has been read, or `undefined` when it is not read. */
  get position(): string | undefined {
    return this.#position
  }

  /** The stream to `XADD` to so that a blocked read returns. */
  get wakeKey(): string {
    return this.#wakeKey
  }

  /** Whether the last read succeeded (`true` when not reading). */
  get healthy(): boolean {
    return this.#healthy
  }

  /** Topics followed now. */
  get topics(): number {
    return this.#topics.size
  }

  /** Whether `topic` is followed. */
  follows(topic: string): boolean {
    return this.#topics.has(topic)
  }

  /**
   * Follows those of `topics` not followed yet, from after `head`, the partition's last id read just
   * before. The next read answers at once and brings {@link position} to `head` at least: wait for
   * it with {@link reached}.
   */
  add(topics: readonly string[], head: string): void {
    if (this.#closed) return
    if (this.#position === undefined) this.#position = head
    for (const name of topics) {
      if (this.#topics.has(name)) continue
      const key = this.#keys.topic(name)
      const position = later(head, this.#position)
      this.#topics.set(name, { name, key, position, count: undefined })
      this.#byKey.set(key, name)
      if (this.#reading) this.#joined = earlier(this.#joined, position)
    }
    this.#pendingHead = this.#pendingHead === undefined ? head : later(this.#pendingHead, head)
    this.#loop ??= this.#run()
  }

  /** Stops following `topics`; returns whether the reader has no topic left. */
  remove(topics: readonly string[]): boolean {
    for (const name of topics) {
      const followed = this.#topics.get(name)
      if (followed === undefined) continue
      this.#topics.delete(name)
      this.#byKey.delete(followed.key)
    }
    return this.#topics.size === 0
  }

  /** Resolves `true` once {@link position} is at or after `id`, `false` after `timeoutMs` or on close. */
  reached(id: string, timeoutMs: number): Promise<boolean> {
    const position = this.#position
    if (position !== undefined && compareStreamIds(position, id) >= 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs)
      const waiter: Waiter = { id, resolve: (reached) => done(reached) }
      const done = (reached: boolean) => {
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve(reached)
      }
      this.#waiters.add(waiter)
    })
  }

  /** Stops reading; the caller closes the connection, which ends a pending `XREAD`. */
  async close(): Promise<void> {
    this.#closed = true
    this.#abort.abort()
    for (const waiter of [...this.#waiters]) waiter.resolve(false)
    await this.#loop
  }

  async #run(): Promise<void> {
    let failures = 0
    while (!this.#closed && this.#topics.size > 0) {
      const head = this.#pendingHead
      this.#pendingHead = undefined
      const now = head !== undefined || this.#split
      this.#split = false
      try {
        await whenReady(this.#redis, this.#abort.signal)
        if (this.#closed || this.#topics.size === 0) break
        this.#joined = undefined
        this.#reading = true
        let reply: XReadReply
        try {
          reply = await this.#read(now)
        } finally {
          // In the same turn as #consume: a topic followed after this line is in the next read.
          this.#reading = false
        }
        this.#healthy = true
        failures = 0
        this.#consume(reply, head, !now, this.#joined)
      } catch (cause) {
        if (head !== undefined) {
          this.#pendingHead =
            this.#pendingHead === undefined ? head : later(this.#pendingHead, head)
        }
        if (this.#closed) break
        this.#failed(cause)
        if (this.#redis.status === 'end') break
        if (this.#redis.status === 'ready') {
          failures++
          await sleep(backoff(failures), this.#abort.signal)
        }
      }
    }
    this.#loop = undefined
    if (this.#topics.size === 0) {
      this.#position = undefined
      this.#pendingHead = undefined
    } else if (!this.#closed && this.#redis.status !== 'end') {
      this.#loop = this.#run()
    }
  }

  #read(now: boolean): Promise<XReadReply> {
    const names = [...this.#topics.values()]
    const args: (string | number)[] = ['COUNT', BATCH]
    if (!now) args.push('BLOCK', BLOCK_MS)
    args.push('STREAMS', this.#wakeKey)
    for (const followed of names) args.push(followed.key)
    args.push(this.#wakeId)
    for (const followed of names) args.push(followed.position)
    return this.#redis.callBuffer('XREAD', ...args) as Promise<XReadReply>
  }

  /**
   * Hands on the events of a reply in id order, up to the cutoff of a full reply. A blocking read
   * answers with the stream that woke it only (Redis 7.0), so an event stored in several followed
   * topics may come in part: it is left for a read at once, which answers every stream. So is all
   * after `joined`, where the first topic followed while the read was on its way starts: that
   * topic's entries are not in the reply, and may come before the ones that are.
   */
  #consume(
    reply: XReadReply,
    head: string | undefined,
    blocked: boolean,
    joined: string | undefined,
  ): void {
    let cutoff = joined
    const read: { topic: Followed; raw: RawTopicEntry; id: string; order: number }[] = []
    for (const [rawKey, entries] of reply ?? []) {
      const key = rawKey.toString('utf8')
      const last = entries[entries.length - 1]
      if (last === undefined) continue
      if (key === this.#wakeKey) {
        this.#wakeId = last[0].toString('latin1')
        continue
      }
      const name = this.#byKey.get(key)
      const topic = name === undefined ? undefined : this.#topics.get(name)
      if (topic === undefined) continue
      if (entries.length >= BATCH) {
        const lastId = last[0].toString('latin1')
        cutoff = earlier(cutoff, lastId)
      }
      const from = topic.position
      for (const raw of entries) {
        const id = raw[0].toString('latin1')
        // A reply to a read made before the topic was followed again may hold older entries.
        if (compareStreamIds(id, from) > 0) read.push({ topic, raw, id, order: read.length })
      }
    }
    read.sort((a, b) => compareStreamIds(a.id, b.id) || a.order - b.order)
    let delivered: string | undefined
    let held = false
    for (let i = 0; i < read.length; ) {
      const id = read[i]!.id
      if (cutoff !== undefined && compareStreamIds(id, cutoff) > 0) break
      let end = i
      while (end < read.length && read[end]!.id === id) end++
      const entries = read.slice(i, end).map(({ topic, raw }) => ({
        topic,
        entry: parseTopicEntry(id, raw[1]),
      }))
      if (blocked && this.#partial(entries, id)) {
        held = true
        break
      }
      const group: TopicRead[] = []
      for (const { topic, entry } of entries) {
        topic.position = id
        if (entry === undefined) {
          this.#skip(id, topic.key)
          continue
        }
        this.#counted(topic, entry.count)
        group.push({ topic: topic.name, entry })
      }
      i = end
      delivered = id
      this.#position = this.#position === undefined ? id : later(this.#position, id)
      if (group.length > 0) {
        this.#counters.delivered++
        this.#sink.deliver(this.partition, group)
      }
    }
    // What is left, or a followed topic that was not read, waits for a read at once.
    const again = held || joined !== undefined
    if (again) {
      this.#split = true
      if (head !== undefined) {
        this.#pendingHead = this.#pendingHead === undefined ? head : later(this.#pendingHead, head)
      }
    }
    const known = again
      ? delivered
      : (cutoff ??
        (head === undefined ? delivered : delivered === undefined ? head : later(head, delivered)))
    if (known !== undefined && this.#position !== undefined)
      this.#position = later(this.#position, known)
    if (this.#waiters.size > 0 && this.#position !== undefined) {
      for (const waiter of [...this.#waiters]) {
        if (compareStreamIds(this.#position, waiter.id) >= 0) waiter.resolve(true)
      }
    }
  }

  /** Whether a followed topic of the event has its entry still to read (not in `entries`). */
  #partial(
    entries: readonly { topic: Followed; entry: TopicEntry | undefined }[],
    id: string,
  ): boolean {
    const topics = entries.find(({ entry }) => entry !== undefined)?.entry?.topics ?? []
    for (const name of topics) {
      const followed = this.#topics.get(name)
      if (followed === undefined || entries.some(({ topic }) => topic === followed)) continue
      if (compareStreamIds(followed.position, id) < 0) return true
    }
    return false
  }

  #counted(topic: Followed, count: number): void {
    const last = topic.count
    topic.count = count
    if (last === undefined || count === last + 1) return
    if (count <= last) {
      this.#counters.resets++
      this.#sink.error(
        new SSEError(
          'TRANSPORT_ERROR',
          `@sse/redis: the publish counter of "${topic.key}" started over (Redis lost data, or the topic's history was evicted); events published meanwhile may be lost`,
        ),
      )
      return
    }
    const missed = count - last - 1
    this.#counters.missed += missed
    this.#sink.error(trimmedBeforeRead(missed, topic.key, 'raise maxReaderLag'))
  }

  #skip(id: string, key: string): void {
    this.#counters.skipped++
    if (this.#reportedForeign) return
    this.#reportedForeign = true
    this.#sink.error(foreignEntry(id, key))
  }

  #failed(cause: unknown): void {
    if (!this.#healthy) return
    this.#healthy = false
    this.#sink.error(
      readFailed(
        this.#redis,
        cause,
        `partition ${this.partition}`,
        'Subscribers catch up from the topic streams once it is back',
      ),
    )
  }
}
