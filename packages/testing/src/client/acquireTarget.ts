import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { SSETestError } from '../sseTestError.js'
import type { Endpoint } from './exchange.js'
import type { FastifyLike, StreamTarget } from './types.js'

/** An endpoint held for one stream; `release()` lets go of it, once. */
export interface TargetLease {
  readonly endpoint: Endpoint
  release(): Promise<void>
}

/** A TCP connection or an HTTP/2 session to a server. */
interface Connection {
  destroy(): unknown
  once(event: 'close', listener: () => void): unknown
}

/** A server the kit listened on itself, with how many streams still use it. */
interface Listened {
  users: number
  ready: Promise<void>
  /** Connections opened to it, cut when the last stream lets go. */
  readonly connections: Set<Connection>
  closing?: Promise<void>
}

const listened = new WeakMap<NetServer, Listened>()
/** One server per request listener (an Express app), created on first use. */
const servers = new WeakMap<object, Server>()

const isHttp2 = (server: NetServer) =>
  typeof (server as { updateSettings?: unknown }).updateSettings === 'function'

function isFastify(target: object): target is FastifyLike {
  const candidate = target as Partial<Record<'server' | 'ready' | 'listen', unknown>>
  return (
    typeof candidate.ready === 'function' &&
    typeof candidate.listen === 'function' &&
    typeof candidate.server === 'object' &&
    candidate.server !== null &&
    typeof (candidate.server as { address?: unknown }).address === 'function'
  )
}

function isServer(target: object): target is NetServer {
  const candidate = target as Partial<Record<'listen' | 'address' | 'close' | 'on', unknown>>
  return (
    typeof candidate.listen === 'function' &&
    typeof candidate.address === 'function' &&
    typeof candidate.close === 'function' &&
    typeof candidate.on === 'function'
  )
}

function describeTarget(target: unknown): string {
  if (target === null) return 'null'
  if (typeof target === 'object') return `an object (${target.constructor?.name ?? 'no class'})`
  return typeof target === 'string' ? JSON.stringify(target) : typeof target
}

function invalid(target: unknown, why: string): SSETestError {
  return new SSETestError(
    'INVALID_TEST_TARGET',
    `@sse/testing: cannot open a stream against ${describeTarget(target)}: ${why}`,
  )
}

/** The endpoint of a server that is listening. */
function endpointOf(server: NetServer): Endpoint {
  const address = server.address() as AddressInfo | string | null
  const http2 = isHttp2(server)
  const secure = server instanceof TlsServer
  const scheme = secure ? 'https' : 'http'
  if (typeof address === 'string') {
    return {
      origin: `${scheme}://localhost`,
      http2,
      trustAnyCertificate: true,
      socketPath: address,
    }
  }
  if (address === null) throw invalid(server, 'the server is not listening')
  let host = address.address
  if (host === '0.0.0.0') host = '127.0.0.1'
  if (host === '::') host = '::1'
  if (host.includes(':')) host = `[${host}]`
  return { origin: `${scheme}://${host}:${address.port}`, http2, trustAnyCertificate: true }
}

async function closeListened(server: NetServer, state: Listened): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  for (const connection of state.connections) connection.destroy()
  await closed
  listened.delete(server)
}

/**
 * Holds `server` for a stream: as it is when someone else listened on it, else listened on
 * 127.0.0.1 on an ephemeral port, shared by the kit's streams on it and closed after the last.
 */
async function acquireServer(server: NetServer): Promise<TargetLease> {
  let state = listened.get(server)
  while (state?.closing !== undefined) {
    await state.closing
    state = listened.get(server)
  }
  if (state === undefined && server.listening) {
    return { endpoint: endpointOf(server), release: async () => {} }
  }
  if (state === undefined) {
    const connections = new Set<Connection>()
    const track = (connection: Connection) => {
      connections.add(connection)
      connection.once('close', () => connections.delete(connection))
    }
    // HTTP/2 sessions, else TCP connections: what must go for `close()` to finish.
    const event = isHttp2(server) ? 'session' : 'connection'
    server.on(event, track)
    const ready = new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    state = { users: 0, ready, connections }
    listened.set(server, state)
    ready.then(
      () => server.once('close', () => server.off(event, track)),
      () => {
        server.off(event, track)
        listened.delete(server)
      },
    )
  }
  const held = state
  held.users++
  try {
    await held.ready
  } catch (error) {
    throw new SSETestError('TEST_REQUEST_FAILED', '@sse/testing: could not listen on 127.0.0.1', {
      cause: error,
    })
  }
  let released = false
  return {
    endpoint: endpointOf(server),
    release() {
      if (released) return held.closing ?? Promise.resolve()
      released = true
      if (--held.users > 0) return Promise.resolve()
      held.closing = closeListened(server, held)
      return held.closing
    },
  }
}

/** Resolves what `openStream` was given to an endpoint, listening where needed. */
export async function acquireTarget(target: StreamTarget): Promise<TargetLease> {
  if (typeof target === 'string' || target instanceof URL) {
    let url: URL
    try {
      url = new URL(target)
    } catch {
      throw invalid(target, 'a string target must be an absolute http: or https: URL')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid(target, `the URL's scheme must be http: or https:, got ${url.protocol}`)
    }
    return {
      endpoint: { origin: url.origin, http2: false, trustAnyCertificate: false },
      release: async () => {},
    }
  }
  if (typeof target === 'function') {
    let server = servers.get(target)
    if (server === undefined) {
      server = createServer(target as RequestListener)
      servers.set(target, server)
    }
    return acquireServer(server)
  }
  if (typeof target !== 'object' || target === null) {
    throw invalid(target, 'expected a URL, a server, a request listener or a Fastify instance')
  }
  if (isFastify(target)) {
    await target.ready()
    return acquireServer(target.server)
  }
  if (isServer(target)) return acquireServer(target)
  throw invalid(target, 'expected a URL, a server, a request listener or a Fastify instance')
}
