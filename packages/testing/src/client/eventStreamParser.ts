import { TextDecoder } from 'node:util'
import { SSEError } from '@sse/core'
import { SSETestError } from '../sseTestError.js'
import type { ServerSentEvent } from './types.js'

/** What an {@link EventStreamParser} reports, as it reads. */
export interface EventStreamHandlers {
  /**
   * A dispatched event (a blank line ended a block with at least one `data` line); the parser's
   * `lastEventId` is already the one an `EventSource` would report with it.
   */
  onEvent(event: ServerSentEvent): void
  /** A comment line, without its leading `:` and one space after it. */
  onComment?(comment: string): void
  /** A `retry:` field made only of ASCII digits, in ms. */
  onRetry?(ms: number): void
}

/** How an {@link EventStreamParser} reads. */
export interface EventStreamParserOptions {
  /**
   * The longest line it keeps, in characters (UTF-16 code units), its line ending left out. A line
   * that grows past it is dropped, the rest of it skipped up to its end, and `feed()` throws
   * `TEST_LINE_TOO_LONG`; parsing goes on after it. A bound makes what a stream can make the parser
   * hold a bound too: an unterminated line is otherwise kept whole. `openStream` passes its own
   * option of this name, 1 MiB by default.
   * @default Infinity (the spec's parser has no bound)
   */
  maxLineLength?: number
}

const BOM = '\uFEFF'

/**
 * The WHATWG "event stream interpretation", incremental: feed it text or bytes in pieces cut
 * anywhere. Lines end with CR, LF or CRLF (also when the CR and the LF arrive apart); a leading BOM
 * is dropped; `data` lines are joined with LF; an `id` containing NUL is ignored; `retry` counts
 * only if it is all ASCII digits; unknown fields are ignored; an event not ended by a blank line is
 * never dispatched. With `maxLineLength`, a longer line is dropped and reported by a throw.
 *
 * @example
 * const events: ServerSentEvent[] = []
 * const parser = new EventStreamParser({ onEvent: (event) => events.push(event) })
 * parser.feed('data: a\r\ndata: b\n\n') // events: [{ event: undefined, data: 'a\nb', id: undefined }]
 */
export class EventStreamParser {
  readonly #handlers: EventStreamHandlers
  /** Bytes fed in are decoded here; a BOM is kept for the parser to drop, once. */
  #decoder: TextDecoder | undefined
  #atStart = true
  /** The previous piece ended with CR: an LF that starts the next one belongs to it. */
  #afterCR = false
  /** Pieces of a line not yet ended (joined once, so a 5 MB line costs one copy). */
  #partial: string[] = []
  /** The characters in {@link #partial}. */
  #partialLength = 0
  readonly #maxLineLength: number
  /** The line being read grew past the bound: the rest of it is skipped. */
  #skipping = false
  #data = ''
  #hasData = false
  #event: string | undefined = undefined
  #id: string | undefined = undefined
  /** The last event ID buffer: set by `id`, never cleared by a dispatch. */
  #idBuffer: string
  #lastEventId: string

  /**
   * `lastEventId` starts the id that events carry over (`MessageEvent.lastEventId`).
   *
   * @throws {SSEError} `INVALID_OPTION` unless `maxLineLength` is a positive integer or `Infinity`.
   */
  constructor(
    handlers: EventStreamHandlers,
    lastEventId = '',
    { maxLineLength = Number.POSITIVE_INFINITY }: EventStreamParserOptions = {},
  ) {
    if (
      !(Number.isSafeInteger(maxLineLength) && maxLineLength >= 1) &&
      maxLineLength !== Number.POSITIVE_INFINITY
    ) {
      throw new SSEError(
        'INVALID_OPTION',
        `@sse/testing: option "maxLineLength" must be a positive integer (characters) or Infinity, got ${String(maxLineLength)}`,
      )
    }
    this.#handlers = handlers
    this.#idBuffer = lastEventId
    this.#lastEventId = lastEventId
    this.#maxLineLength = maxLineLength
  }

  /** The last event id dispatched so far (or the one this parser started with). */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /**
   * Reads the next piece of the stream: text, or UTF-8 bytes (feed one kind only).
   *
   * @throws {SSETestError} `TEST_LINE_TOO_LONG` after reading the whole piece, when a line in it grew
   * past `maxLineLength` (once per piece); the events before and after it were dispatched.
   */
  feed(piece: string | Uint8Array): void {
    let chunk: string
    if (typeof piece === 'string') chunk = piece
    else {
      this.#decoder ??= new TextDecoder('utf-8', { ignoreBOM: true })
      chunk = this.#decoder.decode(piece, { stream: true })
    }
    if (chunk.length === 0) return
    if (this.#atStart) {
      this.#atStart = false
      if (chunk.startsWith(BOM)) chunk = chunk.slice(1)
    }
    let position = 0
    if (this.#afterCR) {
      this.#afterCR = false
      if (chunk.charCodeAt(0) === 10) position = 1
    }
    const length = chunk.length
    let nextLF = chunk.indexOf('\n', position)
    let nextCR = chunk.indexOf('\r', position)
    let tooLong = false
    while (position < length) {
      if (nextLF !== -1 && nextLF < position) nextLF = chunk.indexOf('\n', position)
      if (nextCR !== -1 && nextCR < position) nextCR = chunk.indexOf('\r', position)
      const end = nextCR === -1 ? nextLF : nextLF === -1 ? nextCR : Math.min(nextCR, nextLF)
      const lineEnd = end === -1 ? length : end
      if (!this.#skipping && this.#partialLength + lineEnd - position > this.#maxLineLength) {
        this.#partial = []
        this.#partialLength = 0
        this.#skipping = true
        tooLong = true
      }
      if (end === -1) {
        if (!this.#skipping) {
          this.#partial.push(chunk.slice(position))
          this.#partialLength += length - position
        }
        break
      }
      if (this.#skipping) this.#skipping = false
      else {
        let line = chunk.slice(position, end)
        if (this.#partial.length > 0) {
          this.#partial.push(line)
          line = this.#partial.join('')
          this.#partial = []
          this.#partialLength = 0
        }
        this.#line(line)
      }
      position = end + 1
      if (end === nextCR) {
        if (position === length) this.#afterCR = true
        else if (chunk.charCodeAt(position) === 10) position++
      }
    }
    if (tooLong) {
      throw new SSETestError(
        'TEST_LINE_TOO_LONG',
        `@sse/testing: a line of the event stream grew past ${this.#maxLineLength} characters (option "maxLineLength"); it was dropped`,
      )
    }
  }

  #line(line: string): void {
    if (line.length === 0) {
      this.#dispatch()
      return
    }
    const colon = line.indexOf(':')
    if (colon === 0) {
      this.#handlers.onComment?.(line.slice(line.charCodeAt(1) === 32 ? 2 : 1))
      return
    }
    const field = colon === -1 ? line : line.slice(0, colon)
    const valueAt = colon === -1 ? line.length : colon + (line.charCodeAt(colon + 1) === 32 ? 2 : 1)
    const value = line.slice(valueAt)
    switch (field) {
      case 'data':
        this.#data = this.#hasData ? `${this.#data}\n${value}` : value
        this.#hasData = true
        break
      case 'event':
        this.#event = value === '' ? undefined : value
        break
      case 'id':
        if (!value.includes('\0')) {
          this.#id = value
          this.#idBuffer = value
        }
        break
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#handlers.onRetry?.(Number(value))
        break
    }
  }

  #dispatch(): void {
    this.#lastEventId = this.#idBuffer
    const event: ServerSentEvent | undefined = this.#hasData
      ? { event: this.#event, data: this.#data, id: this.#id }
      : undefined
    this.#data = ''
    this.#hasData = false
    this.#event = undefined
    this.#id = undefined
    if (event !== undefined) this.#handlers.onEvent(event)
  }
}
