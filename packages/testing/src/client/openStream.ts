import { SSEError } from '@sse/core'
import { createOptionsValidator, MAX_TIMER_MS, type OptionsValidator } from '@sse/core/kit'
import { SSETestError } from '../sseTestError.js'
import { acquireTarget, type TargetLease } from './acquireTarget.js'
import { type StreamRequest, TestStream } from './testStream.js'
import type { OpenStreamOptions, StreamTarget } from './types.js'

const optionsValidator: OptionsValidator<OpenStreamOptions> = createOptionsValidator(
  '@sse/testing',
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      headers: { httpHeaders: true },
      lastEventId: { type: 'string' },
      maxLineLength: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      method: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
      raw: { type: 'boolean' },
      record: { type: 'boolean' },
      timeout: { type: 'integer', minimum: 1, maximum: MAX_TIMER_MS },
      signal: { methods: ['addEventListener', 'removeEventListener'] },
    },
  },
)

/** Request headers: ours, then the caller's, then `Last-Event-ID`, names compared case-blind. */
function requestHeaders(options: OpenStreamOptions, lastEventId: string): Record<string, string> {
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  const set = (name: string, value: string) => {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key]
    }
    headers[name] = value
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) set(name, String(value))
  if (lastEventId !== '') set('last-event-id', lastEventId)
  return headers
}

/** The path and query to request: `path`, or the URL target's own. */
function pathOf(target: StreamTarget, path: string | undefined): string {
  if (path === undefined) {
    if (typeof target !== 'string' && !(target instanceof URL)) return '/'
    try {
      const url = new URL(target)
      return `${url.pathname}${url.search}`
    } catch {
      return '/' // acquireTarget refuses it, with INVALID_TEST_TARGET
    }
  }
  // Node refuses the same characters in a request path; say so before any request starts.
  if (!path.startsWith('/') || /[^\u0021-\u00ff]/.test(path)) {
    throw new SSEError(
      'INVALID_OPTION',
      `@sse/testing: the path must start with "/" and hold no spaces or control characters, got ${JSON.stringify(path.length > 100 ? `${path.slice(0, 100)}…` : path)}`,
    )
  }
  return path
}

async function start(
  target: StreamTarget,
  path: string,
  options: OpenStreamOptions,
  lease: TargetLease,
): Promise<TestStream> {
  const lastEventId = options.lastEventId ?? ''
  const source: StreamRequest = {
    url: `${lease.endpoint.origin}${path}`,
    request: {
      method: options.method ?? 'GET',
      path,
      headers: requestHeaders(options, lastEventId),
    },
    options,
    acquire: () => acquireTarget(target),
    reopen: (id, next) => {
      const { lastEventId: _, ...rest } = options
      return start(target, path, id === '' ? rest : { ...rest, lastEventId: id }, next)
    },
  }
  const stream = new TestStream(source, lease)
  try {
    await stream.head()
    // A refusal is short and ends: the test gets its body with it.
    if (stream.status < 200 || stream.status >= 300) await stream.ended()
  } catch (error) {
    await stream.close()
    throw error
  }
  return stream
}

/**
 * Opens an event stream against a server, an app or a URL, for a test to read. Resolves once the
 * response head has arrived; for a status outside 2xx, once its body has too (the events are then
 * empty and iterating ends at once). A server the kit listened on closes with the last stream on it.
 *
 * @param target What to request; see {@link StreamTarget}.
 * @param path Path and query, such as `/events?topics=a`. Default: a URL target's own, else `/`.
 * @throws {SSEError} `INVALID_OPTION` for bad options.
 * @throws {SSETestError} `INVALID_TEST_TARGET` for a target it cannot open, `TEST_REQUEST_FAILED`
 * when no response came, `TEST_TIMEOUT` when none came in time. (A line past `maxLineLength` later
 * fails the stream's waits with `TEST_LINE_TOO_LONG`.)
 *
 * @example
 * const stream = await openStream(app, '/events?topics=news')
 * expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
 * await broker.publish('news', 'hello')
 * const [event] = await stream.take(1)
 * expect(event?.data).toBe('hello')
 * await stream.close()
 */
export function openStream(
  target: StreamTarget,
  path?: string,
  options?: OpenStreamOptions,
): Promise<TestStream>
export function openStream(target: StreamTarget, options?: OpenStreamOptions): Promise<TestStream>
export async function openStream(
  target: StreamTarget,
  pathOrOptions?: string | OpenStreamOptions,
  maybeOptions: OpenStreamOptions = {},
): Promise<TestStream> {
  const [path, options] =
    typeof pathOrOptions === 'object' ? [undefined, pathOrOptions] : [pathOrOptions, maybeOptions]
  optionsValidator.assert(options)
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new SSEError('INVALID_OPTION', '@sse/testing: option "signal" must be an AbortSignal')
  }
  const resolvedPath = pathOf(target, path)
  if (options.signal?.aborted) {
    throw new SSETestError('TEST_REQUEST_FAILED', '@sse/testing: the signal was already aborted', {
      cause: options.signal.reason,
    })
  }
  return start(target, resolvedPath, options, await acquireTarget(target))
}
