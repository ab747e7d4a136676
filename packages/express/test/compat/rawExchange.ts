import { connect } from 'node:net'

/** One HTTP/1.1 request, sent as written on a connection of its own. */
export interface RawRequest {
  method?: string
  path: string
  /** Header lines after `Host` and `Connection: close`, in order. */
  headers?: Record<string, string>
  body?: Buffer | string
}

/** A response as it came off the wire, and its parts. */
export interface RawResponse {
  /** Every byte, status line to end of body (chunked framing included). */
  readonly bytes: Buffer
  readonly status: number
  /** Header lines as sent, `Name: value`, in order. */
  readonly headerLines: readonly string[]
  /** The bytes after the head, as sent (still gzip or chunked if they were). */
  readonly body: Buffer
  header(name: string): string | undefined
}

/** The bytes of `request`, with a fixed `Host` so that two servers on two ports see the same. */
export function requestBytes({ method = 'GET', path, headers = {}, body }: RawRequest): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: compat.test', 'Connection: close']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body)
  if (body !== undefined) lines.push(`Content-Length: ${payload.length}`)
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload])
}

/** Splits what a server sent for one request into its parts. */
export function parseResponse(bytes: Buffer): RawResponse {
  const end = bytes.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(bytes.toString())}`)
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n')
  return {
    bytes,
    status: Number(statusLine.split(' ')[1]),
    headerLines,
    body: bytes.subarray(end + 4),
    header(name) {
      const prefix = `${name.toLowerCase()}: `
      return headerLines.find((line) => line.toLowerCase().startsWith(prefix))?.slice(prefix.length)
    },
  }
}

/** Sends `request` to the server at `url` and resolves with every byte it answered, once it closed. */
export function exchange(url: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer to ${request.path}`)))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)))
      } catch (error) {
        reject(error)
      }
    })
    socket.write(requestBytes(request))
  })
}

/**
 * HTTP/1.1 text with what legitimately differs between two servers taken out: `Date` header lines,
 * and when a rate-limit window resets (`t=` of `RateLimit`, `X-RateLimit-Reset`, `Retry-After`), which
 * depends on when each app saw its first request: the two can fall on either side of a second.
 * Everything else stays byte for byte.
 */
export function withoutVolatileHeaders(text: string): string {
  return text
    .replace(/^Date: .*\r\n/gim, '')
    .replace(/^(RateLimit: .*\bt=)\d+/gim, '$1<s>')
    .replace(/^((?:X-RateLimit-Reset|Retry-After): )\d+/gim, '$1<s>')
}

/** {@link withoutVolatileHeaders} of the whole response, body as latin1 (gzip included). */
export function comparable(response: RawResponse): string {
  return withoutVolatileHeaders(response.bytes.toString('latin1'))
}
