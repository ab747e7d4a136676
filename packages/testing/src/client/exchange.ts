import type { IncomingHttpHeaders } from 'node:http'

/** Where a request goes: the origin of a listening server, resolved by `acquireTarget`. */
export interface Endpoint {
  /** `http://127.0.0.1:<port>` or `https://…`, no trailing slash. */
  readonly origin: string
  /** Speak HTTP/2 (h2c over `http:`, h2 over `https:`). */
  readonly http2: boolean
  /** Accept any certificate: the server is one the test handed over, not one found on a network. */
  readonly trustAnyCertificate: boolean
  /** A Unix socket or Windows pipe the server listens on instead of a port. */
  readonly socketPath?: string | undefined
}

/** What one request reports, in order: a head (or none), data, an end (or none), a close. */
export interface ExchangeHandlers {
  onHead(status: number, headers: IncomingHttpHeaders): void
  onData(chunk: Buffer): void
  /** The body ended cleanly. */
  onEnd(): void
  /** The request is over and its connection is gone; `error` when it failed before a head. */
  onClose(error?: Error): void
}

/** A request in flight, over HTTP/1.1 or HTTP/2. */
export interface Exchange {
  /** Stops reading from the connection, so the server's writes back up. */
  pause(): void
  resume(): void
  /** Cuts the request and its connection. */
  destroy(): void
}

/** What an exchange sends. */
export interface ExchangeRequest {
  method: string
  /** Path and query, starting with `/`. */
  path: string
  headers: Record<string, string>
}
