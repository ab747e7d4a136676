/** One pass's concatenation of `frames`, written to every stream holding the same ones. */
interface SharedChunk {
  readonly frames: readonly Buffer[]
  readonly chunk: Buffer
}

/** Distinct frame sequences remembered per first frame in one pass. */
const SHARED_PER_FIRST_FRAME = 8

function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Frames written in the same tick go out together: a stream that gets a frame joins the pass,
 * and one microtask later every stream of the pass flushes what it holds in one write.
 *
 * Subscribers of a topic usually hold the very same frames in a pass: {@link concat} joins them
 * once and hands every such stream the same chunk (an identity check, so it is always right).
 */
export class FlushPass<TStream> {
  readonly #flush: (stream: TStream) => void
  #dirty: TStream[] = []
  #inPass = false
  /** The current pass's concatenations, by first frame; emptied when the pass ends. */
  readonly #shared = new Map<Buffer, SharedChunk[]>()
  readonly #run = (): void => {
    const dirty = this.#dirty
    this.#dirty = []
    this.#inPass = true
    try {
      for (let i = 0; i < dirty.length; i++) this.#flush(dirty[i]!)
    } finally {
      this.#inPass = false
      this.#shared.clear()
    }
  }

  /** @param flush Writes what one stream holds; called once per scheduled stream per pass. */
  constructor(flush: (stream: TStream) => void) {
    this.#flush = flush
  }

  /** Adds `stream` to the next pass (the caller makes sure it is added once per pass). */
  schedule(stream: TStream): void {
    if (this.#dirty.push(stream) === 1) queueMicrotask(this.#run)
  }

  /** `frames` joined into one chunk (`bytes` long), shared with other streams of the pass. */
  concat(frames: readonly Buffer[], bytes: number): Buffer {
    if (!this.#inPass) return Buffer.concat(frames, bytes)
    let entries = this.#shared.get(frames[0]!)
    if (entries !== undefined) {
      for (let i = 0; i < entries.length; i++) {
        if (sameFrames(entries[i]!.frames, frames)) return entries[i]!.chunk
      }
    }
    const chunk = Buffer.concat(frames, bytes)
    if (entries === undefined) {
      entries = []
      this.#shared.set(frames[0]!, entries)
    }
    if (entries.length < SHARED_PER_FIRST_FRAME) entries.push({ frames, chunk })
    return chunk
  }
}
