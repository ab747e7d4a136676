import { SSEError, type SSERequest, type SSEResponse } from '@sse/core'

/**
 * Node's request and response under a `Request`, as `@hono/node-server` hands them to a Hono app
 * (`c.env`, typed by its `HttpBindings`).
 */
export interface NodeBindings {
  readonly incoming: SSERequest
  readonly outgoing: SSEResponse
}

function isNodeRequest(value: unknown): value is SSERequest {
  if (typeof value !== 'object' || value === null) return false
  const request = value as Partial<Record<keyof SSERequest, unknown>>
  return (
    typeof request.method === 'string' &&
    typeof request.url === 'string' &&
    typeof request.headers === 'object' &&
    request.headers !== null &&
    typeof request.httpVersionMajor === 'number'
  )
}

function isNodeResponse(value: unknown): value is SSEResponse {
  if (typeof value !== 'object' || value === null) return false
  const response = value as Partial<Record<keyof SSEResponse, unknown>>
  return (
    typeof response.writeHead === 'function' &&
    typeof response.write === 'function' &&
    typeof response.end === 'function' &&
    typeof response.on === 'function' &&
    typeof response.headersSent === 'boolean'
  )
}

function described(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object whose incoming and outgoing are not'
  return `a ${typeof value}`
}

/**
 * The stream option `node`: Node's request and response to write to directly, or `undefined` to
 * answer through the web `Response`. An object without `incoming` and `outgoing` (the `c.env` of
 * Hono on Bun, Deno or Cloudflare) is `undefined`, so one route serves every runtime. Throws an
 * `SSEError` `INVALID_OPTION` for anything else that is not Node's.
 */
export function readNodeBindings(packageName: string, value: unknown): NodeBindings | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'object' && value !== null) {
    const { incoming, outgoing } = value as Partial<Record<keyof NodeBindings, unknown>>
    if (incoming === undefined && outgoing === undefined) return undefined
    if (isNodeRequest(incoming) && isNodeResponse(outgoing)) return { incoming, outgoing }
  }
  throw new SSEError(
    'INVALID_OPTION',
    `${packageName}: option "node" takes @hono/node-server's bindings (c.env: { incoming, outgoing }, Node's request and response), got ${described(value)}`,
  )
}
