import { KeyedSlots } from '../conflation/keyedSlots.js'

/**
 * The one bound check of every queue that holds frames for a client: whether `adding` bytes fit
 * beside `held` under `max`. A lone frame always fits, however large: what is held then is that
 * frame alone, written as soon as the socket takes it.
 */
export function fitsUnder(held: number, adding: number, max: number): boolean {
  return held <= 0 || held + adding <= max
}

/**
 * The frames a stream has not written yet, in order, with where each conflation token's frame sits
 * (see {@link KeyedSlots}). The stream decides when they count against its bound (see `SSEStream`);
 * this only keeps them.
 */
export class FrameQueue {
  #frames: Buffer[] = []
  #bytes = 0
  #keyed: KeyedSlots | undefined = undefined

  /** Bytes of the frames queued. */
  get bytes(): number {
    return this.#bytes
  }

  /** Appends `frame`. */
  push(frame: Buffer): void {
    const frames = this.#frames
    if (frames.length === 0) this.#keyed?.clear()
    frames.push(frame)
    this.#bytes += frame.length
  }

  /** Puts `frame` first (the `retry:` hint, queued before the stream opened). */
  unshift(frame: Buffer): void {
    this.#frames.unshift(frame)
    this.#bytes += frame.length
  }

  /** Bytes of the queued frame of `token` that {@link pushKeyed} would replace; `0` when none. */
  pendingOf(token: string): number {
    const frames = this.#frames
    if (frames.length === 0 || this.#keyed === undefined) return 0
    const at = this.#keyed.find(token, frames)
    return at === -1 ? 0 : frames[at]!.length
  }

  /**
   * Appends the frame of a keyed event, emptying the queued frame of the same `token` if there is
   * one (it goes last, so ids stay in order). Returns whether it replaced one.
   */
  pushKeyed(frame: Buffer, token: string): boolean {
    const frames = this.#frames
    let keyed = this.#keyed
    if (keyed === undefined) keyed = this.#keyed = new KeyedSlots()
    else if (frames.length === 0) keyed.clear()
    const at = keyed.find(token, frames)
    if (at !== -1) this.#bytes -= keyed.empty(frames, at)
    keyed.set(token, frame, frames.push(frame) - 1)
    this.#bytes += frame.length
    if (at === -1) return false
    keyed.compact(frames)
    return true
  }

  /**
   * Takes every queued frame as one chunk, joined by `concat` (which may keep the array it is given:
   * it is not reused); `undefined` when the queue is empty.
   */
  take(concat: (frames: readonly Buffer[], bytes: number) => Buffer): Buffer | undefined {
    const frames = this.#frames
    const count = frames.length
    if (count === 0) return undefined
    let chunk: Buffer
    if (count === 1) {
      chunk = frames[0]!
      frames.length = 0
    } else {
      chunk = concat(frames, this.#bytes)
      this.#frames = []
    }
    this.#bytes = 0
    return chunk
  }
}
