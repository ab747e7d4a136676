import { randomBytes } from 'node:crypto'
import { conflationToken } from '../conflation/conflationKey.js'
import { ReplayCompaction } from '../conflation/replayCompaction.js'
import { diagnostics } from '../diagnostics.js'
import { HISTORY_DEFAULTS } from '../options/defaults.js'
import { createOptionsValidator, type OptionsValidator } from '../options/options.js'
import { type KeepAliveTarget, keepAlive } from '../stream/keepAlive.js'
import type {
  Delivery,
  HistoryStats,
  OutgoingMessage,
  ReplayLimits,
  ReplayResult,
  Transport,
  TransportSink,
} from '../types.js'
import { HistoryRing, mergeRings, type RingCursor } from './historyRing.js'

/** Options of the in-memory transport (the broker passes its own history options through). */
export interface MemoryTransportOptions {
  /**
   * Events kept per topic for replay; `0` keeps none.
   * @default 1000
   */
  historySize?: number
  /**
   * Oldest event kept for replay, in ms; `0` means no age limit. Older events are freed by a sweep
   * that runs every `historyMaxAge / 2` ms (at least every 60 s, at most every second), and are
   * never replayed.
   * @default 0
   */
  historyMaxAge?: number
  /**
   * Bytes the history of all topics may hold together (estimated: each event's frame plus
   * bookkeeping, see `historyStats()`). Over it, whole topics are dropped, least recently published
   * first; a single topic larger than the bound on its own loses its oldest events instead.
   * A client that needed a dropped event gets the reset event.
   * @default 33554432 (32 MiB)
   */
  historyMaxBytes?: number
}

const validator: OptionsValidator<MemoryTransportOptions> = createOptionsValidator('@sse/core', {
  type: 'object',
  additionalProperties: false,
  properties: {
    historySize: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    historyMaxAge: { type: 'integer', minimum: 0, maximum: 2_147_483_647 }, // Node's longest timer
    historyMaxBytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  },
})

/**
 * Estimated bytes one retained event costs each topic that keeps it, beyond its frame: the entry,
 * its delivery with id, topic and frame arrays, the Buffer object and the ring slot. Measured on
 * Node 20 (heap plus array buffers after GC) at 420 to 500 bytes for one-topic events; an event
 * shared by several topics costs less per topic, which errs on the side of keeping less.
 */
export const HISTORY_ENTRY_OVERHEAD = 448

/**
 * Estimated bytes of one topic's own bookkeeping: its map entry and key, history record and ring
 * (measured at about 225 bytes). Without it, a million one-event topics would weigh twice their
 * accounted bytes.
 */
export const HISTORY_TOPIC_OVERHEAD = 224

const MIN_SWEEP_INTERVAL = 1000
const MAX_SWEEP_INTERVAL = 60_000

/**
 * How often aged events are freed: half the age limit, so an event outlives it by at most half,
 * but not more often than every second nor less often than every minute. Transports with the same
 * interval share one timer.
 */
export function sweepInterval(historyMaxAge: number): number {
  return Math.min(Math.max(Math.floor(historyMaxAge / 2), MIN_SWEEP_INTERVAL), MAX_SWEEP_INTERVAL)
}

interface Entry {
  readonly seq: number
  /** Publish time in ms (0 without an age limit). */
  readonly at: number
  readonly delivery: Delivery
  /**
   * Bytes charged to each topic holding the entry: its frame (the longest, when topics have their
   * own) plus {@link HISTORY_ENTRY_OVERHEAD}. One figure for all topics, so eviction is O(1) even
   * for an event published to thousands of topics.
   */
  readonly bytes: number
  /** Topic histories still holding the entry. */
  holders: number
}

interface TopicHistory {
  readonly entries: HistoryRing<Entry>
  /** Bytes accounted to this topic, its own bookkeeping included. */
  bytes: number
  /** Highest sequence evicted from this topic: replay from before it would have a gap. */
  evicted: number
}

const NO_REPLAY: ReplayResult = { reset: false, deliveries: [] }
const NO_LIMITS: ReplayLimits = {
  maxEvents: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
}

/**
 * The default transport: delivers in process and keeps a bounded history per topic.
 * Ids look like `<epoch>-<n>` (epoch: the transport's start time in base 36 and 24 random bits,
 * n: a counter), so they increase across topics, and an id from another process, a restarted one or
 * another instance started in the same millisecond is recognised as unknown and answered with a
 * reset rather than a silent gap.
 */
export class MemoryTransport implements Transport {
  readonly #size: number
  readonly #maxAge: number
  readonly #maxBytes: number
  // The start time, plus random bits: two instances started in the same millisecond (cluster
  // workers behind one balancer) must not take each other's ids for their own.
  readonly #epoch = Date.now().toString(36) + randomBytes(3).toString('hex')
  #sink: TransportSink | undefined
  #seq = 0
  /** Ids chosen by publishers, which cannot be parsed into a sequence number. */
  readonly #custom = new Map<string, number>()
  /** Topic histories, least recently published first. */
  readonly #topics = new Map<string, TopicHistory>()
  /** Highest sequence evicted from topics whose history was dropped entirely. */
  #floor = 0
  #events = 0
  #bytes = 0
  readonly #sweeper: KeepAliveTarget = { keepAliveTick: () => this.#evictAgedEverywhere() }

  /** Throws an `SSEError` `INVALID_OPTION` naming a bad option. */
  constructor(options: MemoryTransportOptions = {}) {
    validator.assert(options)
    this.#size = options.historySize ?? HISTORY_DEFAULTS.historySize
    this.#maxAge = options.historyMaxAge ?? HISTORY_DEFAULTS.historyMaxAge
    this.#maxBytes = options.historyMaxBytes ?? HISTORY_DEFAULTS.historyMaxBytes
  }

  start(sink: TransportSink): void {
    this.#sink = sink
    if (this.#maxAge > 0) keepAlive.add(sweepInterval(this.#maxAge), this.#sweeper)
  }

  publish(message: OutgoingMessage): string {
    const seq = ++this.#seq
    const id = message.id ?? `${this.#epoch}-${seq}`
    const bodies = message.bodies
    const frames =
      bodies.length === 1
        ? [Buffer.from(`id: ${id}\n${bodies[0]}`)]
        : bodies.map((body) => Buffer.from(`id: ${id}\n${body}`))
    const key = message.key
    const delivery: Delivery =
      key === undefined
        ? { id, topics: message.topics, frames }
        : { id, topics: message.topics, frames, key }
    if (this.#size > 0) this.#remember(seq, delivery, message.id !== undefined)
    else this.#floor = seq
    this.#sink?.deliver(delivery)
    return id
  }

  replay(
    topics: readonly string[],
    lastEventId: string,
    limits: ReplayLimits = NO_LIMITS,
  ): ReplayResult {
    const after = this.#seqOf(lastEventId)
    if (after === undefined) return { reset: true, headId: this.#headId() }
    if (after === this.#seq) return NO_REPLAY
    const now = Date.now()
    const cursors: Array<RingCursor<Entry>> = []
    for (const topic of topics) {
      const history = this.#topics.get(topic)
      if (history !== undefined) this.#evictAged(topic, history, now)
      const current = this.#topics.get(topic)
      if ((current?.evicted ?? this.#floor) > after) return { reset: true, headId: this.#headId() }
      if (current === undefined) continue
      const next = current.entries.firstAfter(after)
      if (next < current.entries.length) cursors.push({ ring: current.entries, next })
    }
    if (cursors.length === 0) return NO_REPLAY
    const answer = new ReplayCompaction<Delivery>(limits)
    mergeRings(cursors, ({ delivery }) => {
      const topic = replayTopic(delivery, topics)
      const key = delivery.key
      const token = key === undefined ? undefined : conflationToken(delivery.topics[topic]!, key)
      return answer.add(delivery, (delivery.frames[topic] ?? delivery.frames[0]!).length, token)
    })
    const deliveries = answer.finish()
    if (deliveries === undefined) return { reset: true, headId: this.#headId(), capped: true }
    return { reset: false, deliveries }
  }

  historyStats(): HistoryStats {
    return { topics: this.#topics.size, events: this.#events, bytes: this.#bytes }
  }

  close(): void {
    if (this.#maxAge > 0) keepAlive.delete(sweepInterval(this.#maxAge), this.#sweeper)
    this.#topics.clear()
    this.#custom.clear()
    this.#events = 0
    this.#bytes = 0
    this.#floor = this.#seq
    this.#sink = undefined
  }

  /** An id for "everything published so far", resumable even before the first publish. */
  /** The id of the last event published, or `<epoch>-0` before the first. */
  cursor(): string {
    return this.#headId()
  }

  #headId(): string {
    return `${this.#epoch}-${this.#seq}`
  }

  #seqOf(id: string): number | undefined {
    const custom = this.#custom.get(id)
    if (custom !== undefined) return custom
    const dash = id.indexOf('-')
    if (dash === -1 || id.slice(0, dash) !== this.#epoch) return undefined
    const text = id.slice(dash + 1)
    const seq = Number(text)
    if (!Number.isSafeInteger(seq) || seq < 0 || String(seq) !== text || seq > this.#seq) {
      return undefined
    }
    return seq
  }

  #remember(seq: number, delivery: Delivery, custom: boolean): void {
    const at = this.#maxAge > 0 ? Date.now() : 0
    const entry: Entry = { seq, at, delivery, bytes: entryBytes(delivery), holders: 0 }
    if (custom) this.#custom.set(delivery.id, seq)
    for (const topic of delivery.topics) {
      let history = this.#topics.get(topic)
      if (history !== undefined) {
        if (history.entries.newest === entry) continue // the topic is listed twice
        this.#evictAged(topic, history, at)
        history = this.#topics.get(topic)
      }
      if (history === undefined) {
        history = { entries: new HistoryRing(this.#size), bytes: 0, evicted: this.#floor }
        this.#account(history, HISTORY_TOPIC_OVERHEAD)
      } else {
        this.#topics.delete(topic) // re-inserted below as the most recently published
      }
      this.#topics.set(topic, history)
      const displaced = history.entries.push(entry)
      entry.holders++
      this.#events++
      this.#account(history, entry.bytes)
      if (displaced !== undefined) this.#forget(history, displaced)
      while (history.bytes > this.#maxBytes && history.entries.length > 0) {
        this.#forget(history, history.entries.shift()!)
      }
      if (history.entries.length === 0) this.#drop(topic, history)
    }
    while (this.#bytes > this.#maxBytes) {
      const [topic, history] = this.#topics.entries().next().value!
      const bytes = history.bytes
      this.#drop(topic, history)
      if (diagnostics.historyEvict.hasSubscribers) {
        diagnostics.historyEvict.publish({ transport: this, topic, bytes, total: this.#bytes })
      }
    }
  }

  #account(history: TopicHistory, bytes: number): void {
    history.bytes += bytes
    this.#bytes += bytes
  }

  /** Bookkeeping for an entry that just left a topic's history. */
  #forget(history: TopicHistory, entry: Entry): void {
    const delivery = entry.delivery
    history.evicted = entry.seq
    this.#events--
    this.#account(history, -entry.bytes)
    entry.holders--
    if (entry.holders === 0 && this.#custom.get(delivery.id) === entry.seq) {
      this.#custom.delete(delivery.id)
    }
  }

  /** Drops a topic's whole history; replays from before its newest event now answer a reset. */
  #drop(topic: string, history: TopicHistory): void {
    const entries = history.entries
    while (entries.length > 0) this.#forget(history, entries.shift()!)
    this.#account(history, -HISTORY_TOPIC_OVERHEAD)
    this.#topics.delete(topic)
    if (history.evicted > this.#floor) this.#floor = history.evicted
  }

  #evictAged(topic: string, history: TopicHistory, now: number): void {
    if (this.#maxAge === 0) return
    const limit = now - this.#maxAge
    const entries = history.entries
    while (entries.length > 0 && entries.oldest!.at < limit) {
      this.#forget(history, entries.shift()!)
    }
    if (entries.length === 0) this.#drop(topic, history)
  }

  #evictAgedEverywhere(): void {
    const now = Date.now()
    for (const [topic, history] of this.#topics) this.#evictAged(topic, history, now)
  }
}

function entryBytes(delivery: Delivery): number {
  let longest = 0
  for (const frame of delivery.frames) longest = Math.max(longest, frame.length)
  return longest + HISTORY_ENTRY_OVERHEAD
}

/**
 * Which of `delivery`'s topics a replay on `topics` writes it for: the first one asked for. Its
 * frame is the one written, and its key is conflated under that topic.
 */
function replayTopic(delivery: Delivery, topics: readonly string[]): number {
  if (delivery.topics.length === 1) return 0
  return Math.max(
    delivery.topics.findIndex((topic) => topics.includes(topic)),
    0,
  )
}
