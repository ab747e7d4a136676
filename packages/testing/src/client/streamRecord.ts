import { TextDecoder } from 'node:util'
import { EventStreamParser } from './eventStreamParser.js'
import type { ServerSentEvent } from './types.js'

/** With `record: false`, the text kept: the end of the body, for asserting how it ended. */
const TAIL = 4096

/** How a {@link StreamRecord} keeps what arrives. */
export interface RecordOptions {
  /** Keep every chunk, event and comment; else count, and keep the last 4 KiB of text. */
  record: boolean
  /** Parse nothing; count chunks instead of events. */
  raw: boolean
  /** The id events carry over until the stream sends one. */
  lastEventId: string
  /** The longest line the parser keeps. */
  maxLineLength: number
}

/** What one response body brought: its bytes, its text, and the events parsed from it. */
export class StreamRecord {
  readonly #options: RecordOptions
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  #parser: EventStreamParser | undefined
  #text = ''
  readonly #chunks: Buffer[] = []
  #bytes: { count: number; buffer: Buffer } | undefined
  readonly events: ServerSentEvent[] = []
  readonly comments: string[] = []
  received = 0
  retry: number | undefined

  constructor(options: RecordOptions) {
    this.#options = options
  }

  /** The id an `EventSource` would send on reconnecting. */
  get lastEventId(): string {
    return this.#parser?.lastEventId ?? this.#options.lastEventId
  }

  /** Parses the body from now on, unless the stream is raw: the head said it is an event stream. */
  parseEvents(): void {
    if (this.#options.raw) return
    const record = this.#options.record
    this.#parser = new EventStreamParser(
      {
        onEvent: (event) => {
          this.received++
          if (record) this.events.push(event)
        },
        onComment: (comment) => {
          if (record) this.comments.push(comment)
        },
        onRetry: (ms) => {
          this.retry = ms
        },
      },
      this.#options.lastEventId,
      { maxLineLength: this.#options.maxLineLength },
    )
  }

  /** Keeps and parses `chunk`; throws what the parser throws (`TEST_LINE_TOO_LONG`), after keeping it. */
  add(chunk: Buffer): void {
    const text = this.#decoder.decode(chunk, { stream: true })
    if (this.#options.record) {
      this.#chunks.push(chunk)
      this.#text += text
    } else {
      this.#text = (this.#text + text).slice(-TAIL)
    }
    if (this.#options.raw) this.received++
    this.#parser?.feed(text)
  }

  bytes(): Buffer {
    if (!this.#options.record) return Buffer.from(this.#text)
    if (this.#bytes?.count !== this.#chunks.length) {
      this.#bytes = { count: this.#chunks.length, buffer: Buffer.concat(this.#chunks) }
    }
    return this.#bytes.buffer
  }

  text(): string {
    return this.#text
  }
}
