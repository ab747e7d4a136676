/** One pass's concatenation of `frames`, written to every stream holding the same ones. */
interface SharedChunk {
  readonly frames: readonly Buffer[]
  readonly chunk: Buffer
}

/** Distinct frame sequences remembered per first frame in one pass. */
const SHARED_PER_FIRST_FRAME = 8
/** Passes whose end time is remembered; a stream last flushed before them counts as idle. */
const REMEMBERED_PASSES = 64
/** Shortest hold, in ms (Node's timers do not fire sooner). */
const MIN_HOLD = 1
/** Frames per held stream per ms of hold a held pass must gather for the next hold to be long. */
const GATHER_RATE = 1
/** While holding does not gather, ms between the holds that test whether it gathers again. */
const PROBE_EVERY = 50
/**
 * Bytes a held stream may gather before it is written at the end of the turn instead of waiting for
 * the held pass: the hold's byte budget (see `docs/benchmarks.md` for how it was chosen).
 */
export const HOLD_BYTES = 32 * 1024
/**
 * A frame this large is never held: it goes out at the end of its turn (with whatever waits before
 * it), as it would without coalescing. It fills a write of its own, so holding it would save at most
 * one write, and a held frame waits out whatever else keeps the event loop busy.
 */
export const LARGE_FRAME = HOLD_BYTES / 2

function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Gathers the frames streams get into as few writes as it can, adaptively:
 *
 * - A stream that has not written for as long as the last pass took (the hold: at least 1 ms, at
 *   most `window` ms) is idle: its frames go out one microtask after they are sent, together with
 *   every other frame sent in the same turn (one write per stream per turn, as before coalescing).
 * - A stream that wrote more recently is busy: its frames wait for the next held pass, run by one
 *   timer shared by every stream of this window, a hold away. Events published one per turn then
 *   cost one write per hold per stream instead of one each.
 *
 * At low rates nothing waits; the window only shows when a stream gets events faster than one per
 * window. A long hold pays only while frames come fast: when the last held pass gathered fewer than
 * {@link GATHER_RATE} frames per stream per ms it held (events a pass or so apart, as at 100 events/s
 * to 1,000 clients on 2 cores, where frames that fall due during a pass go out together anyway),
 * holding stops: frames go out in their turn, as the plain loop's would, but for one short hold
 * (1 ms) every {@link PROBE_EVERY} ms of the streams that wrote less than that ago. A held pass idles
 * the thread, so on a saturated one each hold would cost every later event its length. When a short
 * hold gathers at that rate again (events published one per turn), holds are long again. `window` 0
 * turns the held pass off. A stream that gathers {@link HOLD_BYTES} or more, or gets a frame of
 * {@link LARGE_FRAME} or more, is written at the end of the turn ({@link promote}d if it was held),
 * so the hold never piles up a burst nor delays a large frame.
 *
 * Subscribers of a topic usually hold the very same frames in a pass: {@link concat} joins them
 * once and hands every such stream the same chunk (an identity check, so it is always right).
 */
export class FlushPass<TStream> {
  readonly #flush: (stream: TStream) => void
  readonly #window: number
  #immediate: TStream[] = []
  #held: TStream[] = []
  /** `performance.now()` read once in the turn that schedules; `-1` until the turn's first schedule. */
  #turnTime = -1
  /** Number of the pass running, or of the last one. */
  #pass = 0
  /** End time of the last {@link REMEMBERED_PASSES} passes, by pass number. */
  readonly #ends = new Float64Array(REMEMBERED_PASSES)
  /** How long a busy stream's frames wait now: the last pass's duration, within [1, window] ms. */
  #hold = MIN_HOLD
  /** Frames that reached streams while they were held, in the held pass to come. */
  #gathered = 0
  /** When the held pass to come was scheduled (`performance.now()`). */
  #heldSince = 0
  /** Whether the last held pass gathered enough to be worth a long hold (see the class TSDoc). */
  #gathering = true
  /** While not {@link #gathering}: when the next hold may test whether holding gathers again. */
  #probeAt = 0
  #inPass = false
  /** The current pass's concatenations, by first frame; emptied when the pass ends. */
  readonly #shared = new Map<Buffer, SharedChunk[]>()
  readonly #runImmediate = (): void => {
    this.#turnTime = -1
    const streams = this.#immediate
    this.#immediate = []
    this.#run(streams)
  }
  readonly #ended = (pass: number, start: number): void => {
    const end = performance.now()
    this.#ends[pass % REMEMBERED_PASSES] = end
    this.#hold = Math.min(this.#window, Math.max(MIN_HOLD, end - start))
  }
  readonly #runHeld = (): void => {
    const streams = this.#held
    this.#held = []
    const now = performance.now()
    this.#gathering = this.#gathered >= streams.length * (now - this.#heldSince) * GATHER_RATE
    if (!this.#gathering) this.#probeAt = now + PROBE_EVERY
    this.#gathered = 0
    this.#run(streams)
  }

  /**
   * @param flush Writes what one stream holds; called once per scheduled stream per pass.
   * @param window Ms a busy stream's frames may wait to be written together; `0` never waits.
   */
  constructor(flush: (stream: TStream) => void, window = 0) {
    this.#flush = flush
    this.#window = window
  }

  /** The number of the pass running now: a stream keeps it to say when it last wrote. */
  get pass(): number {
    return this.#pass
  }

  /**
   * Adds `stream` to the next pass: at once if it is idle (`lastPass`, the {@link pass} it last
   * wrote in, ended a hold ago or more, or holding has stopped; see the class TSDoc), else to the
   * shared held pass. Returns `true` when it was held. The caller makes sure a stream is added
   * once until it is flushed (or promoted).
   */
  schedule(stream: TStream, lastPass: number): boolean {
    if (this.#turnTime < 0) this.#startTurn()
    // While holding gathers, idle after a hold's worth of quiet. Else nothing is held, but for a
    // short hold every PROBE_EVERY ms, of streams that wrote less than that hold ago.
    const quiet = this.#gathering ? this.#hold : this.#turnTime >= this.#probeAt ? MIN_HOLD : 0
    if (this.#window === 0 || this.#turnTime - this.#endOf(lastPass) >= quiet) {
      this.#immediate.push(stream)
      return false
    }
    if (this.#held.push(stream) === 1) {
      this.#heldSince = this.#turnTime
      setTimeout(this.#runHeld, this.#gathering ? this.#hold : MIN_HOLD)
    }
    return true
  }

  /** A held stream got one more frame: what tells whether holding pays. */
  gathered(): void {
    this.#gathered++
  }

  /**
   * Adds a held stream to the end-of-turn pass as well: it has gathered enough to write now. The held
   * pass later finds nothing left to write for it (flushing twice is harmless).
   */
  promote(stream: TStream): void {
    if (this.#turnTime < 0) this.#startTurn()
    this.#immediate.push(stream)
  }

  #startTurn(): void {
    this.#turnTime = performance.now()
    queueMicrotask(this.#runImmediate)
  }

  /** `frames` joined into one chunk (`bytes` long), shared with other streams of the pass. Bound. */
  readonly concat = (frames: readonly Buffer[], bytes: number): Buffer => {
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

  #endOf(pass: number): number {
    return pass > 0 && pass > this.#pass - REMEMBERED_PASSES
      ? this.#ends[pass % REMEMBERED_PASSES]!
      : Number.NEGATIVE_INFINITY
  }

  #run(streams: TStream[]): void {
    if (streams.length === 0) return
    const pass = ++this.#pass
    const start = performance.now()
    this.#inPass = true
    try {
      for (let i = 0; i < streams.length; i++) this.#flush(streams[i]!)
    } finally {
      this.#inPass = false
      this.#shared.clear()
      // The pass ends once its writes are done, on a tick queued after theirs: writes through
      // `res.write()` (HTTP/2, a wrapped response) reach the socket when Node uncorks it on the next
      // tick, and a web stream's reader (`@hono/node-server`'s) calls `res.write()` in the microtasks
      // the pass's enqueues set off, so the end's tick is queued from a microtask after theirs.
      // Queued at once, it would leave out the socket writes of a pass that only enqueued: they would
      // count as idle time between passes, every stream would look idle, and none would be held.
      queueMicrotask(() => process.nextTick(this.#ended, pass, start))
    }
  }
}
