import { OutgoingMessage } from 'node:http'
import type { SSERequest, SSEStreamOptions } from './types.js'

/** What a stream needs of Node's `ServerResponse` / `Http2ServerResponse`. */
export interface RawResponse {
  statusCode: number
  readonly headersSent: boolean
  readonly destroyed: boolean
  readonly writableEnded: boolean
  setHeader(name: string, value: string | number | readonly string[]): unknown
  removeHeader(name: string): unknown
  writeHead(statusCode: number, headers: Readonly<Record<string, string>>): unknown
  flushHeaders(): void
  write(chunk: Buffer): boolean
  end(chunk?: Buffer | string): unknown
  destroy(error?: Error): unknown
  on(event: 'close' | 'drain', listener: () => void): unknown
  once(event: 'socket', listener: () => void): unknown
  removeListener(event: 'drain', listener: () => void): unknown
  socket?: ({ end(): unknown } & Partial<BodySocket>) | null
  stream?: { session?: { close(): void } }
  /** Node's: `true` when the head it wrote announced `Transfer-Encoding: chunked` (HTTP/1.1). */
  readonly chunkedEncoding?: boolean
  /** Node's: `true` once `end()` was called (what `writableEnded` reads). */
  readonly finished?: boolean
  readonly writableLength: number
}

/** The socket under an HTTP/1.1 response, as {@link chunkedBodySocket} hands it out. */
export interface BodySocket {
  /** Node's: the response this socket is serving now. */
  readonly _httpMessage?: unknown
  readonly writableLength: number
  write(chunk: Buffer): boolean
  on(event: 'drain', listener: () => void): unknown
  removeListener(event: 'drain', listener: () => void): unknown
}

/** The default SSE response headers; HTTP/2 forbids `Connection`. */
const SSE_HEADERS_H2: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
}
const SSE_HEADERS_H1: Readonly<Record<string, string>> = {
  ...SSE_HEADERS_H2,
  Connection: 'keep-alive',
}

/**
 * Writes status 200 and the SSE headers, and flushes them; headers the app set before are kept.
 * Throws Node's error for a header it refuses, having taken back what it set, so that a refusal
 * can still be written.
 */
export function writeSSEHead(
  res: RawResponse,
  request: SSERequest,
  headers: SSEStreamOptions['headers'],
): void {
  const defaults = request.httpVersionMajor < 2 ? SSE_HEADERS_H1 : SSE_HEADERS_H2
  if (headers === undefined) {
    // One shared, constant header object: no per-response header map (merged by Node with any
    // header the app set before).
    res.writeHead(200, defaults)
    res.flushHeaders()
    return
  }
  try {
    for (const name of Object.keys(defaults)) res.setHeader(name, defaults[name]!)
    for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!)
    res.statusCode = 200
    res.flushHeaders()
  } catch (error) {
    // A header Node refuses only when it writes the head (say `Keep-Alive` over HTTP/2) would
    // also make the refusal unwritable: take back what this head set.
    if (!res.headersSent) {
      for (const name of [...Object.keys(defaults), ...Object.keys(headers)]) res.removeHeader(name)
    }
    throw error
  }
}

/**
 * Answers with a plain-text refusal if nothing was written yet, else cuts the response. Never
 * throws: a refusal Node cannot write cuts the response too.
 */
export function writeRefusal(
  res: RawResponse,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  try {
    if (!res.headersSent && !res.destroyed) {
      res.statusCode = status
      res.setHeader('Content-Type', 'text/plain; charset=utf-8')
      if (headers !== undefined) {
        for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!)
      }
      res.end(message)
    } else if (!res.writableEnded) {
      res.destroy()
    }
  } catch {
    res.destroy()
  }
}

/**
 * Whether an HTTP/1.1 response waits behind an earlier one on its connection (pipelining): Node
 * assigns it the socket only once that one has finished.
 */
export function isQueued(res: RawResponse, request: SSERequest): boolean {
  return request.httpVersionMajor < 2 && res.socket === null && !res.destroyed
}

const nodeWrite: unknown = OutgoingMessage.prototype.write

/**
 * The socket to write an open response's body to directly, as HTTP/1.1 chunks, or `null` to write
 * through `res.write()`. Writing to the socket is the same code for every response, whatever its
 * prototype: Express gives every `res` a hidden class of its own, so Node's `write()` path runs
 * megamorphic on them. Only when Node frames the body in chunks, nothing wraps `res.write()` (such
 * as `compression`), and Node holds back nothing of its own for this response.
 */
export function chunkedBodySocket(res: RawResponse): BodySocket | null {
  const socket = res.socket
  if (socket == null || res.chunkedEncoding !== true || res.write !== nodeWrite) return null
  if (res.writableEnded || socket._httpMessage !== res) return null
  const body = socket as BodySocket
  return res.writableLength === body.writableLength ? body : null
}

/**
 * Whether `socket` still carries the body of `res`: not once the app ended the response itself,
 * since nothing may follow its last chunk. (`finished` is Node's field behind `writableEnded`: a
 * plain field reads fast even on Express responses, where the getter does not.)
 */
export function carriesBody(socket: BodySocket, res: RawResponse): boolean {
  return socket._httpMessage === res && res.finished !== true
}

/** Chunks framed in the current flush pass, by the data they frame: the same bytes for every stream. */
const framedData: Buffer[] = []
const framedChunks: Buffer[] = []
const FRAMED_KEPT = 4
let nextFramed = 0
let forgetScheduled = false

function forgetFramed(): void {
  forgetScheduled = false
  framedData.length = 0
  framedChunks.length = 0
  nextFramed = 0
}

/** `data` as one HTTP/1.1 chunk: its size in hex, CRLF, the data, CRLF. */
function framed(data: Buffer): Buffer {
  for (let i = 0; i < framedData.length; i++) {
    if (framedData[i] === data) return framedChunks[i]!
  }
  const size = data.length.toString(16)
  const chunk = Buffer.allocUnsafe(size.length + data.length + 4)
  let at = chunk.write(size, 0, 'latin1')
  chunk[at++] = 0x0d
  chunk[at++] = 0x0a
  at += data.copy(chunk, at)
  chunk[at++] = 0x0d
  chunk[at] = 0x0a
  // Kept until the flush pass that wrote it ends: nothing is held between passes.
  framedData[nextFramed] = data
  framedChunks[nextFramed] = chunk
  nextFramed = (nextFramed + 1) % FRAMED_KEPT
  if (!forgetScheduled) {
    forgetScheduled = true
    queueMicrotask(forgetFramed)
  }
  return chunk
}

/**
 * Writes `data` to `socket` as one chunk of the body, in one `write()`; returns its verdict.
 * Streams writing the same `Buffer` in one flush pass share one framed copy.
 */
export function writeChunk(socket: BodySocket, data: Buffer): boolean {
  return data.length === 0 || socket.write(framed(data))
}
