/** What a {@link HistoryRing} orders its entries by. */
export interface Sequenced {
  readonly seq: number
}

/**
 * A bounded FIFO of entries in increasing `seq` order: the history of one topic. It holds at most
 * `limit` entries; pushing onto a full ring displaces the oldest. Its storage doubles as it fills
 * (up to `limit`) and halves as it empties, so a topic with one event holds one slot, not `limit`.
 */
export class HistoryRing<TEntry extends Sequenced> {
  readonly #limit: number
  #slots: Array<TEntry | undefined>
  /** Slot of the oldest entry. */
  #head = 0
  #length = 0

  /** `limit` must be at least 1. */
  constructor(limit: number) {
    this.#limit = limit
    this.#slots = new Array<TEntry | undefined>(1)
  }

  /** Entries held. */
  get length(): number {
    return this.#length
  }

  /** Slots allocated (for tests of the growth policy). */
  get capacity(): number {
    return this.#slots.length
  }

  /** The oldest entry, if any. */
  get oldest(): TEntry | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head]
  }

  /** The newest entry, if any. */
  get newest(): TEntry | undefined {
    return this.#length === 0 ? undefined : this.at(this.#length - 1)
  }

  /** The entry at logical `index` (0 is the oldest). `index` must be below {@link length}. */
  at(index: number): TEntry {
    const slots = this.#slots
    return slots[(this.#head + index) % slots.length]!
  }

  /** Appends `entry`, whose `seq` must exceed the newest's; returns the entry it displaced, if any. */
  push(entry: TEntry): TEntry | undefined {
    const displaced = this.#length === this.#limit ? this.shift() : undefined
    if (this.#length === this.#slots.length) this.#resize(Math.min(this.#length * 2, this.#limit))
    const slots = this.#slots
    slots[(this.#head + this.#length) % slots.length] = entry
    this.#length++
    return displaced
  }

  /** Removes and returns the oldest entry. */
  shift(): TEntry | undefined {
    if (this.#length === 0) return undefined
    const slots = this.#slots
    const entry = slots[this.#head]
    slots[this.#head] = undefined
    this.#head = (this.#head + 1) % slots.length
    this.#length--
    if (this.#length > 0 && this.#length * 4 <= slots.length) this.#resize(slots.length >>> 1)
    return entry
  }

  /** Logical index of the first entry whose `seq` is greater than `seq` ({@link length} if none). */
  firstAfter(seq: number): number {
    let low = 0
    let high = this.#length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.at(mid).seq <= seq) low = mid + 1
      else high = mid
    }
    return low
  }

  #resize(capacity: number): void {
    const slots = new Array<TEntry | undefined>(capacity)
    for (let i = 0; i < this.#length; i++) slots[i] = this.at(i)
    this.#slots = slots
    this.#head = 0
  }
}

/** A position in a {@link HistoryRing}: the logical index of the next entry to read. */
export interface RingCursor<TEntry extends Sequenced> {
  readonly ring: HistoryRing<TEntry>
  next: number
}

/**
 * Visits the entries of several rings from their cursors in `seq` order, each `seq` once (an entry
 * held by several rings is visited once), until `visit` returns `false`. Answers whether it visited
 * everything. It reads one entry at a time, so a caller can stop early without building the rest.
 */
export function mergeRings<TEntry extends Sequenced>(
  cursors: ReadonlyArray<RingCursor<TEntry>>,
  visit: (entry: TEntry) => boolean,
): boolean {
  for (;;) {
    let lowest: TEntry | undefined
    for (const cursor of cursors) {
      if (cursor.next === cursor.ring.length) continue
      const entry = cursor.ring.at(cursor.next)
      if (lowest === undefined || entry.seq < lowest.seq) lowest = entry
    }
    if (lowest === undefined) return true
    for (const cursor of cursors) {
      if (cursor.next < cursor.ring.length && cursor.ring.at(cursor.next).seq === lowest.seq) {
        cursor.next++
      }
    }
    if (!visit(lowest)) return false
  }
}
