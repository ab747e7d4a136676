import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import type { Runtime } from '../runtimes.js'
import { type ContenderServer, EVENTS_PATH, ignore } from './contender.js'
import { serveFetch } from './serveFetch.js'

/**
 * hono's own `streamSSE` (`hono/streaming`), with the fan-out a careful Hono user writes: each
 * stream kept in a Set until it aborts, `writeSSE({ data })` on each per publish, its promise's
 * rejection handled. The handler writes a comment first (Bun sends a streamed response's head with
 * its first chunk), then stays open until the client leaves; `streamSSE` closes the stream when
 * it returns. Served by `@hono/node-server` on Node, by `Bun.serve` on Bun.
 */
export async function startHonoStreamSse(runtime: Runtime): Promise<ContenderServer> {
  const clients = new Set<SSEStreamingApi>()
  const app = new Hono()
  app.get(EVENTS_PATH, (c) =>
    streamSSE(c, async (stream) => {
      const left = new Promise<void>((resolve) => stream.onAbort(resolve))
      clients.add(stream)
      await stream.write(':\n\n')
      await left
      clients.delete(stream)
    }),
  )
  const server = await serveFetch(runtime, app.fetch)
  return {
    port: server.port,
    publish(payload) {
      const message = { data: payload }
      for (const stream of clients) stream.writeSSE(message).catch(ignore)
    },
    subscribers: () => clients.size,
    stats: () => undefined,
    async close() {
      for (const stream of clients) stream.abort()
      await server.close()
    },
  }
}
