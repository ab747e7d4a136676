import type { IncomingHttpHeaders } from 'node:http'
import { SSEError } from '@sse/core'
import { SSETestError } from '../sseTestError.js'
import type { TargetLease } from './acquireTarget.js'
import { EventCursor } from './eventCursor.js'
import type { Exchange, ExchangeHandlers, ExchangeRequest } from './exchange.js'
import { http1Exchange } from './http1Exchange.js'
import { http2Exchange } from './http2Exchange.js'
import { ReadPace } from './readPace.js'
import { StreamRecord } from './streamRecord.js'
import { StreamWaits } from './streamWaits.js'
import type { OpenStreamOptions, ServerSentEvent, TestStreamState } from './types.js'

/** How a {@link TestStream} was opened, so that `reconnect()` can do it again. */
export interface StreamRequest {
  readonly url: string
  readonly request: ExchangeRequest
  readonly options: Readonly<OpenStreamOptions>
  /** Opens a new stream like this one, with `lastEventId`, on `lease` (held already). */
  reopen(lastEventId: string, lease: TargetLease): Promise<TestStream>
  /** Holds the same target again. */
  acquire(): Promise<TargetLease>
}

const open = new Set<TestStream>()

/**
 * Closes every stream `openStream` opened that is still open, and the servers the kit listened on
 * for them. Made for `afterEach`.
 *
 * @example
 * afterEach(closeStreams)
 */
export async function closeStreams(): Promise<void> {
  await Promise.all([...open].map((stream) => stream.close()))
}

/**
 * One response from `openStream`: its head, what it received, and ways to wait for more. Events
 * are read in order by `take()`, `until()` and `for await`, which share one cursor; `events` keeps
 * them all regardless. Breaking out of `for await` leaves the stream open.
 */
export class TestStream implements AsyncIterable<ServerSentEvent> {
  /** The URL requested. */
  readonly url: string
  #status = 0
  #headers: IncomingHttpHeaders = {}
  #state: TestStreamState = 'open'
  readonly #source: StreamRequest
  readonly #record: StreamRecord
  /** Why `take()` and the like are refused, if they are: the option that rules out events. */
  readonly #noEvents: string | undefined
  readonly #waits: StreamWaits
  readonly #exchange: Exchange
  readonly #reading: ReadPace
  readonly #cursor: EventCursor
  #headArrived = false
  readonly #gone: Promise<void>
  #closing: Promise<void> | undefined

  /** @internal Use `openStream`. */
  constructor(source: StreamRequest, lease: TargetLease) {
    this.url = source.url
    this.#source = source
    const {
      record = true,
      raw = false,
      timeout = 5000,
      lastEventId = '',
      maxLineLength = 1024 * 1024,
    } = source.options
    this.#record = new StreamRecord({ record, raw, lastEventId, maxLineLength })
    this.#noEvents = raw ? 'raw: true' : record ? undefined : 'record: false'
    this.#cursor = new EventCursor(this.#record.events, (what) => this.#ended(what))
    this.#waits = new StreamWaits(timeout, (what) => {
      const error = new SSETestError(
        'TEST_TIMEOUT',
        `@sse/testing: ${what} did not happen within ${timeout} ms (option "timeout"); ${this.#summary()}`,
      )
      void this.close()
      return error
    })
    let left!: () => void
    this.#gone = new Promise((resolve) => (left = resolve))
    const handlers: ExchangeHandlers = {
      onHead: (status, headers) => this.#onHead(status, headers),
      onData: (chunk) => this.#onData(chunk),
      onEnd: () => this.#finish('ended'),
      onClose: (error) => {
        this.#failure = error
        this.#finish('cut')
        open.delete(this)
        void lease.release().then(left, left)
      },
    }
    try {
      this.#exchange = (lease.endpoint.http2 ? http2Exchange : http1Exchange)(
        lease.endpoint,
        source.request,
        handlers,
      )
    } catch (error) {
      void lease.release()
      throw new SSETestError(
        'TEST_REQUEST_FAILED',
        `@sse/testing: could not send ${source.request.method} ${this.url}: ${(error as Error).message}`,
        { cause: error },
      )
    }
    this.#reading = new ReadPace(this.#exchange)
    open.add(this)
    source.options.signal?.addEventListener('abort', () => void this.close(), { once: true })
  }

  #failure: Error | undefined

  /** The response status; `0` until the head arrives. */
  get status(): number {
    return this.#status
  }

  /** The response headers, lower-cased (HTTP/2 pseudo-headers left out). */
  get headers(): Readonly<IncomingHttpHeaders> {
    return this.#headers
  }

  /** Where the stream stands: `open` until the response ends, is cut, or is closed here. */
  get state(): TestStreamState {
    return this.#state
  }

  /**
   * The last event id received (an `EventSource`'s, set when an event is dispatched), or the
   * `lastEventId` the stream was opened with; `''` for none. `reconnect()` sends it.
   */
  get lastEventId(): string {
    return this.#record.lastEventId
  }

  /** The last `retry:` value received, in ms. */
  get retry(): number | undefined {
    return this.#record.retry
  }

  /** Every event received so far, read or not (empty with `record: false`). */
  get events(): readonly ServerSentEvent[] {
    return this.#record.events
  }

  /** Every comment received so far, without the `:` and one space after it. */
  get comments(): readonly string[] {
    return this.#record.comments
  }

  /** How many events arrived (with `raw: true`, how many chunks), kept or not. */
  get received(): number {
    return this.#record.received
  }

  /** The body received so far, as bytes (the last 4 KiB with `record: false`). */
  bytes(): Buffer {
    return this.#record.bytes()
  }

  /** The body received so far, decoded as UTF-8, BOM kept (the last 4 KiB with `record: false`). */
  text(): string {
    return this.#record.text()
  }

  /** Waits for the next `count` unread events and returns them. */
  take(count: number): Promise<ServerSentEvent[]> {
    this.#assertEvents('take()')
    return this.#waits.add(this.#cursor.take(count), this.#state !== 'open')
  }

  /** Waits for an unread event that matches `predicate`; returns the unread events up to it, it included. */
  until(predicate: (event: ServerSentEvent) => boolean): Promise<ServerSentEvent[]> {
    this.#assertEvents('until()')
    return this.#waits.add(this.#cursor.until(predicate), this.#state !== 'open')
  }

  /**
   * Waits until `check` holds for this stream, re-checked whenever bytes arrive: for what events do
   * not say, such as comments or the bytes themselves.
   *
   * @example
   * await stream.waitFor((s) => s.text().includes(': ping'))
   */
  waitFor(check: (stream: this) => boolean): Promise<void> {
    return this.#waits.add(
      {
        what: 'waitFor(check)',
        attempt: () => (check(this) ? { value: undefined } : undefined),
        whenOver: () => {
          throw this.#ended('the check of waitFor() never held')
        },
      },
      this.#state !== 'open',
    )
  }

  /**
   * Waits until the response is over, however it ended, and returns how. Like every wait, it
   * rejects with `TEST_LINE_TOO_LONG` once the kit has closed the stream for a line past
   * `maxLineLength`.
   */
  ended(): Promise<TestStreamState> {
    return this.#waits.add(
      { what: 'the end of the response', attempt: () => undefined, whenOver: () => this.#state },
      this.#state !== 'open',
    )
  }

  /** Stops reading: the server's writes back up, as with a client that stalls. Ends a `throttle()`. */
  pause(): void {
    this.#reading.pause()
  }

  /** Reads again, as fast as it can, after `pause()` or `throttle()`. */
  resume(): void {
    this.#reading.resume()
  }

  /**
   * Reads at about `bytesPerSecond` from now on, as a client on a slow link: stops reading whenever
   * it is ahead of that pace, until the pace catches up. `pause()` or `resume()` ends it.
   *
   * @throws {SSEError} `INVALID_OPTION` unless `bytesPerSecond` is a finite number >= 1.
   * @example
   * stream.throttle(10 * 1024) // about 10 KiB/s
   */
  throttle(bytesPerSecond: number): void {
    this.#reading.throttle(bytesPerSecond)
  }

  /**
   * Closes this stream (if open) and opens a new one to the same target with the same options,
   * sending `Last-Event-ID: <lastEventId>` when there is one, as an `EventSource` does (without
   * waiting the `retry` delay). This stream keeps what it received.
   */
  async reconnect(): Promise<TestStream> {
    const lease = await this.#source.acquire()
    await this.close()
    return this.#source.reopen(this.lastEventId, lease)
  }

  /** Closes the request and its connection; resolves once they are gone. Safe to call again. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      if (this.#state === 'open') {
        this.#finish('closed')
        this.#exchange.destroy()
      }
      this.#closing = this.#gone
    }
    return this.#closing
  }

  /** The unread events in order, waiting for each (up to `timeout`); ends when the stream has. */
  [Symbol.asyncIterator](): AsyncIterator<ServerSentEvent> {
    this.#assertEvents('iterating')
    return {
      next: () => this.#waits.add(this.#cursor.next(), this.#state !== 'open'),
      return: async () => ({ done: true, value: undefined }),
    }
  }

  /** @internal Resolves once the head has arrived; rejects if the request failed first. */
  head(): Promise<void> {
    return this.#waits.add(
      {
        what: 'the response head',
        attempt: () => (this.#headArrived ? { value: undefined } : undefined),
        whenOver: () => {
          throw new SSETestError(
            'TEST_REQUEST_FAILED',
            `@sse/testing: ${this.#source.request.method} ${this.url} failed before a response arrived${this.#failure ? `: ${this.#failure.message}` : ''}`,
            { cause: this.#failure },
          )
        },
      },
      this.#state !== 'open',
    )
  }

  #onHead(status: number, headers: IncomingHttpHeaders): void {
    this.#status = status
    this.#headers = headers
    this.#headArrived = true
    const type = String(headers['content-type'] ?? '').toLowerCase()
    if (status >= 200 && status < 300 && type.startsWith('text/event-stream')) {
      this.#record.parseEvents()
    }
    this.#waits.check(false)
  }

  #onData(chunk: Buffer): void {
    if (this.#state !== 'open') return
    try {
      this.#record.add(chunk)
    } catch (error) {
      // The parser refused the body (TEST_LINE_TOO_LONG): the test hears it from every wait, and
      // nothing more is read, so nothing more is held.
      this.#waits.fail(
        error instanceof SSETestError
          ? new SSETestError(error.code, `${error.message}; ${this.#summary()}`)
          : (error as Error),
      )
      void this.close()
      return
    }
    this.#reading.read(chunk.length)
    this.#waits.check(false)
  }

  #finish(state: TestStreamState): void {
    if (this.#state !== 'open') return
    this.#state = state
    this.#reading.stop()
    this.#waits.check(true)
  }

  #assertEvents(what: string): void {
    if (this.#noEvents === undefined) return
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/testing: ${what} reads events, and this stream was opened with option ${this.#noEvents}`,
    )
  }

  #ended(what: string): SSETestError {
    return new SSETestError(
      'TEST_STREAM_ENDED',
      `@sse/testing: the stream is over (${this.#state}) and ${what}; ${this.#summary()}`,
    )
  }

  #summary(): string {
    const text = this.#record.text()
    const tail = text.length > 300 ? `…${text.slice(-300)}` : text
    return `status ${this.#status}, ${this.#record.received} event(s) received, ${this.#cursor.read} read; last text: ${JSON.stringify(tail)}`
  }
}
