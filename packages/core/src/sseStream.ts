import { FlushPass } from './flushPass.js'
import { keepAlive } from './keepAlive.js'
import { type KeyedResult, KeyedSlots, REPLACED, SENT } from './keyedSlots.js'
import { readLastEventId } from './lastEventId.js'
import { streamOptionsValidator } from './options.js'
import { type PipeGate, pipeSource, type SSESourceValue } from './pipeSource.js'
import {
  type BodySocket,
  carriesBody,
  chunkedBodySocket,
  isQueued,
  type RawResponse,
  writeChunk,
  writeRefusal,
  writeSSEHead,
} from './responseHead.js'
import { encodeEvent } from './serializeEvent.js'
import type {
  OverflowPolicy,
  SSEEvent,
  SSERequest,
  SSEResponse,
  SSEStreamOptions,
} from './types.js'

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

const DEFAULT_KEEP_ALIVE = 30_000
const DEFAULT_MAX_BUFFERED = 512 * 1024
const DEFAULT_COALESCE_WINDOW = 10
/** Keep-alive sweeps a stream may stay blocked with no `'drain'` before it is ended. */
const STALL_TICKS = 2
const KEEP_ALIVE_FRAME = Buffer.from(':\n\n')
const NO_FRAME = Buffer.alloc(0)
/** Replay frames are written in pages of about this size, each once the socket has taken the last. */
export const REPLAY_PAGE_BYTES = 64 * 1024
const kStream = Symbol('sse.stream')

type Tagged = RawResponse & { [kStream]?: SSEStream }

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
 * `coalesceWindow` ms ago gathers its frames for one shared flush at most that far away. When the
 * socket pushes back, frames queue
 * up to `maxBufferedBytes`; past that the `onOverflow` policy applies. Nothing waits on `'drain'`
 * forever: a stream whose socket stays blocked for two keep-alive sweeps is ended.
 *
 * @example
 * http.createServer((req, res) => {
 *   const stream = new SSEStream(req, res, { retry: 2000 })
 *   stream.send({ event: 'hello', data: 'world' })
 * })
 */
export class SSEStream {
  /** One flush pass per distinct `coalesceWindow`, shared by every stream using it. */
  static readonly #passes = new Map<number, FlushPass<SSEStream>>()
  static #passFor(window: number): FlushPass<SSEStream> {
    let pass = SSEStream.#passes.get(window)
    if (pass === undefined) {
      pass = new FlushPass<SSEStream>(SSEStream.#flushInPass, window)
      SSEStream.#passes.set(window, pass)
    }
    return pass
  }
  static #flushInPass(this: void, stream: SSEStream): void {
    stream.#flush()
  }

  /** The request this stream answers. */
  readonly request: SSERequest
  /** The response this stream writes to. */
  readonly response: SSEResponse
  /**
   * The client's last event id, from the `Last-Event-ID` header or the `lastEventId` query
   * parameter; `undefined` when absent, over 256 characters, or containing control characters.
   */
  readonly lastEventId: string | undefined

  #res: Tagged
  #state = PENDING
  #out: Buffer[] = []
  #outBytes = 0
  #unacked = 0
  #congested = false
  #queued = false
  #stalledTicks = 0
  #dropped = 0
  readonly #maxBuffered: number
  readonly #policy: OverflowPolicy
  readonly #keepAlive: number
  readonly #retry: number | undefined
  readonly #headers: SSEStreamOptions['headers']
  readonly #pass: FlushPass<SSEStream>
  /** The {@link FlushPass.pass} this stream last wrote in: recent means busy, so frames may wait. */
  #lastPass = 0
  #owner: StreamOwner | undefined
  #controller: AbortController | undefined
  #closed: Promise<void> | undefined
  #resolveClosed: (() => void) | undefined
  #source: AsyncIterator<unknown> | undefined
  #wakeSource: (() => void) | undefined
  /** Replay frames not written yet (written ones are let go); they go out before `#out`. */
  #replay: Buffer[] | undefined
  #replayAt = 0
  /** Where pending frames of keyed events sit in `#out`, while the client is behind. */
  #keyed: KeyedSlots | undefined

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
    this.#res = response as unknown as Tagged
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED
    this.#policy = options.onOverflow ?? 'disconnect'
    this.#keepAlive = options.keepAlive ?? DEFAULT_KEEP_ALIVE
    this.#retry = options.retry
    this.#headers = options.headers
    this.#pass = SSEStream.#passFor(options.coalesceWindow ?? DEFAULT_COALESCE_WINDOW)
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
    return this.#dropped
  }

  /** Bytes held for this client: queued here plus those Node reported it could not send yet. */
  get bufferedBytes(): number {
    return this.#outBytes + this.#unacked
  }

  /** The bound on {@link bufferedBytes} past which the `onOverflow` policy applies. */
  get maxBufferedBytes(): number {
    return this.#maxBuffered
  }

  /** Aborted when the client leaves or the stream closes. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#state === CLOSED) this.#controller.abort()
    }
    return this.#controller.signal
  }

  /** Resolves when the stream has closed, for whatever reason. Never rejects. */
  get closed(): Promise<void> {
    if (this.#closed === undefined) {
      if (this.#state === CLOSED) this.#closed = Promise.resolve()
      else this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    }
    return this.#closed
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
    writeSSEHead(res, this.request, this.#headers)
    this.#state = OPEN
    if (this.#keepAlive > 0) keepAlive.add(this.#keepAlive, this)
    if (this.#retry !== undefined) {
      const hint = Buffer.from(`retry: ${this.#retry}\n\n`)
      this.#out.unshift(hint)
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
      writeSSEHead(res, this.request, this.#headers)
      res.end()
    }
    this.#release()
  }

  /**
   * Writes `frames` (a replay, in id order) before anything queued, in pages of about
   * {@link REPLAY_PAGE_BYTES}, each once the socket has taken the previous one. The frames are the
   * history's own buffers: a client that does not read holds one page plus what Node buffers.
   * The stream takes `frames` over and lets go of each frame once written.
   * @internal
   */
  sendReplay(frames: Buffer[]): void {
    if (this.#state === CLOSED || frames.length === 0) return
    this.#replay = frames
    this.#replayAt = 0
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
    const held = this.#outBytes + this.#unacked
    if (held > 0 && held + frame.length > this.#maxBuffered) return this.#overflow()
    if (this.#keyed !== undefined && this.#out.length === 0) this.#keyed.clear()
    this.#out.push(frame)
    this.#outBytes += frame.length
    if (this.#state === OPEN && !this.#congested) this.#schedule()
    return true
  }

  /**
   * Sends the frame of a keyed event; `token` names its topic and key (see `conflationToken`). While
   * the client is behind (its socket pushed back, or a replay is still being written), a pending
   * frame with the same token that is not written yet is replaced: its slot is emptied and this
   * frame goes at the end, so ids stay in order on the wire. A replacement that does not grow the
   * queue never trips `onOverflow`; a new token past the bound does, as for any frame. Frames Node
   * already holds cannot be replaced. Returns {@link SENT}, with {@link REPLACED} when it replaced one.
   * @internal
   */
  sendKeyed(frame: Buffer, token: string): KeyedResult {
    if (this.#state === CLOSED) return 0
    if (!this.#congested && this.#replay === undefined) return this.sendFrame(frame) ? SENT : 0
    const out = this.#out
    let keyed = this.#keyed
    if (keyed === undefined) {
      keyed = new KeyedSlots()
      this.#keyed = keyed
    }
    if (out.length === 0) keyed.clear()
    const at = keyed.find(token, out)
    const replaced = at === -1 ? 0 : out[at]!.length
    const held = this.#outBytes + this.#unacked
    if (
      held > 0 &&
      held - replaced + frame.length > this.#maxBuffered &&
      (at === -1 || frame.length > replaced)
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
          ? new Promise<void>((resolve) => (this.#wakeSource = resolve))
          : undefined,
      attach: (iterator) => {
        this.#source = iterator
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
      else if (this.#replay !== undefined) res.end()
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
      if (++this.#stalledTicks >= STALL_TICKS) this.#disconnectSlow()
    } else if (this.#outBytes === 0 && this.#replay === undefined) {
      this.#write(KEEP_ALIVE_FRAME)
    }
  }

  #take(): Buffer | undefined {
    const out = this.#out
    const count = out.length
    if (count === 0) return undefined
    const chunk = count === 1 ? out[0]! : this.#pass.concat(out, this.#outBytes)
    if (count === 1) out.length = 0
    else this.#out = []
    this.#outBytes = 0
    return chunk
  }

  /** The socket the body goes to as HTTP/1.1 chunks, `null` for `res.write()`; set by the first write. */
  #socket: BodySocket | null | undefined

  #write(chunk: Buffer): void {
    const res = this.#res
    let socket = this.#socket
    if (socket === undefined) socket = this.#socket = chunkedBodySocket(res)
    if (socket !== null && carriesBody(socket, res)) {
      if (writeChunk(socket, chunk)) return
      // Listened to only while congested: an idle stream holds no 'drain' listener.
      socket.on('drain', SSEStream.#onSocketDrain)
    } else if (res.writableEnded) {
      // The app ended the response itself: nothing may follow its end, and the stream is over.
      this.#release()
      return
    } else if (res.write(chunk)) {
      return
    } else {
      res.on('drain', SSEStream.#onDrain)
    }
    this.#congested = true
    this.#unacked = chunk.length
  }

  static #onSocketDrain(this: BodySocket): void {
    this.removeListener('drain', SSEStream.#onSocketDrain)
    const res = this._httpMessage as Tagged | null | undefined
    if (res != null) SSEStream.#onDrain.call(res)
  }

  #flush(): void {
    this.#queued = false
    if (this.#state !== OPEN || this.#congested) return
    while (this.#replay !== undefined) {
      this.#write(this.#replayPage(this.#replay))
      if (this.#congested || this.#state !== OPEN) return
    }
    const chunk = this.#take()
    if (chunk === undefined) return
    this.#lastPass = this.#pass.pass
    this.#write(chunk)
  }

  /** The next page of the replay: whole frames, about {@link REPLAY_PAGE_BYTES} (at least one frame). */
  #replayPage(frames: Buffer[]): Buffer {
    const start = this.#replayAt
    let end = start + 1
    let bytes = frames[start]!.length
    while (end < frames.length && bytes + frames[end]!.length <= REPLAY_PAGE_BYTES) {
      bytes += frames[end]!.length
      end++
    }
    this.#replayAt = end
    if (end === frames.length) this.#replay = undefined
    const page = end - start === 1 ? frames[start]! : Buffer.concat(frames.slice(start, end), bytes)
    // A transport may hand the broker copies (Redis does): let go of what has been written.
    frames.fill(NO_FRAME, start, end)
    return page
  }

  #schedule(): void {
    if (this.#queued) return
    this.#queued = true
    this.#pass.schedule(this, this.#lastPass)
  }

  #overflow(): boolean {
    if (this.#policy === 'drop') {
      this.#dropped++
      this.#owner?.frameDropped(this)
      return false
    }
    this.#disconnectSlow()
    return false
  }

  #disconnectSlow(): void {
    this.#owner?.slowDisconnect(this, this.#replay !== undefined)
    this.#state = CLOSED
    this.#res.destroy()
    this.#release()
  }

  #wake(): void {
    const wake = this.#wakeSource
    if (wake !== undefined) {
      this.#wakeSource = undefined
      wake()
    }
  }

  #release(): void {
    this.#state = CLOSED
    this.#out.length = 0
    this.#outBytes = 0
    this.#unacked = 0
    this.#replay = undefined
    this.#keyed = undefined
    if (this.#keepAlive > 0) keepAlive.delete(this.#keepAlive, this)
    this.#controller?.abort()
    this.#resolveClosed?.()
    if (this.#closed === undefined) this.#closed = Promise.resolve()
    this.#wake()
    const source = this.#source
    if (source !== undefined) {
      this.#source = undefined
      source.return?.()?.catch(() => {})
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
    stream.#unacked = 0
    stream.#stalledTicks = 0
    stream.#flush()
    if (!stream.#congested) stream.#wake()
  }
}
