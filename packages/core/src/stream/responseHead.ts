import type { SSERequest, SSEStreamOptions } from '../types.js'

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
  socket?: { end(): unknown } | null
  stream?: { session?: { close(): void } }
  readonly writableLength: number
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
