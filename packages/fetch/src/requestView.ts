import type { SSERequest } from '@sse/core'

/**
 * A web `Request` as core's streams read a request: `method`, `url` (path and query), lower-case
 * `headers`, and `httpVersionMajor`. The runtime owns the connection, so it reads as HTTP/2: no
 * `Connection` header is written, and nothing waits for a socket. `raw` is the `Request` itself.
 */
export class RequestView {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly httpVersionMajor = 2
  readonly httpVersionMinor = 0
  readonly httpVersion = '2.0'
  /** The `Request` this view reads. */
  readonly raw: Request

  constructor(request: Request) {
    this.raw = request
    this.method = request.method
    const href = request.url
    // `scheme://host/path?query` → `/path?query`, without parsing the whole URL.
    const path = href.indexOf('/', href.indexOf('//') + 2)
    this.url = path < 0 ? '/' : href.slice(path)
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    this.headers = headers
  }
}

/**
 * The `Request`s behind the Node requests of streams opened with the option `node`, whose hooks see
 * Node's request: what {@link webRequestOf} reads. Weak: an entry goes with its request.
 */
const nodeRequests = new WeakMap<SSERequest, Request>()

/** Remembers that `incoming`, a Node request a stream is opened on, came as `request`. */
export function rememberWebRequest(incoming: SSERequest, request: Request): void {
  nodeRequests.set(incoming, request)
}

/**
 * The web `Request` behind `request`, a stream's request as hooks and diagnostics see it, when the
 * Fetch adapter opened that stream (with the option `node` too); `undefined` for any other request.
 *
 * @example
 * const broker = createBroker({ authorize: (request) => webRequestOf(request)?.headers.has('cookie') })
 */
export function webRequestOf(request: SSERequest | RequestView): Request | undefined {
  return request instanceof RequestView ? request.raw : nodeRequests.get(request)
}
