import type { Connection } from './internals/honoNodeSocket.js'

interface Waiting {
  readonly leaving: Set<() => void>
  readonly closed: () => void
}

/** The requests waiting for each connection's `'close'`. */
const waiting = new WeakMap<Connection, Waiting>()

/**
 * Calls `left` when `connection` closes; the function it returns stops that. One `'close'` listener
 * per connection, however many requests wait on it: a client that pipelines has many requests open
 * on one connection at once (`@hono/node-server` hands them all to the app), and a listener each
 * would pass Node's limit of 10 and print a memory-leak warning in the app's log.
 */
export function onConnectionClose(connection: Connection, left: () => void): () => void {
  const entry = waiting.get(connection) ?? watch(connection)
  entry.leaving.add(left)
  return () => {
    if (!entry.leaving.delete(left) || entry.leaving.size > 0) return
    if (waiting.get(connection) !== entry) return
    waiting.delete(connection)
    connection.removeListener('close', entry.closed)
  }
}

function watch(connection: Connection): Waiting {
  const leaving = new Set<() => void>()
  const closed = (): void => {
    waiting.delete(connection)
    for (const leave of [...leaving]) leave()
  }
  const entry = { leaving, closed }
  waiting.set(connection, entry)
  connection.once('close', closed)
  return entry
}
