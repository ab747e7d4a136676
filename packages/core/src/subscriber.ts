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

/** A stream as the broker sees it, from the request until it closes. */
export class Subscriber implements Subscription {
  readonly stream: SSEStream
  readonly topics: readonly string[]
  readonly group: GroupState | undefined
  /** Sent instead of the reset event, when given. */
  readonly snapshot: SnapshotFunction | undefined
  /** Multi-topic fan-out stamp (see `TopicIndex.visit`). */
  stamp = 0
  /** Labels `broker.disconnect()` finds the stream by (set before it is admitted). */
  tags: readonly string[] = NO_TAGS
  /** How long the stream may stay open once open (set before it is admitted). */
  lifetime: StreamLifetime = UNLIMITED
  /** Live frames held while the replay is read; `null` once live. */
  #held: Held[] | null = null
  #heldBytes = 0
  /** Index in `#held` of the held frame of each conflation token, while holding. */
  #heldKeys: Map<string, number> | undefined

  constructor(
    stream: SSEStream,
    topics: readonly string[],
    group: GroupState | undefined,
    snapshot: SnapshotFunction | undefined,
  ) {
    this.stream = stream
    this.topics = topics
    this.group = group
    this.snapshot = snapshot
  }

  /** Live frames held so far (while holding). */
  get heldCount(): number {
    return this.#held?.length ?? 0
  }

  /** A `HEAD` request: answered with the head alone, never subscribed, never counted. */
  get head(): boolean {
    return this.stream.request.method === 'HEAD'
  }

  /** Bytes held for the client: the stream's own plus live frames held during a replay. */
  get bufferedBytes(): number {
    return this.stream.bufferedBytes + this.#heldBytes
  }

  /**
   * Sends a live frame, or holds it while the replay is read, under the same bound as frames
   * queued on the stream (past it, the stream's `onOverflow` policy applies). Returns whether the
   * frame went to the stream now.
   */
  deliver(id: string, frame: Buffer): boolean {
    const held = this.#held
    const stream = this.stream
    if (held === null) return stream.sendFrame(frame)
    const bytes = this.#heldBytes + stream.bufferedBytes
    if (bytes > 0 && bytes + frame.length > stream.maxBufferedBytes) {
      stream.overflow()
      return false
    }
    held.push({ id, frame, token: undefined })
    this.#heldBytes += frame.length
    return false
  }

  /**
   * {@link deliver} for a keyed event (`token`: its topic and key, see `conflationToken`). A frame
   * of the same token held or queued and not written yet is replaced: the client behind gets only the
   * newest. A replacement that does not grow what is held never trips the bound.
   */
  deliverKeyed(id: string, frame: Buffer, token: string): KeyedResult {
    const held = this.#held
    const stream = this.stream
    if (held === null) return stream.sendKeyed(frame, token)
    let keys = this.#heldKeys
    if (keys === undefined) {
      keys = new Map<string, number>()
      this.#heldKeys = keys
    }
    const at = keys.get(token)
    const old = at === undefined ? undefined : held[at]
    const replaced = old?.frame.length ?? 0
    const bytes = this.#heldBytes + stream.bufferedBytes
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
      this.#heldBytes -= replaced
    }
    keys.set(token, held.push({ id, frame, token }) - 1)
    this.#heldBytes += frame.length
    return old === undefined ? 0 : REPLACED
  }

  /** From now on, live frames are held until {@link stopHolding}. */
  startHolding(): void {
    this.#held = []
    this.#heldBytes = 0
    this.#heldKeys = undefined
  }

  /** Goes live again and returns the frames held meanwhile, in order. */
  stopHolding(): readonly HeldFrame[] {
    const held = this.#held ?? []
    this.#held = null
    this.#heldBytes = 0
    this.#heldKeys = undefined
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
