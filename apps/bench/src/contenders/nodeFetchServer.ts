import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { FetchHandler, FetchServer } from './fetchServer.js'

/** `handler` on `@hono/node-server` (an HTTP/1.1 `node:http` server) on 127.0.0.1. */
export function serveOnNode(handler: FetchHandler): Promise<FetchServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: handler, port: 0, hostname: '127.0.0.1' },
      (info: AddressInfo) => {
        server.off('error', reject)
        resolve({
          port: info.port,
          async close() {
            ;(server as Server).closeAllConnections()
            await new Promise((done) => server.close(done))
          },
        })
      },
    ) as Server
    server.once('error', reject)
  })
}
