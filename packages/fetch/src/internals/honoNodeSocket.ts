/**
 * PRIVATE FRAMEWORK DETAILS: the connection under a `Request` made by `@hono/node-server`.
 *
 * What it reads, of `@hono/node-server` 1.x and 2.x (checked by `test/internals.canary.test.ts`):
 * - the request's own symbol property described `incomingKey`: Node's `IncomingMessage`;
 * - its `socket`: the connection, with `destroyed` and its `'close'` event.
 *
 * Why: `@hono/node-server` aborts `request.signal` when its `ServerResponse` closes. A pipelined
 * request queued behind a stream has a response that never gets the socket, and so never closes:
 * when the client leaves, nothing tells the handler, and the streams of its queued requests would
 * stay counted (against `maxConnections`) for good. The connection's `'close'` does tell.
 *
 * Fallback: the request's `signal` alone, as on every other server; taken whenever a detail does
 * not read as expected (another server, another version). It can go when `@hono/node-server`
 * aborts the signals of queued requests itself.
 */

/** The connection, as this file hands it out. */
export interface Connection {
  readonly destroyed: boolean
  once(event: 'close', listener: () => void): unknown
  removeListener(event: 'close', listener: () => void): unknown
}

const INCOMING = 'incomingKey'

function isConnection(value: unknown): value is Connection {
  if (typeof value !== 'object' || value === null) return false
  const socket = value as Partial<Record<keyof Connection, unknown>>
  return (
    typeof socket.destroyed === 'boolean' &&
    typeof socket.once === 'function' &&
    typeof socket.removeListener === 'function'
  )
}

/** The connection a `@hono/node-server` request came on, or `undefined` for any other request. */
export function honoNodeConnection(request: Request): Connection | undefined {
  for (const key of Object.getOwnPropertySymbols(request)) {
    if (key.description !== INCOMING) continue
    const incoming = (request as unknown as Record<symbol, unknown>)[key]
    if (typeof incoming !== 'object' || incoming === null) return undefined
    const socket = (incoming as { socket?: unknown }).socket
    return isConnection(socket) ? socket : undefined
  }
  return undefined
}
