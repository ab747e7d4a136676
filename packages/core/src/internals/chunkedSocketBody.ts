/**
 * PRIVATE NODE DETAILS: the direct HTTP/1.1 body writer.
 *
 * What it reads, of `node:http` on Node 20, 22 and 24 (checked by `test/internals.canary.test.ts`,
 * which CI runs on all three):
 * - `OutgoingMessage.prototype.write`: compared by identity, to know that nothing wraps `res.write()`;
 * - `ServerResponse#chunkedEncoding`: `true` once the head announced `Transfer-Encoding: chunked`;
 * - `ServerResponse#finished`: `true` once `end()` was called (the field behind `writableEnded`);
 * - `Socket#_httpMessage`: the response a socket is serving now.
 *
 * Why: writing the frames of an SSE body to the socket as HTTP/1.1 chunks is the same code for every
 * response, whatever its prototype (Express gives `res` objects shapes of their own, so Node's own
 * `write()` path runs megamorphic on them), and skips Node's per-write bookkeeping.
 *
 * Fallback: the public `res.write()`. It is taken whenever a detail does not read as expected (a
 * field missing or of another type, a wrapped `write`), for HTTP/2, HTTP/1.0, and with the stream
 * option `writePath: 'response'`, which turns this file off. It can go when the public path is as
 * fast on S1 isolated events (docs/benchmarks.md compares the two).
 */
import { OutgoingMessage } from 'node:http'

/** A response as this file reads it: Node's private fields, typed as unknown until checked. */
interface ResponseFields {
  readonly socket?: unknown
  readonly write: unknown
  readonly writableEnded: boolean
  readonly writableLength: number
  readonly chunkedEncoding?: unknown
  readonly finished?: unknown
}

/** The socket under an HTTP/1.1 response, as {@link chunkedBodySocket} hands it out. */
export interface BodySocket {
  readonly writableLength: number
  write(chunk: Buffer): boolean
  on(event: 'drain', listener: () => void): unknown
  removeListener(event: 'drain', listener: () => void): unknown
}

interface SocketFields extends BodySocket {
  readonly _httpMessage?: unknown
}

const nodeWrite: unknown = OutgoingMessage.prototype.write

/**
 * The socket to write an open response's body to directly, as HTTP/1.1 chunks, or `null` to write
 * through `res.write()`: only when Node frames the body in chunks, nothing wraps `res.write()` (such
 * as `compression`), Node holds back nothing of its own for this response, and every private field
 * reads as this file expects.
 */
export function chunkedBodySocket(res: ResponseFields): BodySocket | null {
  const socket = res.socket as SocketFields | null | undefined
  if (socket == null || res.chunkedEncoding !== true || res.write !== nodeWrite) return null
  if (res.writableEnded || res.finished !== false || socket._httpMessage !== res) return null
  return res.writableLength === socket.writableLength ? socket : null
}

/**
 * Whether `socket` still carries the body of `res`: not once the app ended the response itself,
 * since nothing may follow its last chunk. (`finished` is a plain field: it reads fast whatever the
 * response's shape, where the `writableEnded` getter does not.)
 */
export function carriesBody(socket: BodySocket, res: ResponseFields): boolean {
  return (socket as SocketFields)._httpMessage === res && res.finished !== true
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
