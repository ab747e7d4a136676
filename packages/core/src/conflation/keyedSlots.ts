/** What sending a keyed frame did, as bit flags: {@link SENT}, {@link REPLACED}, both or neither. */
export type KeyedResult = number
/** The frame went to the stream (queued or written), not held nor dropped. */
export const SENT = 1
/** A pending frame of the same topic and key was replaced (conflated). */
export const REPLACED = 2

/** What an emptied slot holds: written as nothing, in place, so later slots keep their indexes. */
export const EMPTY_FRAME: Buffer = Buffer.alloc(0)

/** Empty slots tolerated before a queue is compacted (and only once they are most of it). */
const COMPACT_AFTER = 32

interface Slot {
  frame: Buffer
  index: number
}

/**
 * Where the pending frame of each conflation token (topic and key) sits in a queue of frames that a
 * stream has not written yet. The queue belongs to the stream; this only points into it. A slot is
 * trusted only while the queue still holds the very same frame at its index, so a queue the stream
 * flushed, swapped or emptied meanwhile can never be written into by mistake: the frame is then
 * simply queued.
 *
 * Replacing a frame empties its slot (see {@link EMPTY_FRAME}) rather than overwriting it: the new
 * frame goes at the end, so event ids stay in order on the wire. Empty slots are squeezed out once
 * they are most of the queue, so a queue that keeps being conflated does not grow by a slot per event.
 */
export class KeyedSlots {
  readonly #slots = new Map<string, Slot>()
  #empty = 0

  /** Forgets every slot (the queue was flushed). */
  clear(): void {
    if (this.#slots.size > 0) this.#slots.clear()
    this.#empty = 0
  }

  /** Index in `queue` of the pending frame of `token`, or `-1` when it has none. */
  find(token: string, queue: readonly Buffer[]): number {
    const slot = this.#slots.get(token)
    if (slot === undefined) return -1
    return queue[slot.index] === slot.frame ? slot.index : -1
  }

  /** Empties slot `index` of `queue` (its frame is being replaced) and returns the bytes it held. */
  empty(queue: Buffer[], index: number): number {
    const bytes = queue[index]!.length
    queue[index] = EMPTY_FRAME
    this.#empty++
    return bytes
  }

  /** Records that the pending frame of `token` is `frame`, at `index` of the queue. */
  set(token: string, frame: Buffer, index: number): void {
    const slot = this.#slots.get(token)
    if (slot === undefined) this.#slots.set(token, { frame, index })
    else {
      slot.frame = frame
      slot.index = index
    }
  }

  /** Squeezes the empty slots out of `queue`, in place, once they are most of it. */
  compact(queue: Buffer[]): void {
    if (this.#empty < COMPACT_AFTER || this.#empty * 2 < queue.length) return
    const moved = new Int32Array(queue.length)
    let kept = 0
    for (let i = 0; i < queue.length; i++) {
      const frame = queue[i]!
      moved[i] = kept
      if (frame.length > 0) queue[kept++] = frame
    }
    queue.length = kept
    this.#empty = 0
    for (const [token, slot] of this.#slots) {
      const index = moved[slot.index]
      if (index !== undefined && queue[index] === slot.frame) slot.index = index
      else this.#slots.delete(token)
    }
  }
}
