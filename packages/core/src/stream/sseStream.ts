import { type KeyedResult, KeyedSlots, REPLACED, SENT } from '../conflation/keyedSlots.js'
import {
  type BodySocket,
  carriesBody,
  chunkedBodySocket,
  writeChunk,
} from '../internals/chunkedSocketBody.js'
import { streamOptionsValidator } from '../options/options.js'
import type { SSEEvent, SSERequest, SSEResponse, SSEStreamOptions } from '../types.js'
import { readLastEventId } from '../wire/lastEventId.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { HOLD_BYTES } from './flushPass.js'
import { keepAlive } from './keepAlive.js'
import { type PipeGate, pipeSource, type SSESourceValue } from './pipeSource.js'
import { ReplayPages } from './replayPages.js'
import { isQueued, type RawResponse, writeRefusal, writeSSEHead } from './responseHead.js'
import { StreamExtras } from './streamExtras.js'
import { type StreamSettings, StreamSettingsCache } from './streamSettings.js'

export type { SSESourceValue } from './pipeSource.js'

/** Receives what happens to a stream that a broker owns. */
export interface StreamOwner {
  streamClosed(stream: SSEStream): void
  frameDropped(stream: SSEStream): void
  /** `duringReplay`: the client fell behind while its replay was still being written. */
  slowDisconnect(stream: SSEStream, duringReplay: boolean): void
  /** A stream that waited behind another response on its connection got the connection. */
  streamReady(stream: SSEStream): void
}

const PENDING = 0
const OPEN = 1
const CLOSED = 2

/** Where a stream with frames to write waits: in no pass, the end-of-turn pass, or the held pass. */
const UNSCHEDULED = 0
const IN_TURN = 1
const HELD = 2

/** Keep-alive sweeps a stream may stay blocked with no `'drain'` before it is ended. */
const STALL_TICKS = 2
const KEEP_ALIVE_FRAME = Buffer.from(':\n\n')
const kStream = Symbol('sse.stream')

type Tagged = RawResponse & { [kStream]?: SSEStream }

/** The stream waiting for `'drain'` on each socket it writes to directly (only while behind). */
const drainingSockets = new WeakMap<BodySocket, SSEStream>()

/** The owner of the stream being constructed by {@link ownedStream}. */
let constructingOwner: StreamOwner | undefined

/**
 * A stream that stays pending until its owner (a broker) opens it, and reports to the owner what
 * happens to it. Options are the owner's to check.
 */
export function ownedStream(
  request: SSERequest,
  response: SSEResponse,
  options: SSEStreamOptions,
  owner: StreamOwner,
): SSEStream {
  constructingOwner = owner
  try {
    return new SSEStream(request, response, options)
  } finally {
    constructingOwner = undefined
  }
}

/**
 * One Server-Sent Events response over Node's `ServerResponse` or `Http2ServerResponse`.
 *
 * Frames written in the same tick go out in one write; a stream that wrote less than
 * `coalesceWindow` ms ago gathers its frames for one shared flush at most that far away (or until
 * it holds 32 KiB). What waits there is our choice, not the client's fault, and never counts
 * against `maxBufferedBytes`. A client is behind only while its socket pushes back: Node could not
 * send all it was given and has not emitted `'drain'`. Then frames queue, and what is queued plus
 * what Node still holds unsent may reach `maxBufferedBytes`; past that the `onOverflow` policy
 * applies. Nothing waits on `'drain'` forever: a stream whose socket stays blocked for two
 * keep-alive sweeps is ended.
 *
 * @example
 * http.createServer((req, res) => {
 *   const stream = new SSEStream(req, res, { retry: 2000 })
 *   stream.send({ event: 'hello', data: 'world' })
 * })
 */
export class SSEStream {
  static #flushInPass(this: void, stream: SSEStream): void {
    stream.#flush()
  }
  static readonly #settingsCache = new StreamSettingsCache<SSEStream>(SSEStream.#flushInPass)

  /** The request this stream answers. */
  readonly request: SSERequest
  /** The response this stream writes to. */
  readonly response: SSEResponse
  /**
   * The client's last event id, from the `Last-Event-ID` header or the `lastEventId` query
   * parameter; `undefined` when absent, over 256 characters, or containing control characters.
   */
  readonly lastEventId: string | undefined

  // Memory per idle stream counts at 10k connections: fields every stream shares live in
  // `#settings`, and rarely used ones in `#extras`, created when first needed.
  #state = PENDING
  /** Frames not written yet; created by the first one. */
  #out: Buffer[] | undefined = undefined
  #outBytes = 0
  /** The client is behind: Node holds bytes it could not send, and `'drain'` has not come yet. */
  #congested = false
  #queued = UNSCHEDULED
  readonly #settings: StreamSettings<SSEStream>
  /** The {@link FlushPass.pass} this stream last wrote in: recent means busy, so frames may wait. */
  #lastPass = 0
  #owner: StreamOwner | undefined
  /** The socket the body goes to as HTTP/1.1 chunks, `null` for `res.write()`; set by the first write. */
  #socket: BodySocket | null | undefined = undefined
  #extras: StreamExtras | undefined = undefined

  /**
   * Opens the stream at once: status 200 and the SSE headers are flushed, keeping headers the app
   * set before. A `HEAD` request gets the head and an ended body; a request pipelined behind an
   * unfinished response on its connection opens when it gets the connection. Throws an
   * {@link SSEError} `INVALID_OPTION` for bad options, and Node's error for a header it refuses.
   */
  constructor(request: SSERequest, response: SSEResponse, options: SSEStreamOptions = {}) {
    const owner = constructingOwner
    constructingOwner = undefined
    if (owner === undefined) streamOptionsValidator.assert(options)
    this.request = request
    this.response = response
    this.lastEventId = readLastEventId(request)
    this.#settings = SSEStream.#settingsCache.of(options)
    this.#owner = owner
    this.#res[kStream] = this
    this.#res.on('close', SSEStream.#onResponseClose)
    if (owner !== undefined) return
    if (request.method === 'HEAD') this.answerHead()
    else if (this.queued) this.awaitConnection()
    else this.open()
  }

  /** `true` once the stream has ended, for whatever reason. */
  get isClosed(): boolean {
    return this.#state === CLOSED
  }

  /** `true` while the headers are written and frames can go out. */
  get isOpen(): boolean {
    return this.#state === OPEN
  }

  /** Frames this stream discarded under the `drop` overflow policy. */
  get dropped(): number {
    return this.#extras?.dropped ?? 0
  }

  /** Bytes held for this client: queued here (or waiting for a coalesced write) plus those Node holds unsent. */
  get bufferedBytes(): number {
    return (
      this.#outBytes + (this.#state !== OPEN || this.#socket === undefined ? 0 : this.#unsent())
    )
  }

  /**
   * Bytes that show the client is behind: while its socket pushes back, what is queued plus what Node
   * holds unsent; `0` otherwise (frames waiting for a coalesced write are not the client's fault).
   * What `maxBufferedBytes` bounds.
   * @internal
   */
  get behindBytes(): number {
    return this.#congested ? this.#outBytes + this.#unsent() : 0
  }

  /** The bound on {@link bufferedBytes} past which the `onOverflow` policy applies. */
  get maxBufferedBytes(): number {
    return this.#settings.maxBuffered
  }

  /** Aborted when the client leaves or the stream closes. */
  get signal(): AbortSignal {
    const extras = this.#ensureExtras()
    if (extras.controller === undefined) {
      extras.controller = new AbortController()
      if (this.#state === CLOSED) extras.controller.abort()
    }
    return extras.controller.signal
  }

  /** Resolves when the stream has closed, for whatever reason. Never rejects. */
  get closed(): Promise<void> {
    const extras = this.#ensureExtras()
    if (extras.closed === undefined) {
      if (this.#state === CLOSED) extras.closed = Promise.resolve()
      else extras.closed = new Promise((resolve) => (extras.resolveClosed = resolve))
    }
    return extras.closed
  }

  /** The response, with the tag that leads its listeners back to this stream. */
  get #res(): Tagged {
    return this.response as unknown as Tagged
  }

  #ensureExtras(): StreamExtras {
    if (this.#extras === undefined) this.#extras = new StreamExtras()
    return this.#extras
  }

  /**
   * `true` while an HTTP/1.1 request waits behind an earlier response on its connection (pipelining):
   * it cannot be answered before that one ends.
   * @internal
   */
  get queued(): boolean {
    return isQueued(this.#res, this.request)
  }

  /**
   * Tells the owner (`streamReady`) once a {@link queued} stream gets its connection. Nothing is held
   * meanwhile: if the connection closes first, the request and response are simply dropped.
   * @internal
   */
  awaitConnection(): void {
    this.#res.once('socket', SSEStream.#onSocket)
  }

  /**
   * Writes the status and headers. Streams created without an owner open in the constructor; a
   * broker calls this once it has authorized the stream. Throws (an invalid header, say) with the
   * stream still pending, so it can be refused.
   * @internal
   */
  open(): void {
    if (this.#state !== PENDING) return
    const res = this.#res
    if (res.destroyed || res.writableEnded) {
      this.#release()
      return
    }
    const settings = this.#settings
    writeSSEHead(res, this.request, settings.headers)
    this.#state = OPEN
    if (settings.keepAlive > 0) keepAlive.add(settings.keepAlive, this)
    if (settings.retry !== undefined) {
      const hint = Buffer.from(`retry: ${settings.retry}\n\n`)
      if (this.#out === undefined) this.#out = [hint]
      else this.#out.unshift(hint)
      this.#outBytes += hint.length
    }
    if (this.#outBytes > 0) this.#schedule()
    this.#wake()
  }

  /**
   * Answers the request with a plain-text refusal instead of a stream (before any SSE byte; a
   * response that has already started is cut instead). Never throws.
   * @internal
   */
  refuse(status: number, message: string, headers?: Readonly<Record<string, string>>): void {
    if (this.#state !== PENDING) return
    this.#state = CLOSED
    writeRefusal(this.#res, status, message, headers)
    this.#release()
  }

  /**
   * Answers a `HEAD` request: the SSE status and headers, and an ended body. No subscription.
   * Throws like {@link open} for a header Node refuses, with the stream still pending.
   * @internal
   */
  answerHead(): void {
    if (this.#state !== PENDING) return
    const res = this.#res
    if (!res.destroyed && !res.writableEnded) {
      writeSSEHead(res, this.request, this.#settings.headers)
      res.end()
    }
    this.#release()
  }

  /**
   * Writes `frames` (a replay, in id order) before anything queued, in pages (see
   * {@link ReplayPages}), each once the socket has taken the previous one. The frames are the
   * history's own buffers: a client that does not read holds one page plus what Node buffers.
   * The stream takes `frames` over and lets go of each frame once written.
   * @internal
   */
  sendReplay(frames: Buffer[]): void {
    if (this.#state === CLOSED || frames.length === 0) return
    this.#ensureExtras().replay = new ReplayPages(frames)
    if (this.#state === OPEN && !this.#congested) this.#schedule()
  }

  /**
   * Applies the `onOverflow` policy as if a frame had not fit (the broker holds live frames for a
   * stream whose replay is being read, under the same bound). Returns `false`.
   * @internal
   */
  overflow(): boolean {
    if (this.#state === CLOSED) return false
    return this.#overflow()
  }

  /**
   * Sends one event. Returns `false` (and writes nothing) when the stream is closed or the frame
   * was dropped; throws an {@link SSEError} for an event that cannot be serialized.
   */
  send(event: SSEEvent): boolean {
    if (this.#state === CLOSED) return false
    return this.sendFrame(encodeEvent(event))
  }

  /** Sends a `:` comment line (ignored by clients, keeps proxies from timing out). */
  comment(text = ''): boolean {
    if (this.#state === CLOSED) return false
    return this.sendFrame(encodeEvent({ comment: text }))
  }

  /**
   * Sends bytes that are already a complete frame, from {@link encodeEvent}. This is how one
   * serialization reaches many streams.
   */
  sendFrame(frame: Buffer): boolean {
    if (this.#state === CLOSED) return false
    if (this.#congested && !this.#fits(this.#outBytes + this.#unsent(), frame.length)) {
      return this.#overflow()
    }
    let out = this.#out
    if (out === undefined) out = this.#out = []
    if (out.length === 0) this.#extras?.keyed?.clear()
    out.push(frame)
    this.#outBytes += frame.length
    if (this.#state === OPEN && !this.#congested) this.#schedule()
    return true
  }

  /**
   * Sends the frame of a keyed event; `token` names its topic and key (see `conflationToken`).
   * Wherever it waits unwritten (a turn's burst, a coalesced write, the queue of a client that is
   * behind, behind a replay), a pending frame with the same token is replaced: its slot is emptied
   * and this frame goes at the end, so ids stay in order on the wire. So N updates of K keys leave at
   * most K frames pending. While the client is behind, only a frame that grows the queue can trip
   * `onOverflow`, and only when the queue's frames (the newest per key, and unkeyed ones) would pass
   * `maxBufferedBytes`: what Node already took, at most one earlier write, cannot be replaced and is
   * not counted here. Returns {@link SENT}, with {@link REPLACED} when it replaced one.
   * @internal
   */
  sendKeyed(frame: Buffer, token: string): KeyedResult {
    if (this.#state === CLOSED) return 0
    const extras = this.#ensureExtras()
    let out = this.#out
    if (out === undefined) out = this.#out = []
    let keyed = extras.keyed
    if (keyed === undefined) {
      keyed = new KeyedSlots()
      extras.keyed = keyed
    }
    if (out.length === 0) keyed.clear()
    const at = keyed.find(token, out)
    const replaced = at === -1 ? 0 : out[at]!.length
    if (
      this.#congested &&
      frame.length > replaced &&
      !this.#fits(this.#outBytes - replaced, frame.length)
    ) {
      this.#overflow()
      return 0
    }
    if (at !== -1) this.#outBytes -= keyed.empty(out, at)
    keyed.set(token, frame, out.push(frame) - 1)
    this.#outBytes += frame.length
    if (this.#state === OPEN && !this.#congested) this.#schedule()
    if (at === -1) return SENT
    keyed.compact(out)
    return SENT | REPLACED
  }

  /**
   * Sends every value of `source` as an event (a string becomes `data`), pausing while the client
   * is not reading, and closes the stream when the source ends. When the client leaves, the
   * iterator's `return()` is called so the producer stops. If the source throws, the stream is
   * closed and the returned promise rejects with an {@link SSEError} `SOURCE_FAILED`.
   */
  pipe(source: AsyncIterable<SSESourceValue> | Iterable<SSESourceValue>): Promise<void> {
    const gate: PipeGate = {
      writable: () =>
        this.#state !== CLOSED && (this.#state === PENDING || this.#congested)
          ? new Promise<void>((resolve) => (this.#ensureExtras().wakeSource = resolve))
          : undefined,
      attach: (iterator) => {
        this.#ensureExtras().source = iterator
      },
    }
    return pipeSource(this, gate, source)
  }

  /**
   * Ends the stream after writing what is queued. Idempotent. A client that is not reading at all
   * is cut off instead, so a stalled socket never holds the server open.
   */
  close(): void {
    if (this.#state === CLOSED) return
    const res = this.#res
    if (this.#state === PENDING) {
      this.#state = CLOSED
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 204
        res.end()
      }
    } else {
      this.#state = CLOSED
      if (this.#congested) res.destroy()
      // Frames queued behind an unfinished replay would skip what it still had to send: the client
      // resumes from the last replayed id instead.
      else if (this.#extras?.replay !== undefined) res.end()
      else res.end(this.#take())
    }
    this.#release()
  }

  /**
   * Closes the stream (after an optional final frame) and lets go of the connection, so a server
   * that is shutting down is not held open by an idle keep-alive socket or HTTP/2 session.
   * @internal
   */
  shutdown(finalFrame?: Buffer): void {
    if (this.#state === OPEN && finalFrame !== undefined) this.sendFrame(finalFrame)
    const wasOpen = this.#state === OPEN
    this.close()
    if (!wasOpen) return
    if (this.request.httpVersionMajor >= 2) this.#res.stream?.session?.close()
    else this.#res.socket?.end()
  }

  /** @internal Called by the shared keep-alive timer. */
  keepAliveTick(): void {
    if (this.#state !== OPEN) return
    if (this.#congested) {
      if (++this.#ensureExtras().stalledTicks >= STALL_TICKS) this.#disconnectSlow()
    } else if (this.#outBytes === 0 && this.#extras?.replay === undefined) {
      this.#write(KEEP_ALIVE_FRAME)
    }
  }

  #take(): Buffer | undefined {
    const out = this.#out
    if (out === undefined) return undefined
    const count = out.length
    if (count === 0) return undefined
    // The pass may keep a queue it joined to compare with others: that one is not reused.
    const chunk = count === 1 ? out[0]! : this.#settings.pass.concat(out, this.#outBytes)
    if (count === 1) out.length = 0
    else this.#out = undefined
    this.#outBytes = 0
    return chunk
  }

  /** Bytes Node holds unsent for this client (only once it has written). */
  #unsent(): number {
    const socket = this.#socket
    return socket == null ? this.#res.writableLength : socket.writableLength
  }

  /** Whether `adding` bytes fit beside `held` under the bound (a lone frame always does). */
  #fits(held: number, adding: number): boolean {
    return held <= 0 || held + adding <= this.#settings.maxBuffered
  }

  #write(chunk: Buffer): void {
    const res = this.#res
    let socket = this.#socket
    if (socket === undefined) {
      socket = this.#socket = this.#settings.directWrites ? chunkedBodySocket(res) : null
    }
    // `write()` answers false for any chunk past Node's high-water mark, even one the kernel took
    // whole at once: only bytes Node still holds afterwards mean the client is behind.
    if (socket !== null && carriesBody(socket, res)) {
      if (writeChunk(socket, chunk) || socket.writableLength === 0) return
      // Listened to only while congested: an idle stream holds no 'drain' listener.
      drainingSockets.set(socket, this)
      socket.on('drain', SSEStream.#onSocketDrain)
    } else if (res.writableEnded) {
      // The app ended the response itself: nothing may follow its end, and the stream is over.
      this.#release()
      return
    } else if (res.write(chunk) || res.writableLength === 0) {
      return
    } else {
      res.on('drain', SSEStream.#onDrain)
    }
    this.#congested = true
  }

  static #onSocketDrain(this: BodySocket): void {
    this.removeListener('drain', SSEStream.#onSocketDrain)
    const stream = drainingSockets.get(this)
    drainingSockets.delete(this)
    if (stream !== undefined) SSEStream.#onDrain.call(stream.#res)
  }

  #flush(): void {
    this.#queued = UNSCHEDULED
    if (this.#state !== OPEN || this.#congested) return
    const extras = this.#extras
    if (extras !== undefined) {
      let replay = extras.replay
      while (replay !== undefined) {
        const page = replay.next()
        if (replay.done) extras.replay = undefined
        this.#write(page)
        if (this.#congested || this.#state !== OPEN) return
        replay = extras.replay
      }
    }
    const chunk = this.#take()
    if (chunk === undefined) return
    this.#lastPass = this.#settings.pass.pass
    this.#write(chunk)
  }

  #schedule(): void {
    const queued = this.#queued
    if (queued === UNSCHEDULED) {
      this.#queued = this.#settings.pass.schedule(this, this.#lastPass) ? HELD : IN_TURN
    } else if (queued === HELD && this.#outBytes >= HOLD_BYTES) {
      this.#queued = IN_TURN
      this.#settings.pass.promote(this)
    }
  }

  #overflow(): boolean {
    if (this.#settings.policy === 'drop') {
      this.#ensureExtras().dropped++
      this.#owner?.frameDropped(this)
      return false
    }
    this.#disconnectSlow()
    return false
  }

  #disconnectSlow(): void {
    this.#owner?.slowDisconnect(this, this.#extras?.replay !== undefined)
    this.#state = CLOSED
    this.#res.destroy()
    this.#release()
  }

  #wake(): void {
    const extras = this.#extras
    if (extras === undefined || extras.wakeSource === undefined) return
    const wake = extras.wakeSource
    extras.wakeSource = undefined
    wake()
  }

  #release(): void {
    this.#state = CLOSED
    this.#out = undefined
    this.#outBytes = 0
    const { keepAlive: interval } = this.#settings
    if (interval > 0) keepAlive.delete(interval, this)
    const extras = this.#extras
    if (extras !== undefined) {
      extras.replay = undefined
      extras.keyed = undefined
      extras.controller?.abort()
      extras.resolveClosed?.()
      this.#wake()
      const source = extras.source
      if (source !== undefined) {
        extras.source = undefined
        source.return?.()?.catch(() => {})
      }
    }
    const owner = this.#owner
    this.#owner = undefined
    owner?.streamClosed(this)
  }

  static #onResponseClose(this: Tagged): void {
    const stream = this[kStream]
    if (stream !== undefined && stream.#state !== CLOSED) stream.#release()
  }

  static #onSocket(this: Tagged): void {
    const stream = this[kStream]
    if (stream === undefined || stream.#state !== PENDING) return
    if (stream.#owner === undefined) stream.open()
    else stream.#owner.streamReady(stream)
  }

  static #onDrain(this: Tagged): void {
    this.removeListener('drain', SSEStream.#onDrain)
    const stream = this[kStream]
    if (stream === undefined || stream.#state !== OPEN) return
    stream.#congested = false
    if (stream.#extras !== undefined) stream.#extras.stalledTicks = 0
    stream.#flush()
    if (!stream.#congested) stream.#wake()
  }
}
