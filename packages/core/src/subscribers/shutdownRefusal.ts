import type { SSERequest } from '../types.js'

/** `Retry-After` of every 503 that refuses a stream: come back in 5 s. */
export const RETRY_AFTER: Readonly<Record<string, string>> = { 'Retry-After': '5' }
const OVER_HTTP2 = RETRY_AFTER
const OVER_HTTP1: Readonly<Record<string, string>> = { ...OVER_HTTP2, Connection: 'close' }

/**
 * Headers of the 503 that refuses a stream asked for while its broker or group shuts down. Over
 * HTTP/1.x the connection closes after it: such a request came on a connection that was busy when
 * the server closed (the server already closed the idle ones), and kept alive it would idle until
 * the keep-alive timeout, holding `server.close()` open. HTTP/2 forbids `Connection`; its sessions
 * close with the server.
 */
export function shutdownRefusalHeaders(request: SSERequest): Readonly<Record<string, string>> {
  return request.httpVersionMajor < 2 ? OVER_HTTP1 : OVER_HTTP2
}
