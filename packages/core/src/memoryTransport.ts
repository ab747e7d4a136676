import type { Delivery, OutgoingMessage, ReplayResult, Transport, TransportSink } from './types.js'

/** Options of the in-memory transport (the broker passes its own history options through). */
export interface MemoryTransportOptions {
  /**
   * Events kept per topic for replay; `0` keeps none.
   * @default 1000
   */
  historySize?: number
  /**
   * Oldest event kept for replay, in ms; `0` means no age limit.
   * @default 0
   */
  historyMaxAge?: number
}

interface Entry {
  readonly seq: number
  readonly at: number
  readonly delivery: Delivery
}

interface TopicHistory {
  entries: Entry[]
  /** Index of the oldest retained entry (the ones before it are evicted, awaiting compaction). */
  head: number
  /** Highest sequence number evicted from this topic: replay from before it would have a gap. */
  evicted: number
}

const NO_REPLAY: ReplayResult = { reset: false, deliveries: [] }

/**
 * The default transport: delivers in process and keeps a bounded history per topic.
 * Ids look like `<epoch>-<n>` (epoch: the transport's start time in base 36, n: a counter), so they
 * increase across topics, and an id from another process (or a restarted one) is recognised as
 * unknown and answered with a reset rather than a silent gap.
 */
export class MemoryTransport implements Transport {
  readonly #size: number
  readonly #maxAge: number
  readonly #epoch = Date.now().toString(36)
  #sink: TransportSink | undefined
  #seq = 0
  #lastId = ''
  /** Ids chosen by publishers, which cannot be parsed into a sequence number. */
  readonly #custom = new Map<string, number>()
  readonly #topics = new Map<string, TopicHistory>()
  /** Highest sequence evicted from topics whose history was dropped entirely. */
  #floor = 0

  constructor(options: MemoryTransportOptions = {}) {
    this.#size = options.historySize ?? 1000
    this.#maxAge = options.historyMaxAge ?? 0
  }

  start(sink: TransportSink): void {
    this.#sink = sink
  }

  publish(message: OutgoingMessage): string {
    const seq = ++this.#seq
    const id = message.id ?? `${this.#epoch}-${seq}`
    const bodies = message.bodies
    const frames =
      bodies.length === 1
        ? [Buffer.from(`id: ${id}\n${bodies[0]}`)]
        : bodies.map((body) => Buffer.from(`id: ${id}\n${body}`))
    const delivery: Delivery = { id, topics: message.topics, frames }
    this.#lastId = id
    if (this.#size > 0) this.#remember(seq, delivery, message.id !== undefined)
    this.#sink?.deliver(delivery)
    return id
  }

  replay(topics: readonly string[], lastEventId: string): ReplayResult {
    const after = this.#seqOf(lastEventId)
    if (after === undefined) return { reset: true, headId: this.#lastId }
    if (after === this.#seq) return NO_REPLAY
    const now = Date.now()
    const runs: Entry[][] = []
    for (const topic of topics) {
      const history = this.#topics.get(topic)
      if (history !== undefined) this.#evictAged(topic, history, now)
      const current = this.#topics.get(topic)
      if ((current?.evicted ?? this.#floor) > after) return { reset: true, headId: this.#lastId }
      if (current === undefined) continue
      const start = firstAfter(current.entries, current.head, after)
      if (start < current.entries.length) runs.push(current.entries.slice(start))
    }
    if (runs.length === 0) return NO_REPLAY
    const merged = runs.length === 1 ? runs[0]! : runs.flat().sort((a, b) => a.seq - b.seq)
    const deliveries: Delivery[] = []
    let previous = -1
    for (const entry of merged) {
      if (entry.seq !== previous) deliveries.push(entry.delivery)
      previous = entry.seq
    }
    return { reset: false, deliveries }
  }

  close(): void {
    this.#topics.clear()
    this.#custom.clear()
    this.#sink = undefined
  }

  #seqOf(id: string): number | undefined {
    const custom = this.#custom.get(id)
    if (custom !== undefined) return custom
    if (id === '') return undefined
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
    const entry: Entry = { seq, at, delivery }
    if (custom) this.#custom.set(delivery.id, seq)
    for (const topic of delivery.topics) {
      let history = this.#topics.get(topic)
      if (history === undefined) {
        history = { entries: [], head: 0, evicted: this.#floor }
        this.#topics.set(topic, history)
      }
      history.entries.push(entry)
      if (history.entries.length - history.head > this.#size) this.#evict(history, 1)
      if (this.#maxAge > 0) this.#evictAged(topic, history, at)
    }
  }

  #evictAged(topic: string, history: TopicHistory, now: number): void {
    if (this.#maxAge === 0) return
    const limit = now - this.#maxAge
    let count = 0
    const entries = history.entries
    while (history.head + count < entries.length && entries[history.head + count]!.at < limit)
      count++
    if (count > 0) this.#evict(history, count)
    if (history.head === entries.length) {
      this.#topics.delete(topic)
      if (history.evicted > this.#floor) this.#floor = history.evicted
    }
  }

  #evict(history: TopicHistory, count: number): void {
    const entries = history.entries
    for (let i = history.head; i < history.head + count; i++) {
      const entry = entries[i]!
      history.evicted = entry.seq
      if (this.#custom.get(entry.delivery.id) === entry.seq) this.#custom.delete(entry.delivery.id)
    }
    history.head += count
    if (history.head >= 1024 && history.head * 2 >= entries.length) {
      entries.splice(0, history.head)
      history.head = 0
    }
  }
}

/** Index of the first entry at or after `from` whose sequence number is greater than `seq`. */
function firstAfter(entries: readonly Entry[], from: number, seq: number): number {
  let low = from
  let high = entries.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (entries[mid]!.seq <= seq) low = mid + 1
    else high = mid
  }
  return low
}
