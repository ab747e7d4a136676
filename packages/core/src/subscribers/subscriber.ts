import { EMPTY_FRAME, type KeyedResult, REPLACED, SENT } from '../conflation/keyedSlots.js'
import type { HeldFrame } from '../history/replayHandoff.js'
import type { SnapshotFunction } from '../options/brokerOptions.js'
import { type StreamLifetime, UNLIMITED } from '../options/streamLifetime.js'
import { fitsUnder } from '../stream/frameQueue.js'
import type { SSEStream } from '../stream/sseStream.js'
import type { Delivery } from '../types.js'
import type { GroupState } from './streamGroup.js'
import type { Subscription } from './topicIndex.js'

const NO_TAGS: readonly string[] = []

/** Emptied held frames tolerated before the list is compacted (and only once they are most of it). */
const COMPACT_AFTER = 32

/** A live frame held while the replay is read, numbered in the order it was held. */
export interface HeldLiveFrame extends HeldFrame {
  /** Frames held before this one, replaced and compacted ones included. */
  readonly seq: number
}

/** A held live frame; emptied in place when a newer one of its topic and key replaces it. */
interface Held extends HeldLiveFrame {
  frame: Buffer
}

/** Live frames held while the replay is read. */
interface Holding {
  frames: Held[]
  bytes: number
  /** The held frame of each conflation token. */
  keys: Map<string, Held> | undefined
  /** Held frames emptied by a newer one of their token, still in `frames`. */
  emptied: number
  /** Frames held so far, emptied and compacted ones included (see {@link Subscriber.heldSeq}). */
  count: number
  /** The id the client resumes from: its entry is kept even emptied, the hand-off looks for it. */
  readonly lastEventId: string
}

/** What a broker call set for a subscriber besides its topics. */
export interface SubscriberOptions {
  /** The group the stream was opened through. */
  readonly group: GroupState | undefined
  /** Sent instead of the reset event, when given. */
  readonly snapshot: SnapshotFunction | undefined
  /** Labels `broker.disconnect()` finds the stream by (the subscriber's own copy). */
  readonly tags: readonly string[]
  /** How long the stream may stay open once open. */
  readonly lifetime: StreamLifetime
}

/**
 * Hands out {@link SubscriberOptions}: the same object again while the values repeat (streams
 * through one adapter, say), so that each subscriber holds one reference rather than four.
 */
export class SubscriberOptionsMemo {
  #last: SubscriberOptions = {
    group: undefined,
    snapshot: undefined,
    tags: NO_TAGS,
    lifetime: UNLIMITED,
  }

  /**
   * Options for these values. `tags` are copied: the index must find the same tags when the stream
   * leaves, whatever the app does with its array.
   */
  of(
    group: GroupState | undefined,
    snapshot: SnapshotFunction | undefined,
    tags: readonly string[] | undefined,
    lifetime: StreamLifetime,
  ): SubscriberOptions {
    if (tags !== undefined && tags.length > 0) {
      return { group, snapshot, tags: tags.slice(), lifetime }
    }
    const last = this.#last
    if (last.group !== group || last.snapshot !== snapshot || last.lifetime !== lifetime) {
      this.#last = { group, snapshot, tags: NO_TAGS, lifetime }
    }
    return this.#last
  }
}

/**
 * Drops the emptied held frames, in place, so that a holding that keeps being conflated (a snapshot
 * that takes long, a keyed ticker) holds one entry per key rather than one per event. The entry of
 * the client's own last id stays: the hand-off leaves out what precedes it.
 */
function compact(holding: Holding): void {
  holding.frames = holding.frames.filter(
    (held) => held.frame.length > 0 || held.id === holding.lastEventId,
  )
  holding.emptied = 0
}

/** A stream as the broker sees it, from the request until it closes. */
export class Subscriber implements Subscription {
  readonly stream: SSEStream
  readonly topics: readonly string[]
  /** Multi-topic fan-out stamp (see `TopicIndex.visit`). */
  stamp = 0
  /** Whether the transport was asked to follow its topics (`Transport.follow`): unfollowed on leaving. */
  following = false
  readonly #options: SubscriberOptions
  /** `null` once live. */
  #holding: Holding | null = null

  constructor(stream: SSEStream, topics: readonly string[], options: SubscriberOptions) {
    this.stream = stream
    this.topics = topics
    this.#options = options
  }

  /** The group the stream was opened through. */
  get group(): GroupState | undefined {
    return this.#options.group
  }

  /** Sent instead of the reset event, when given. */
  get snapshot(): SnapshotFunction | undefined {
    return this.#options.snapshot
  }

  /** Labels `broker.disconnect()` finds the stream by. */
  get tags(): readonly string[] {
    return this.#options.tags
  }

  /** How long the stream may stay open once open. */
  get lifetime(): StreamLifetime {
    return this.#options.lifetime
  }

  /** Live frames held so far (while holding), including ones replaced or compacted away. */
  get heldCount(): number {
    return this.#holding?.count ?? 0
  }

  /** A `HEAD` request: answered with the head alone, never subscribed, never counted. */
  get head(): boolean {
    return this.stream.request.method === 'HEAD'
  }

  /** Bytes held for the client: the stream's own plus live frames held during a replay. */
  get bufferedBytes(): number {
    return this.stream.bufferedBytes + (this.#holding?.bytes ?? 0)
  }

  /**
   * Sends a live frame, or holds it while the replay is read, under the same bound as what the
   * stream holds for a client that is behind (past it, the stream's `onOverflow` policy applies).
   * With `token` (a keyed event's topic and key, see `conflationToken`), a frame of the same token
   * held or queued and not written yet is replaced: the client gets only the newest. A replacement
   * that does not grow what is held never trips the bound. Returns what happened (see `KeyedResult`):
   * a held frame is not {@link SENT} yet.
   */
  deliver(id: string, frame: Buffer, token?: string): KeyedResult {
    const holding = this.#holding
    const stream = this.stream
    if (holding === null) {
      if (token !== undefined) return stream.sendKeyed(frame, token)
      return stream.sendFrame(frame) ? SENT : 0
    }
    const old = token === undefined ? undefined : holding.keys?.get(token)
    const replaced = old?.frame.length ?? 0
    const held = holding.bytes + stream.behindBytes - replaced
    if (frame.length > replaced && !fitsUnder(held, frame.length, stream.maxBufferedBytes)) {
      stream.overflow()
      return 0
    }
    const entry: Held = { id, frame, token, seq: holding.count++ }
    holding.frames.push(entry)
    holding.bytes += frame.length
    if (token === undefined) return 0
    let keys = holding.keys
    if (keys === undefined) keys = holding.keys = new Map<string, Held>()
    keys.set(token, entry)
    if (old === undefined) return 0
    old.frame = EMPTY_FRAME
    holding.bytes -= replaced
    if (++holding.emptied >= COMPACT_AFTER && holding.emptied * 2 >= holding.frames.length) {
      compact(holding)
    }
    return REPLACED
  }

  /**
   * From now on, live frames are held until {@link stopHolding}. `lastEventId` is where the client
   * resumes from: the hand-off looks for it among the held frames.
   */
  startHolding(lastEventId: string): void {
    this.#holding = {
      frames: [],
      bytes: 0,
      keys: undefined,
      emptied: 0,
      count: 0,
      lastEventId,
    }
  }

  /** Goes live again and returns the frames held meanwhile, in order. */
  stopHolding(): readonly HeldLiveFrame[] {
    const held = this.#holding?.frames ?? []
    this.#holding = null
    return held
  }

  /** The frame of `delivery` this subscriber gets: the one of the first of its topics. */
  frameOf(delivery: Delivery): Buffer {
    const frames = delivery.frames
    if (frames.length === 1) return frames[0]!
    for (let i = 0; i < delivery.topics.length; i++) {
      if (this.topics.includes(delivery.topics[i]!)) return frames[i] ?? frames[0]!
    }
    return frames[0]!
  }
}
