import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import type { Cleanups } from './useCleanups.js'

/**
 * `count` copies of one HTTP/1.1 request (no body), to send back to back on one connection.
 *
 * @example
 * rawSocket(url, httpRequests(1, 'HEAD') + httpRequests(1, 'GET'))
 */
export function httpRequests(count: number, method = 'GET', path = '/', headers = ''): string {
  return `${method} ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`.repeat(count)
}

/**
 * A TCP connection that sent raw bytes, and what came back. A class, so that an instance costs no
 * more than its socket: memory tests open thousands.
 */
export class RawSocket {
  readonly #socket: Socket
  #text = ''

  constructor(socket: Socket, read: boolean) {
    this.#socket = socket
    if (read) {
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => {
        this.#text += chunk
      })
    }
  }

  /** Everything received so far (latin1), or `''` for a socket that does not read. */
  text(): string {
    return this.#text
  }

  /** The HTTP/1.1 status lines received so far, such as `HTTP/1.1 200`. */
  statuses(): string[] {
    return this.#text.match(/^HTTP\/1\.1 \d{3}/gm) ?? []
  }

  /** Resolves once the connection has closed, from either side. */
  async closed(): Promise<void> {
    if (!this.#socket.closed) await once(this.#socket, 'close')
  }

  /** Cuts the connection, as a client that leaves. */
  destroy(): void {
    this.#socket.destroy()
  }
}

/**
 * Connects to the server at `url` and sends `payload` in one write: pipelined requests, say.
 * With `read: false` it never reads a byte, so the server's writes back up into the kernel.
 */
export function rawSocket(
  url: string,
  payload: string,
  { read = true }: { read?: boolean } = {},
): RawSocket {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  socket.write(payload)
  return new RawSocket(socket, read)
}

/** {@link rawSocket}, destroyed after the test by `cleanups`. */
export function openSocket(
  cleanups: Cleanups,
  url: string,
  payload: string,
  options: { read?: boolean } = {},
): RawSocket {
  const socket = rawSocket(url, payload, options)
  cleanups.push(() => socket.destroy())
  return socket
}
