import { type ClientHttp2Session, connect } from 'node:http2'

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
 * `close()` closes the request and the session. For tests about many streams on one session:
 * `openStream` from `@sse/testing` speaks HTTP/2 too, one session per stream.
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
