import { onConnectionClose } from './connectionClose.js'
import type { Connection } from './internals/honoNodeSocket.js'

/**
 * The body of a web `Response` as a core stream writes to it. Core's streams write to a response
 * through a small interface (`write`, `end`, `destroy`, `'drain'`, `'close'`, the head); this
 * class gives that interface over a `ReadableStream`, so the broker drives a Fetch response the
 * way it drives Node's `ServerResponse`:
 * - backpressure: `write()` answers `false` once the stream's queue holds {@link BODY_HIGH_WATER}
 *   bytes (its `desiredSize` reaches 0), and `'drain'` comes when the runtime pulls again;
 * - the client leaving: the request's `signal` aborts, or the runtime cancels the body;
 * - the head: the `Response` settles when the stream writes its head, or with the refusal it
 *   answers instead (a status and a plain-text message).
 */

/** Bytes the body's queue holds before `write()` pushes back: Node's HTTP/2 and Node 22+ default. */
export const BODY_HIGH_WATER = 64 * 1024

/**
 * An empty comment, sent when a stream opens with nothing to send in its first turn: Bun sends a
 * streamed response's head with its first body chunk, so without one a quiet stream's client
 * would wait for its head until the first event.
 */
const OPENING_COMMENT = new Uint8Array([0x3a, 0x0a, 0x0a])

type Listener = () => void

/**
 * A plain-text answer for a response that ended, or was cut, before its head was written. The body
 * is a string or bytes over an `ArrayBuffer`: what both Node's `Response` and the DOM's accept (the
 * DOM's refuses a view that may sit on a `SharedArrayBuffer`).
 */
function plainResponse(
  status: number,
  headers: Headers,
  body: string | Uint8Array<ArrayBuffer> | null,
): Response {
  return new Response(body, { status, headers })
}

export class ResponseBridge {
  statusCode = 200
  headersSent = false
  destroyed = false
  writableEnded = false
  // No connection or HTTP/2 stream of its own: the runtime owns them (read by core on shutdown).
  readonly socket = undefined
  readonly stream = undefined

  readonly #headers = new Headers()
  readonly #body: ReadableStream<Uint8Array>
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #settle: ((response: Response) => void) | undefined
  #closeListeners: Listener[] = []
  #drainListeners: Listener[] = []
  #behind = false
  #gone = false
  #wrote = false
  #forget: (() => void) | undefined
  /** The runtime cancelled the body: its controller takes nothing more, not even `close()`. */
  #cancelled = false
  /** Ends the parked `pull` (see the constructor): the next one tells that the runtime has read. */
  #unpark: (() => void) | undefined

  /**
   * `connection`: the connection the request came on, when the server lets us see it
   * (`@hono/node-server`); its `'close'` tells the client left, as `signal` does.
   */
  constructor(
    settle: (response: Response) => void,
    signal: AbortSignal,
    connection: Connection | undefined,
  ) {
    this.#settle = settle
    this.#body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => {
          if (this.#behind) {
            this.#behind = false
            this.#emit(this.#drainListeners)
            return
          }
          // Parked until `write()` finds the queue full: the stream calls `pull` again only then,
          // when the runtime has read, instead of after every chunk (a call and a promise each).
          return new Promise<void>((resolve) => {
            this.#unpark = resolve
          })
        },
        cancel: () => {
          this.#cancelled = true
          this.#leave()
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: BODY_HIGH_WATER }),
    )
    if (signal.aborted || connection?.destroyed === true) {
      this.#leave()
      return
    }
    signal.addEventListener('abort', () => this.#leave(), { once: true })
    if (connection !== undefined) {
      // Taken off once the stream is over: a keep-alive connection serves many requests.
      this.#forget = onConnectionClose(connection, () => this.#leave())
    }
  }

  /** Bytes written that the runtime has not taken yet. */
  get writableLength(): number {
    const room = this.#controller.desiredSize
    return room === null ? 0 : Math.max(0, BODY_HIGH_WATER - room)
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (typeof value === 'object') {
      this.#headers.delete(name)
      for (const one of value) this.#headers.append(name, one)
    } else {
      this.#headers.set(name, String(value))
    }
    return this
  }

  removeHeader(name: string): void {
    this.#headers.delete(name)
  }

  writeHead(statusCode: number, headers: Readonly<Record<string, string>>): this {
    this.statusCode = statusCode
    for (const name of Object.keys(headers)) this.#headers.set(name, headers[name]!)
    return this
  }

  /** Settles the `Response`: the head is "sent", and the body streams from here. */
  flushHeaders(): void {
    if (this.headersSent || this.destroyed) return
    this.headersSent = true
    this.#answer(new Response(this.#body, { status: this.statusCode, headers: this.#headers }))
    queueMicrotask(() => {
      if (!this.#wrote && !this.writableEnded && !this.destroyed) this.write(OPENING_COMMENT)
    })
  }

  write(chunk: Uint8Array): boolean {
    if (this.writableEnded || this.destroyed) return false
    if (!this.headersSent) this.flushHeaders()
    this.#wrote = true
    this.#controller.enqueue(chunk)
    const room = (this.#controller.desiredSize ?? 0) > 0
    if (!room) {
      this.#behind = true
      const unpark = this.#unpark
      this.#unpark = undefined
      unpark?.()
    }
    return room
  }

  end(chunk?: Uint8Array | string): this {
    if (this.writableEnded || this.destroyed) return this
    this.writableEnded = true
    if (!this.headersSent) {
      // A refusal, a `204` or a `HEAD` answer: the whole body is known.
      this.headersSent = true
      // Core ends a response before its head with a refusal's text, or nothing: copying bytes is rare.
      const body = chunk === undefined || typeof chunk === 'string' ? chunk : new Uint8Array(chunk)
      this.#answer(plainResponse(this.statusCode, this.#headers, body ?? null))
    } else {
      if (chunk !== undefined && chunk.length > 0) {
        this.#controller.enqueue(
          typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk,
        )
      }
      this.#controller.close()
    }
    queueMicrotask(() => this.#leave())
    return this
  }

  /** Cuts the body: the runtime aborts the response, as Node destroys a socket. */
  destroy(error?: Error): this {
    if (this.destroyed) return this
    this.destroyed = true
    if (!this.headersSent) {
      this.headersSent = true
      this.#answer(plainResponse(503, new Headers({ 'Retry-After': '1' }), null))
    } else if (!this.writableEnded) {
      this.#controller.error(error ?? new Error('SSE stream cut'))
    }
    this.#leave()
    return this
  }

  on(event: 'close' | 'drain', listener: Listener): this {
    if (event === 'close') {
      if (this.#gone) queueMicrotask(() => listener.call(this))
      else this.#closeListeners.push(listener)
    } else {
      this.#drainListeners.push(listener)
    }
    return this
  }

  /** Node's pipelining hook: a Fetch response never waits for its connection. */
  once(_event: 'socket', _listener: Listener): this {
    return this
  }

  removeListener(event: 'drain' | 'close', listener: Listener): this {
    const list = event === 'drain' ? this.#drainListeners : this.#closeListeners
    const at = list.indexOf(listener)
    if (at >= 0) list.splice(at, 1)
    return this
  }

  #answer(response: Response): void {
    const settle = this.#settle
    this.#settle = undefined
    settle?.(response)
  }

  /** The client left, the body was cut or ended: `'close'`, once. */
  #leave(): void {
    if (this.#gone) return
    this.#gone = true
    this.#forget?.()
    if (!this.writableEnded && !this.destroyed) {
      this.destroyed = true
      // The runtime says the request is over: end the body too, so that a response it still
      // sends (Bun, to a pipelining client) ends, and its client reconnects, instead of hanging.
      // Closed rather than errored: a server may log a body's error (`@hono/node-server` does).
      if (this.headersSent && !this.#cancelled) this.#controller.close()
    }
    // Nothing was answered yet (the client left while `authorize` ran): settle anyway.
    if (this.#settle !== undefined) {
      this.headersSent = true
      this.#answer(plainResponse(499, this.#headers, null))
    }
    const listeners = this.#closeListeners
    this.#closeListeners = []
    this.#drainListeners = []
    this.#emit(listeners)
  }

  #emit(listeners: readonly Listener[]): void {
    for (const listener of [...listeners]) listener.call(this)
  }
}
