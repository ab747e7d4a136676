import type { KeyedResult } from '../conflation/keyedSlots.js'
import { streamOptionsValidator } from '../options/options.js'
import type { SSEEvent, SSERequest, SSEResponse, SSEStreamOptions } from '../types.js'
import { readLastEventId } from '../wire/lastEventId.js'
import { encodeEvent } from '../wire/serializeEvent.js'
import { keepAlive } from './keepAlive.js'
import { type PipeGate, pipeSource, type SSESourceValue } from './pipeSource.js'
import { isQueued, type RawResponse, writeRefusal, writeSSEHead } from './responseHead.js'
import { StreamExtras } from './streamExtras.js'
import { StreamWriter } from './streamWriter.js'

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

const kStream = Symbol('sse.stream')

type Tagged = RawResponse & { [kStream]?: SSEStream }

/**
 * One Server-Sent Events response over Node's `ServerResponse` or `Http2ServerResponse`.
 *
 * Frames sent in one turn go out in one write, and a busy stream's frames are coalesced for at most
 * `coalesceWindow` ms (or until 32 KiB wait; a frame of 16 KiB or more is never held): waits of our
 * choosing, never counted against the client. A client is behind only while its socket pushes back;
 * then what is held for it may reach `maxBufferedBytes`, past which `onOverflow` applies (see
 * `StreamWriter`). Nothing waits on `'drain'` forever: a socket blocked through two keep-alive
 * sweeps is ended.
 *
 * @example
 * http.createServer((req, res) => {
 *   const stream = new SSEStream(req, res, { retry: 2000 })
 *   stream.send({ event: 'hello', data: 'world' })
 * })
 */
// Its StreamWriter's host; no `implements WriterHost`: those members are internal, not published.
export class SSEStream {
  /** The request this stream answers. */
  readonly request: SSERequest
  /** The response this stream writes to. */
  readonly response: SSEResponse
  /**
   * The client's last event id, from the `Last-Event-ID` header or the `lastEventId` query
   * parameter; `undefined` when absent, over 256 characters, or containing control characters.
   */
  readonly lastEventId: string | undefined

  // Memory per idle stream counts at 10k connections: fields every stream shares live in the
  // writer's settings, and rarely used ones in `#extras`, created when first needed.
  #state = PENDING
  readonly #writer: StreamWriter
  #owner: StreamOwner | undefined
  #extras: StreamExtras | undefined = undefined

  /**
   * Opens the stream at once: status 200 and the SSE headers are flushed, keeping headers the app
   * set before. A `HEAD` request gets the head and an ended body; a request pipelined behind an
   * unfinished response on its connection opens when it gets the connection. Throws an
   * {@link SSEError} `INVALID_OPTION` for bad options, and Node's error for a header it refuses.
   *
   * `owner` is for a broker: the stream then stays pending until the owner opens it, reports to it
   * what happens, and leaves its options (already checked) to the owner.
   */
  constructor(
    request: SSERequest,
    response: SSEResponse,
    options: SSEStreamOptions = {},
    /** @internal */ owner?: StreamOwner,
  ) {
    if (owner === undefined) streamOptionsValidator.assert(options)
    this.request = request
    this.response = response
    this.lastEventId = readLastEventId(request)
    this.#writer = new StreamWriter(this, this.#res, options)
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
    return this.#writer.bufferedBytes
  }

  /**
   * Bytes that show the client is behind: while its socket pushes back, what is queued plus what Node
   * holds unsent; `0` otherwise (frames waiting for a coalesced write are not the client's fault).
   * What `maxBufferedBytes` bounds.
   * @internal
   */
  get behindBytes(): number {
    return this.#writer.behindBytes
  }

  /** The bound on {@link bufferedBytes} past which the `onOverflow` policy applies. */
  get maxBufferedBytes(): number {
    return this.#writer.settings.maxBuffered
  }

  /** Aborted when the client leaves or the stream closes. */
  get signal(): AbortSignal {
    return this.#ensureExtras().signal(this.#state === CLOSED)
  }

  /** Resolves when the stream has closed, for whatever reason. Never rejects. */
  get closed(): Promise<void> {
    return this.#ensureExtras().closed(this.#state === CLOSED)
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
    const writer = this.#writer
    const settings = writer.settings
    writeSSEHead(res, this.request, settings.headers)
    this.#state = OPEN
    if (settings.keepAlive > 0) keepAlive.add(settings.keepAlive, this)
    if (settings.retry !== undefined) writer.sendFirst(Buffer.from(`retry: ${settings.retry}\n\n`))
    writer.opened()
    this.#extras?.wake()
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
      writeSSEHead(res, this.request, this.#writer.settings.headers)
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
    this.#writer.sendReplay(frames)
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
    return this.#writer.send(frame)
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
    return this.#writer.sendKeyed(frame, token)
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
        this.#state !== CLOSED && (this.#state === PENDING || this.#writer.behind)
          ? this.#ensureExtras().waitForRoom()
          : undefined,
      attach: (iterator) => this.#ensureExtras().attachSource(iterator),
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
      // A client that is behind is cut; one whose replay is unfinished gets nothing more (what is
      // queued would skip what the replay still had to send: it resumes from its last replayed id).
      if (this.#writer.behind) res.destroy()
      else res.end(this.#writer.takeLast())
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
    if (this.#state === OPEN) this.#writer.keepAliveTick()
  }

  /** @internal The writer's: a frame did not fit under the bound. */
  writerOverflowed(): void {
    this.#overflow()
  }

  /** @internal The writer's: the socket stayed blocked with no `'drain'`. */
  writerStalled(): void {
    this.#disconnectSlow()
  }

  /** @internal The writer's: the app ended the response itself. */
  writerEnded(): void {
    this.#release()
  }

  /** @internal The writer's: the client read what it was handed. */
  writerDrained(): void {
    this.#extras?.wake()
  }

  #overflow(): boolean {
    if (this.#writer.settings.policy === 'drop') {
      this.#ensureExtras().dropped++
      this.#owner?.frameDropped(this)
      return false
    }
    this.#disconnectSlow()
    return false
  }

  #disconnectSlow(): void {
    this.#owner?.slowDisconnect(this, this.#writer.replaying)
    this.#state = CLOSED
    this.#res.destroy()
    this.#release()
  }

  #release(): void {
    this.#state = CLOSED
    this.#writer.release()
    const { keepAlive: interval } = this.#writer.settings
    if (interval > 0) keepAlive.delete(interval, this)
    this.#extras?.release()
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
}
