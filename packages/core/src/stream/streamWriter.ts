import { type KeyedResult, REPLACED, SENT } from '../conflation/keyedSlots.js'
import type { SSEStreamOptions } from '../types.js'
import {
  type BodyTarget,
  bodyTarget,
  ENDED,
  SOCKET_BEHIND,
  WRITTEN,
  writeBody,
} from './bodyWriter.js'
import { HOLD_BYTES, LARGE_FRAME } from './flushPass.js'
import { FrameQueue, fitsUnder } from './frameQueue.js'
import { ReplayPages } from './replayPages.js'
import type { RawResponse } from './responseHead.js'
import { type StreamSettings, StreamSettingsCache } from './streamSettings.js'

/** What a {@link StreamWriter} needs of the stream it writes for. */
export interface WriterHost {
  /** `true` while frames may go out. */
  readonly isOpen: boolean
  /** A frame did not fit under the bound: the stream applies its `onOverflow` policy. */
  writerOverflowed(): void
  /** The socket stayed blocked through two keep-alive sweeps: the stream is cut. */
  writerStalled(): void
  /** The app ended the response itself: nothing may follow, the stream is over. */
  writerEnded(): void
  /** The client read everything handed over: a `pipe()` waiting for room may go on. */
  writerDrained(): void
}

/** Where a writer with frames to write waits: in no pass, the end-of-turn pass, or the held pass. */
const UNSCHEDULED = 0
const IN_TURN = 1
const HELD = 2

/** Keep-alive sweeps a stream may stay blocked with no `'drain'` before it is ended. */
const STALL_TICKS = 2
const KEEP_ALIVE_FRAME = Buffer.from(':\n\n')

/** The writer waiting for `'drain'` on each socket or response (only while its client is behind). */
const draining = new WeakMap<object, StreamWriter>()

/**
 * The write path of one stream: its queue, the flush passes it joins, the replay pages it writes
 * first, and whether its client is behind.
 *
 * - Frames go out at the end of the turn, or with the held pass when the stream wrote moments ago
 *   (adaptive coalescing, see `FlushPass`), or at the end of the turn once 32 KiB wait or a frame of
 *   16 KiB or more comes. Frames that wait there are our choice and count against no bound.
 * - The client is behind only while Node holds bytes it could not send and `'drain'` has not come.
 *   Then frames queue, and `maxBufferedBytes` caps the queue plus the write Node holds unsent; a keyed
 *   frame that grows the queue is checked against the queue alone (see {@link sendKeyed}).
 * - Nothing waits on `'drain'` forever: two keep-alive sweeps without one end the stream.
 */
export class StreamWriter {
  static #flushInPass(this: void, writer: StreamWriter): void {
    writer.flush()
  }
  static readonly #settingsCache = new StreamSettingsCache<StreamWriter>(StreamWriter.#flushInPass)

  /** What the stream reads from its options (already checked), shared between streams. */
  readonly settings: StreamSettings<StreamWriter>
  readonly #host: WriterHost
  readonly #res: RawResponse
  /** Frames not written yet; created by the first one. */
  #queue: FrameQueue | undefined = undefined
  /** The client is behind: Node holds bytes it could not send, and `'drain'` has not come yet. */
  #behind = false
  /**
   * While behind, the size of the write that found the socket full: what Node holds for the client
   * beyond its own buffer (below its high-water mark, 16 KiB on Node 20 and 64 KiB from Node 22,
   * Node takes writes without pushing back).
   */
  #unsent = 0
  #scheduled = UNSCHEDULED
  /** The {@link FlushPass.pass} this writer last wrote in: recent means busy, so frames may wait. */
  #lastPass = 0
  /** Where the body goes; set by the first write. */
  #target: BodyTarget | undefined = undefined
  /** The replay still being written; it goes out before the queue. */
  #replay: ReplayPages | undefined = undefined
  /** Keep-alive sweeps the socket has stayed blocked for, with no `'drain'`. */
  #stalledTicks = 0

  constructor(host: WriterHost, res: RawResponse, options: SSEStreamOptions) {
    this.#host = host
    this.#res = res
    this.settings = StreamWriter.#settingsCache.of(options)
  }

  /** Bytes held for the client: queued (or waiting for a coalesced write) plus the write Node holds unsent. */
  get bufferedBytes(): number {
    return (this.#queue?.bytes ?? 0) + this.#unsent
  }

  /** While the client is behind, what is queued plus the write Node holds unsent; else `0`. */
  get behindBytes(): number {
    return this.#behind ? (this.#queue?.bytes ?? 0) + this.#unsent : 0
  }

  /** `true` while the client is behind. */
  get behind(): boolean {
    return this.#behind
  }

  /** `true` while a replay is still being written. */
  get replaying(): boolean {
    return this.#replay !== undefined
  }

  /** Queues `frame` before everything else (the `retry:` hint, as the stream opens). */
  sendFirst(frame: Buffer): void {
    this.#ensureQueue().unshift(frame)
  }

  /** The stream has opened: what was queued meanwhile goes out. */
  opened(): void {
    if ((this.#queue?.bytes ?? 0) > 0 || this.#replay !== undefined) this.#schedule()
  }

  /** Queues `frame`; `false` when it did not fit (the host applied its policy). */
  send(frame: Buffer): boolean {
    const queue = this.#ensureQueue()
    if (this.#behind && !this.#fits(queue.bytes + this.#unsent, frame.length)) {
      this.#host.writerOverflowed()
      return false
    }
    queue.push(frame)
    if (this.#host.isOpen && !this.#behind) this.#schedule(frame.length)
    return true
  }

  /**
   * Queues the frame of a keyed event, replacing the queued frame of the same `token` wherever it
   * waits. While the client is behind, only a frame that grows the queue can trip the bound, and only
   * when the queue itself would pass it: what Node already took (one earlier write) cannot be replaced.
   */
  sendKeyed(frame: Buffer, token: string): KeyedResult {
    const queue = this.#ensureQueue()
    if (this.#behind) {
      const replaced = queue.pendingOf(token)
      if (frame.length > replaced && !this.#fits(queue.bytes - replaced, frame.length)) {
        this.#host.writerOverflowed()
        return 0
      }
    }
    const replaced = queue.pushKeyed(frame, token)
    if (this.#host.isOpen && !this.#behind) this.#schedule(frame.length)
    return replaced ? SENT | REPLACED : SENT
  }

  /** Writes `frames` (a replay, taken over) before anything queued, a page at a time. */
  sendReplay(frames: Buffer[]): void {
    this.#replay = new ReplayPages(frames)
    if (this.#host.isOpen && !this.#behind) this.#schedule()
  }

  /**
   * What a closing stream still writes: the queue as one chunk, or nothing when the client is behind
   * (it is cut) or a replay is unfinished (queued frames would skip what it still had to send).
   */
  takeLast(): Buffer | undefined {
    if (this.#behind || this.#replay !== undefined) return undefined
    return this.#take()
  }

  /** One keep-alive sweep: a comment to an idle client, a count towards the stall limit otherwise. */
  keepAliveTick(): void {
    if (this.#behind) {
      if (++this.#stalledTicks >= STALL_TICKS) this.#host.writerStalled()
    } else if ((this.#queue?.bytes ?? 0) === 0 && this.#replay === undefined) {
      this.#write(KEEP_ALIVE_FRAME)
    }
  }

  /** Lets go of everything queued (the stream has closed). */
  release(): void {
    this.#queue = undefined
    this.#replay = undefined
    this.#unsent = 0
  }

  /** Writes the replay pages, then the queue, while the socket takes them. Called by the flush pass. */
  flush(): void {
    this.#scheduled = UNSCHEDULED
    if (!this.#host.isOpen || this.#behind) return
    let replay = this.#replay
    while (replay !== undefined) {
      const page = replay.next()
      if (replay.done) this.#replay = undefined
      this.#write(page)
      if (this.#behind || !this.#host.isOpen) return
      replay = this.#replay
    }
    const chunk = this.#take()
    if (chunk === undefined) return
    this.#lastPass = this.settings.pass.pass
    this.#write(chunk)
  }

  #ensureQueue(): FrameQueue {
    if (this.#queue === undefined) this.#queue = new FrameQueue()
    return this.#queue
  }

  /** Every queued frame as one chunk (shared with other streams of the pass holding the same). */
  #take(): Buffer | undefined {
    return this.#queue?.take(this.settings.pass.concat)
  }

  #fits(held: number, adding: number): boolean {
    return fitsUnder(held, adding, this.settings.maxBuffered)
  }

  #write(chunk: Buffer): void {
    const res = this.#res
    let target = this.#target
    if (target === undefined) target = this.#target = bodyTarget(res, this.settings.directWrites)
    const outcome = writeBody(res, target, chunk)
    if (outcome === WRITTEN) return
    if (outcome === ENDED) {
      this.#host.writerEnded()
      return
    }
    // Listened to only while behind: an idle stream holds no 'drain' listener.
    const emitter = outcome === SOCKET_BEHIND ? target! : res
    draining.set(emitter, this)
    emitter.on('drain', StreamWriter.#onDrain)
    this.#behind = true
    this.#unsent = chunk.length
  }

  /** Joins a pass: the held one while busy, unless `frameBytes` or the queue is large enough to write now. */
  #schedule(frameBytes = 0): void {
    const scheduled = this.#scheduled
    if (scheduled === IN_TURN) return
    const pass = this.settings.pass
    const large = frameBytes >= LARGE_FRAME || (this.#queue?.bytes ?? 0) >= HOLD_BYTES
    if (scheduled === UNSCHEDULED) {
      if (large) {
        this.#scheduled = IN_TURN
        pass.promote(this)
      } else {
        this.#scheduled = pass.schedule(this, this.#lastPass) ? HELD : IN_TURN
      }
      return
    }
    pass.gathered()
    if (large) {
      this.#scheduled = IN_TURN
      pass.promote(this)
    }
  }

  static #onDrain(this: { removeListener(event: 'drain', listener: () => void): unknown }): void {
    this.removeListener('drain', StreamWriter.#onDrain)
    const writer = draining.get(this)
    draining.delete(this)
    if (writer === undefined || !writer.#host.isOpen) return
    writer.#behind = false
    writer.#unsent = 0
    writer.#stalledTicks = 0
    writer.flush()
    if (!writer.#behind) writer.#host.writerDrained()
  }
}
