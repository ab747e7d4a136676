import { type OpenStreamOptions, openStream, type TestStream } from '@sse/testing'
import type { Cleanups } from '@sse/testkit'
import type { FastifyInstance } from 'fastify'

/**
 * Listens with `app` on an ephemeral loopback port, closed by `cleanups` after the test, and
 * returns its origin with `connect(path)`, which opens a stream on the app with `@sse/testing`
 * (closed by the test file's `afterEach(closeStreams)`).
 */
export async function listenApp(cleanups: Cleanups, app: FastifyInstance) {
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  const connect = (
    path: string,
    headers: Record<string, string> = {},
    options: OpenStreamOptions = {},
  ): Promise<TestStream> => openStream(app, path, { headers, ...options })
  return { origin, connect }
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
