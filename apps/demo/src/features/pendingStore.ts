import { randomUUID } from 'node:crypto'

/**
 * Work started by a POST and streamed by the GET that follows (a job, a chat reply). `take()`
 * hands an item out once, so a stream is not run twice; unclaimed items expire.
 */
export class PendingStore<TValue> {
  readonly #items = new Map<string, { value: TValue; at: number }>()
  readonly #capacity: number
  readonly #maxAgeMs: number

  constructor(capacity = 200, maxAgeMs = 10 * 60_000) {
    this.#capacity = capacity
    this.#maxAgeMs = maxAgeMs
  }

  /** Stores `value` and returns its new id. */
  add(value: TValue): string {
    const now = Date.now()
    for (const [id, item] of this.#items) {
      if (now - item.at <= this.#maxAgeMs && this.#items.size < this.#capacity) break
      this.#items.delete(id)
    }
    const id = randomUUID().slice(0, 8)
    this.#items.set(id, { value, at: now })
    return id
  }

  /** Removes and returns the item, or `undefined` if it is unknown, taken or expired. */
  take(id: string): TValue | undefined {
    const item = this.#items.get(id)
    if (item === undefined) return undefined
    this.#items.delete(id)
    return Date.now() - item.at <= this.#maxAgeMs ? item.value : undefined
  }
}
