import type { SnapshotFunction } from './brokerOptions.js'
import { EMPTY_FRAME, type KeyedResult, REPLACED } from './keyedSlots.js'
import type { HeldFrame } from './replayHandoff.js'
import type { SSEStream } from './sseStream.js'
import type { GroupState } from './streamGroup.js'
import { type StreamLifetime, UNLIMITED } from './streamLifetime.js'
import type { Subscription } from './topicIndex.js'
import type { Delivery } from './types.js'

const NO_TAGS: readonly string[] = []

/** A held live frame; emptied in place when a newer one of its topic and key replaces it. */
interface Held extends HeldFrame {
  frame: Buffer
}

/** Live frames held while the replay is read. */
interface Holding {
  readonly frames: Held[]
  bytes: number
  /** Index in `frames` of the held frame of each conflation token. */
  keys: Map<string, number> | undefined
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

/** A stream as the broker sees it, from the request until it closes. */
export class Subscriber implements Subscription {
  readonly stream: SSEStream
  readonly topics: readonly string[]
  /** Multi-topic fan-out stamp (see `TopicIndex.visit`). */
  stamp = 0
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

  /** Live frames held so far (while holding). */
  get heldCount(): number {
    return this.#holding?.frames.length ?? 0
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
   * Sends a live frame, or holds it while the replay is read, under the same bound as frames
   * queued on the stream (past it, the stream's `onOverflow` policy applies). Returns whether the
   * frame went to the stream now.
   */
  deliver(id: string, frame: Buffer): boolean {
    const holding = this.#holding
    const stream = this.stream
    if (holding === null) return stream.sendFrame(frame)
    const bytes = holding.bytes + stream.bufferedBytes
    if (bytes > 0 && bytes + frame.length > stream.maxBufferedBytes) {
      stream.overflow()
      return false
    }
    holding.frames.push({ id, frame, token: undefined })
    holding.bytes += frame.length
    return false
  }

  /**
   * {@link deliver} for a keyed event (`token`: its topic and key, see `conflationToken`). A frame
   * of the same token held or queued and not written yet is replaced: the client behind gets only the
   * newest. A replacement that does not grow what is held never trips the bound.
   */
  deliverKeyed(id: string, frame: Buffer, token: string): KeyedResult {
    const holding = this.#holding
    const stream = this.stream
    if (holding === null) return stream.sendKeyed(frame, token)
    let keys = holding.keys
    if (keys === undefined) {
      keys = new Map<string, number>()
      holding.keys = keys
    }
    const held = holding.frames
    const at = keys.get(token)
    const old = at === undefined ? undefined : held[at]
    const replaced = old?.frame.length ?? 0
    const bytes = holding.bytes + stream.bufferedBytes
    if (
      bytes > 0 &&
      bytes - replaced + frame.length > stream.maxBufferedBytes &&
      (old === undefined || frame.length > replaced)
    ) {
      stream.overflow()
      return 0
    }
    if (old !== undefined) {
      // Emptied in place: its id still tells the hand-off where the client's last event was.
      old.frame = EMPTY_FRAME
      holding.bytes -= replaced
    }
    keys.set(token, held.push({ id, frame, token }) - 1)
    holding.bytes += frame.length
    return old === undefined ? 0 : REPLACED
  }

  /** From now on, live frames are held until {@link stopHolding}. */
  startHolding(): void {
    this.#holding = { frames: [], bytes: 0, keys: undefined }
  }

  /** Goes live again and returns the frames held meanwhile, in order. */
  stopHolding(): readonly HeldFrame[] {
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
