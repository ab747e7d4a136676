/** Replay frames are written in pages of about this size, each once the socket has taken the last. */
export const REPLAY_PAGE_BYTES = 64 * 1024

const NO_FRAME = Buffer.alloc(0)

/**
 * A replay not fully written yet: its frames, in id order, handed out in pages of whole frames of
 * about {@link REPLAY_PAGE_BYTES} (at least one frame each). The frames are the history's own
 * buffers, or copies a transport made (Redis does): each is let go once handed out, so a client
 * that does not read holds one page plus what Node buffers.
 */
export class ReplayPages {
  readonly #frames: Buffer[]
  #at = 0

  /** Takes `frames` over (they must not be empty). */
  constructor(frames: Buffer[]) {
    this.#frames = frames
  }

  /** `true` once every frame has been handed out. */
  get done(): boolean {
    return this.#at === this.#frames.length
  }

  /** The next page (only while not {@link done}). */
  next(): Buffer {
    const frames = this.#frames
    const start = this.#at
    let end = start + 1
    let bytes = frames[start]!.length
    while (end < frames.length && bytes + frames[end]!.length <= REPLAY_PAGE_BYTES) {
      bytes += frames[end]!.length
      end++
    }
    this.#at = end
    const page = end - start === 1 ? frames[start]! : Buffer.concat(frames.slice(start, end), bytes)
    frames.fill(NO_FRAME, start, end)
    return page
  }
}
