import { createSSE } from '@sse/fetch'
import { Hono } from 'hono'
import type { ServerConfig } from '../protocol.js'
import type { Runtime } from '../runtimes.js'
import { brokerCounts, type ContenderServer, EVENTS_PATH, ignore, TOPIC } from './contender.js'
import { ourBrokerOptions } from './core.js'
import { serveFetch } from './serveFetch.js'

/**
 * `@sse/fetch` in a Hono app, the guide's way: `app.get('/events', (c) => sse.response(c.req.raw,
 * { topics, node: c.env }))` and `sse.broker.publish()`; served by `@hono/node-server` on Node
 * (where `node: c.env` writes to Node's response), by `Bun.serve` on Bun (where `c.env` holds no
 * Node objects). `path: 'web'` leaves `node` out: every stream goes through the web `Response`.
 * The broker options are those of our Node contenders.
 */
export async function startFetchAdapter(
  config: ServerConfig,
  runtime: Runtime,
  path: 'node' | 'web' = 'node',
): Promise<ContenderServer> {
  const sse = createSSE(ourBrokerOptions(config))
  const topics = [TOPIC]
  const app = new Hono<{ Bindings: object }>()
  app.get(EVENTS_PATH, (c) =>
    sse.response(c.req.raw, path === 'node' ? { topics, node: c.env } : { topics }),
  )
  const server = await serveFetch(runtime, app.fetch)
  return {
    port: server.port,
    publish(payload) {
      sse.broker.publish(TOPIC, payload).catch(ignore)
    },
    subscribers: () => sse.broker.subscribers(TOPIC),
    stats: () => brokerCounts(sse.broker.stats()),
    async close() {
      await sse.close()
      await server.close()
    },
  }
}
