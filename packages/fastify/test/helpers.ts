import { type ClientHttp2Session, connect } from 'node:http2'
import { afterEach } from 'vitest'

// The HTTP/1.1 client is shared with the other packages' tests.
export { once, type RawClient, rawClient } from '../../core/test/helpers.js'

/** One HTTP/2 request, with the body collected as text. */
export interface H2Stream {
  response: Promise<Record<string, string | string[] | number | undefined>>
  /** Resolves when the stream has closed. */
  ended: Promise<void>
  text(): string
  /** Resolves once `predicate` holds for the body; rejects if the stream ends before. */
  until(predicate: (text: string) => boolean): Promise<void>
  close(): void
}

function h2Stream(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
): H2Stream {
  const stream = session.request({ ':path': path, accept: 'text/event-stream', ...headers })
  stream.on('error', () => {})
  let body = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    body += chunk
  })
  const ended = new Promise<void>((resolve) => stream.on('close', resolve))
  return {
    response: new Promise((resolve) => stream.on('response', (h) => resolve(h))),
    ended,
    text: () => body,
    async until(predicate) {
      while (!predicate(body)) {
        const more = await Promise.race([
          new Promise<boolean>((r) => stream.once('data', () => r(true))),
          ended.then(() => false),
        ])
        if (!more && !predicate(body)) throw new Error(`the stream ended; received:\n${body}`)
      }
    },
    close: () => stream.close(),
  }
}

/**
 * An HTTP/2 (h2c) session with one request on it; `request()` opens more on the same session.
 * `close()` closes the request and the session.
 */
export function h2Client(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
): H2Stream & { request(path: string): H2Stream } {
  const session = connect(origin)
  session.on('error', () => {})
  const first = h2Stream(session, path, headers)
  return {
    ...first,
    request: (more) => h2Stream(session, more, headers),
    close: () => {
      first.close()
      session.close()
    },
  }
}

/** A log line written by Fastify's logger. */
export interface LogLine {
  level: number
  msg: string
  reqId?: string
  responseTime?: number
  res?: { statusCode: number }
  err?: { type: string; message: string; code?: string }
  [key: string]: unknown
}

/** A pino destination that keeps every line, and lets a test wait for one. */
export function logCapture() {
  const lines: LogLine[] = []
  const waiters = new Set<() => void>()
  return {
    lines,
    stream: {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine)
        for (const waiter of [...waiters]) waiter()
      },
    },
    /** Resolves with the first line matching `predicate`, now or later. */
    find(predicate: (line: LogLine) => boolean): Promise<LogLine> {
      const found = lines.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => {
        const check = () => {
          const line = lines.find(predicate)
          if (line === undefined) return
          waiters.delete(check)
          resolve(line)
        }
        waiters.add(check)
      })
    },
  }
}

/**
 * Registers an `afterEach` that runs the cleanups a test pushed, newest first (clients before the
 * app they talk to), and returns the list to push to.
 */
export function useCleanups(): Array<() => unknown> {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return cleanups
}
