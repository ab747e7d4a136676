import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Endpoint, Exchange, ExchangeHandlers, ExchangeRequest } from './exchange.js'

/** One HTTP/1.1 request on a connection of its own (no agent, so nothing is pooled or reused). */
export function http1Exchange(
  endpoint: Endpoint,
  { method, path, headers }: ExchangeRequest,
  handlers: ExchangeHandlers,
): Exchange {
  const url = new URL(endpoint.origin)
  const secure = url.protocol === 'https:'
  const req = (secure ? httpsRequest : httpRequest)({
    ...(endpoint.socketPath === undefined
      ? { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port }
      : { socketPath: endpoint.socketPath }),
    method,
    path,
    headers,
    agent: false,
    ...(secure && endpoint.trustAnyCertificate ? { rejectUnauthorized: false } : {}),
  })
  let closed = false
  let response: IncomingMessage | undefined
  const close = (error?: Error) => {
    if (closed) return
    closed = true
    handlers.onClose(error)
  }
  // Before a response, the request reports the failure; after, the response's own 'close' does,
  // once a paused reader has taken what arrived before the connection closed.
  req.on('error', (error) => response === undefined && close(error))
  req.on('close', () => response === undefined && close())
  req.on('response', (res) => {
    response = res
    handlers.onHead(res.statusCode ?? 0, res.headers)
    res.on('data', (chunk: Buffer) => handlers.onData(chunk))
    res.on('end', () => handlers.onEnd())
    // A cut connection is reported by 'close' without 'end'; its 'error' says nothing more.
    res.on('error', () => {})
    res.on('close', () => close())
  })
  req.end()
  return {
    pause() {
      response?.pause()
      req.socket?.pause()
    },
    resume() {
      req.socket?.resume()
      response?.resume()
    },
    destroy: () => req.destroy(),
  }
}
