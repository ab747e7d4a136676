import { connect, type Socket } from 'node:net'
import { nowMicros } from './clock.js'
import type { LatencyHistogram } from './latencyHistogram.js'

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const ZERO = 0x30
const NINE = 0x39
const HEAD_END = Buffer.from('\r\n\r\n')
const EVENT_END = Buffer.from('\n\n')

enum Body {
  Raw = 0,
  ChunkSize = 1,
  ChunkData = 2,
  ChunkEnd = 3,
  Done = 4,
}

/** What a connection tells its owner. */
export interface ConnectionListener {
  /** Headers arrived (`status` 0 when the connection failed before). */
  opened(connection: SSEClientConnection, status: number): void
  /** One benchmark event arrived; `previousSeq` is the sequence number before it (-1 at first). */
  event(connection: SSEClientConnection, previousSeq: number): void
  closed(connection: SSEClientConnection): void
}

export interface ConnectionOptions {
  port: number
  path: string
  /** The loopback source address to connect from (`127.x.y.z`); absent, the kernel's choice. */
  localAddress?: string
  /**
   * The local port to bind to (with `localAddress`): a caller that spreads its connections over
   * ports itself spares the kernel a search of the ephemeral range for each one.
   */
  localPort?: number
  headers?: Record<string, string>
  /** Remember the `id:` of every event by sequence number (for replay scenarios). */
  trackIds?: boolean
  histogram: LatencyHistogram
  listener: ConnectionListener
}

/**
 * One SSE client over a raw socket: an HTTP/1.1 GET, chunked transfer decoding and a minimal
 * SSE parser that only looks for `data:` (and, on request, `id:`) lines. Each event's data starts
 * with `<seq> <send time µs>` (a JSON-quoted string is accepted too); the connection checks
 * sequence numbers for loss and order and records publish-to-receive latency.
 */
export class SSEClientConnection {
  readonly socket: Socket
  status = 0
  /** Events with a sequence number received since the last {@link resetCounts}. */
  received = 0
  /** Sequence numbers skipped (events lost in the middle of the stream). */
  gaps = 0
  /** Events that arrived with a sequence number not above the previous one. */
  reorders = 0
  /** Events without a benchmark sequence number (welcome messages and the like). */
  other = 0
  lastSeq = -1
  /** µs, this thread's clock. */
  lastReceivedAt = 0
  closed = false
  /** The code of the socket's error, if it had one (`EADDRINUSE`, `ECONNREFUSED`, …). */
  errorCode: string | undefined
  /** Closed by {@link destroy} (by the load generator itself), not by the server. */
  destroyed = false
  paused = false
  /** Set by {@link pause} and kept after {@link resume}: this is one of the stalled clients. */
  stalled = false
  /** Parse `id:` lines to keep {@link lastId} (set by `trackIds` and by {@link pause}). */
  trackLastId: boolean
  /** Id of the last event received (only while {@link trackLastId}). */
  lastId: string | undefined
  /** Ids by sequence number (only with `trackIds`). */
  readonly ids: Map<number, string> | undefined

  readonly #histogram: LatencyHistogram
  readonly #listener: ConnectionListener
  #head: Buffer | null = Buffer.alloc(0)
  #body = Body.Raw
  #chunkLeft = 0
  #sizeExtension = false
  #carry: Buffer | null = null
  #now = 0

  constructor(options: ConnectionOptions) {
    this.#histogram = options.histogram
    this.#listener = options.listener
    this.ids = options.trackIds ? new Map() : undefined
    this.trackLastId = options.trackIds ?? false
    let request = `GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nAccept: text/event-stream\r\n`
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      request += `${name}: ${value}\r\n`
    }
    request += '\r\n'
    const socket = connect({
      port: options.port,
      host: '127.0.0.1',
      noDelay: true,
      ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
      ...(options.localPort !== undefined && { localPort: options.localPort }),
    })
    this.socket = socket
    socket.on('connect', () => socket.write(request))
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code
    })
    socket.on('close', () => {
      const wasOpen = this.status !== 0
      this.closed = true
      if (!wasOpen) this.#listener.opened(this, 0)
      this.#listener.closed(this)
    })
  }

  /** Zeroes the counters (the sequence check continues from the last event seen). */
  resetCounts(): void {
    this.received = 0
    this.gaps = 0
    this.reorders = 0
    this.other = 0
  }

  /** Stops reading: the kernel buffers fill up and the server sees a stalled client. */
  pause(): void {
    this.paused = true
    this.stalled = true
    this.trackLastId = true
    this.socket.pause()
  }

  resume(): void {
    this.paused = false
    this.socket.resume()
  }

  destroy(): void {
    this.destroyed = true
    this.socket.destroy()
  }

  /**
   * The server ended this stream after it opened: a cut, unless the load generator closed it
   * itself or it is one of the stalled clients (whose cut is what S4 expects of a bounded buffer).
   */
  get cutWhileHealthy(): boolean {
    return this.closed && this.status === 200 && !this.destroyed && !this.stalled
  }

  #onData(chunk: Buffer): void {
    this.#now = nowMicros()
    this.lastReceivedAt = this.#now
    let start = 0
    if (this.#head !== null) {
      const head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk])
      const end = head.indexOf(HEAD_END)
      if (end === -1) {
        this.#head = Buffer.from(head)
        return
      }
      this.#head = null
      this.#parseHead(head.toString('latin1', 0, end))
      chunk = head
      start = end + 4
      if (this.status !== 200) {
        this.socket.destroy()
        return
      }
    }
    if (this.#body === Body.Raw) this.#feed(chunk, start, chunk.length)
    else this.#dechunk(chunk, start)
  }

  #parseHead(head: string): void {
    const lines = head.split('\r\n')
    this.status = Number(lines[0]?.split(' ')[1] ?? 0)
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!.toLowerCase()
      if (line.startsWith('transfer-encoding:') && line.includes('chunked')) {
        this.#body = Body.ChunkSize
      }
    }
    this.#listener.opened(this, this.status)
  }

  #dechunk(buf: Buffer, i: number): void {
    const length = buf.length
    while (i < length) {
      switch (this.#body) {
        case Body.ChunkSize: {
          const c = buf[i++]!
          if (c === LF) {
            if (this.#chunkLeft === 0) {
              this.#body = Body.Done
              return
            }
            this.#sizeExtension = false
            this.#body = Body.ChunkData
          } else if (c === CR || this.#sizeExtension) {
            // end of the size line, or a chunk extension: ignored
          } else if (c === 0x3b) {
            this.#sizeExtension = true
          } else {
            const digit = c <= NINE ? c - ZERO : (c | 0x20) - 0x57
            this.#chunkLeft = this.#chunkLeft * 16 + digit
          }
          break
        }
        case Body.ChunkData: {
          const n = Math.min(this.#chunkLeft, length - i)
          this.#feed(buf, i, i + n)
          i += n
          this.#chunkLeft -= n
          if (this.#chunkLeft === 0) this.#body = Body.ChunkEnd
          break
        }
        case Body.ChunkEnd:
          if (buf[i++] === LF) this.#body = Body.ChunkSize
          break
        default:
          return
      }
    }
  }

  /** Parses SSE text in `buf[start, end)`; an event cut at `end` waits for the next bytes. */
  #feed(buf: Buffer, start: number, end: number): void {
    if (this.#carry !== null) {
      buf = Buffer.concat([this.#carry, buf.subarray(start, end)])
      this.#carry = null
      start = 0
      end = buf.length
    }
    let pos = start
    while (pos < end) {
      const stop = buf.indexOf(EVENT_END, pos)
      if (stop === -1 || stop + 2 > end) {
        this.#carry = Buffer.from(buf.subarray(pos, end))
        return
      }
      this.#event(buf, pos, stop)
      pos = stop + 2
    }
  }

  /** One event in `buf[start, stop)` (without its blank line). */
  #event(buf: Buffer, start: number, stop: number): void {
    // Every contender writes `data:` last (or only): look at the last line first.
    const lastLine = buf.lastIndexOf(LF, stop - 1)
    let line = lastLine < start ? start : lastLine + 1
    if (!isData(buf, line) || this.trackLastId) {
      line = -1
      let p = start
      while (p < stop) {
        let eol = buf.indexOf(LF, p)
        if (eol === -1 || eol > stop) eol = stop
        if (isData(buf, p)) line = p
        else if (this.trackLastId && isId(buf, p)) {
          const from = buf[p + 3] === SPACE ? p + 4 : p + 3
          this.lastId = buf.toString('latin1', from, eol)
        }
        p = eol + 1
      }
      if (line === -1) return
    }
    let p = line + 5
    if (buf[p] === SPACE) p++
    if (buf[p] === QUOTE) p++
    let c = buf[p]!
    if (c < ZERO || c > NINE) {
      this.other++
      return
    }
    let seq = 0
    while (c >= ZERO && c <= NINE) {
      seq = seq * 10 + (c - ZERO)
      c = buf[++p]!
    }
    let sentAt = 0
    c = buf[++p]!
    while (c >= ZERO && c <= NINE) {
      sentAt = sentAt * 10 + (c - ZERO)
      c = buf[++p]!
    }
    const previousSeq = this.lastSeq
    this.#sequence(seq)
    this.#histogram.record(this.#now - sentAt)
    if (this.ids !== undefined && this.lastId !== undefined) this.ids.set(seq, this.lastId)
    this.#listener.event(this, previousSeq)
  }

  #sequence(seq: number): void {
    const last = this.lastSeq
    if (last >= 0) {
      if (seq <= last) this.reorders++
      else if (seq > last + 1) this.gaps += seq - last - 1
    }
    this.lastSeq = seq
    this.received++
  }
}

function isData(buf: Buffer, p: number): boolean {
  return (
    buf[p] === 0x64 &&
    buf[p + 1] === 0x61 &&
    buf[p + 2] === 0x74 &&
    buf[p + 3] === 0x61 &&
    buf[p + 4] === 0x3a
  )
}

function isId(buf: Buffer, p: number): boolean {
  return buf[p] === 0x69 && buf[p + 1] === 0x64 && buf[p + 2] === 0x3a
}
