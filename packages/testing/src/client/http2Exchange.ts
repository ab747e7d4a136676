import type { IncomingHttpHeaders } from 'node:http'
import { connect, constants } from 'node:http2'
import { connect as connectSocket } from 'node:net'
import type { Endpoint, Exchange, ExchangeHandlers, ExchangeRequest } from './exchange.js'

/** One HTTP/2 request on a session of its own, closed with it. */
export function http2Exchange(
  endpoint: Endpoint,
  { method, path, headers }: ExchangeRequest,
  handlers: ExchangeHandlers,
): Exchange {
  const session = connect(endpoint.origin, {
    ...(endpoint.socketPath === undefined
      ? {}
      : { createConnection: () => connectSocket(endpoint.socketPath!) }),
    ...(endpoint.trustAnyCertificate ? { rejectUnauthorized: false } : {}),
  })
  let closed = false
  let failure: Error | undefined
  session.on('error', (error) => {
    failure ??= error
  })
  const stream = session.request({ ':method': method, ':path': path, ...headers })
  stream.on('error', (error) => {
    failure ??= error
  })
  stream.on('response', (head) => {
    const { ':status': status, ...rest } = head
    const plain: IncomingHttpHeaders = {}
    for (const [name, value] of Object.entries(rest)) {
      if (!name.startsWith(':') && value !== undefined) plain[name] = value as string | string[]
    }
    handlers.onHead(Number(status ?? 0), plain)
  })
  stream.on('data', (chunk: Buffer) => handlers.onData(chunk))
  stream.on('end', () => handlers.onEnd())
  stream.on('close', () => {
    session.close()
    if (closed) return
    closed = true
    handlers.onClose(failure)
  })
  return {
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    destroy() {
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL)
      session.destroy()
    },
  }
}
