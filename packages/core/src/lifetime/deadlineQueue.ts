import { MAX_TIMER_MS } from '../options/options.js'

interface Node<TItem> {
  readonly item: TItem
  /** When the item is due (`Date.now()` time). */
  readonly at: number
  /** The delay it was added with. */
  readonly after: number
  /** Its place in the heap. */
  index: number
}

/**
 * Items that fall due at a time of their own, on ONE timer set for the earliest deadline (a binary
 * heap), instead of a timer per item: at 10k streams, per-stream timers cost memory and wake-ups.
 * Adding and deleting are O(log n). The timer is unref'd (it never holds a process open) and
 * cleared when the queue is empty.
 */
export class DeadlineQueue<TItem> {
  readonly #heap: Array<Node<TItem>> = []
  readonly #nodes = new Map<TItem, Node<TItem>>()
  readonly #expire: (item: TItem, after: number) => void
  #timer: NodeJS.Timeout | undefined
  /** When the timer fires; `Infinity` without one. */
  #timerAt = Number.POSITIVE_INFINITY

  /** `expire` is called with each item once it falls due (it has left the queue by then). */
  constructor(expire: (item: TItem, after: number) => void) {
    this.#expire = expire
  }

  /** Items waiting. */
  get size(): number {
    return this.#heap.length
  }

  /** `true` while the queue's timer is set. */
  get armed(): boolean {
    return this.#timer !== undefined
  }

  /** Makes `item` due `after` ms from now (replacing a deadline it had). */
  add(item: TItem, after: number): void {
    this.delete(item)
    const node: Node<TItem> = { item, at: Date.now() + after, after, index: this.#heap.length }
    this.#heap.push(node)
    this.#nodes.set(item, node)
    this.#up(node.index)
    if (node.at < this.#timerAt) this.#arm()
  }

  /** Forgets `item`'s deadline, if it has one. */
  delete(item: TItem): void {
    const node = this.#nodes.get(item)
    if (node === undefined) return
    this.#nodes.delete(item)
    this.#removeAt(node.index)
    // An earlier timer than needed just finds nothing due and re-arms; an empty queue holds none.
    if (this.#heap.length === 0) this.#disarm()
  }

  /** Forgets every deadline and stops the timer. */
  clear(): void {
    this.#heap.length = 0
    this.#nodes.clear()
    this.#disarm()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = Date.now()
    const heap = this.#heap
    while (heap.length > 0 && heap[0]!.at <= now) {
      const node = heap[0]!
      this.#nodes.delete(node.item)
      this.#removeAt(0)
      this.#expire(node.item, node.after)
    }
    if (heap.length > 0 && this.#timer === undefined) this.#arm()
  }

  #arm(): void {
    const head = this.#heap[0]
    if (head === undefined) return
    this.#disarm()
    const delay = Math.min(Math.max(head.at - Date.now(), 1), MAX_TIMER_MS)
    this.#timerAt = Date.now() + delay
    this.#timer = setTimeout(this.#fire, delay)
    this.#timer.unref()
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
  }

  #removeAt(index: number): void {
    const heap = this.#heap
    const last = heap.pop()!
    if (index === heap.length) return
    heap[index] = last
    last.index = index
    this.#up(index)
    this.#down(last.index)
  }

  #up(index: number): void {
    const heap = this.#heap
    const node = heap[index]!
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = heap[parentIndex]!
      if (parent.at <= node.at) break
      heap[index] = parent
      parent.index = index
      index = parentIndex
    }
    heap[index] = node
    node.index = index
  }

  #down(index: number): void {
    const heap = this.#heap
    const node = heap[index]!
    const count = heap.length
    for (;;) {
      const left = 2 * index + 1
      if (left >= count) break
      const right = left + 1
      const child = right < count && heap[right]!.at < heap[left]!.at ? right : left
      const next = heap[child]!
      if (next.at >= node.at) break
      heap[index] = next
      next.index = index
      index = child
    }
    heap[index] = node
    node.index = index
  }
}
