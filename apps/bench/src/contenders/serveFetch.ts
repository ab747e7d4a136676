import type { Runtime } from '../runtimes.js'
import type { FetchHandler, FetchServer } from './fetchServer.js'

/**
 * Serves `handler` on a free port of 127.0.0.1: under Node through `@hono/node-server`, under Bun
 * through `Bun.serve`; each module is loaded only on its own runtime.
 */
export async function serveFetch(runtime: Runtime, handler: FetchHandler): Promise<FetchServer> {
  if (runtime === 'bun') return (await import('./bunServer.js')).serveOnBun(handler)
  return (await import('./nodeFetchServer.js')).serveOnNode(handler)
}
