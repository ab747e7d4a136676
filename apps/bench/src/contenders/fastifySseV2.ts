import fastify, { type FastifyPluginAsync } from 'fastify'
import { type ContenderServer, EVENTS_PATH } from './contender.js'
import { importUntyped } from './untypedImport.js'

/** A Fastify reply seen through fastify-sse-v2's `reply.sse(event)`. */
interface SSEReply {
  sse(event: { data?: string; comment?: string }): void
}

/**
 * fastify-sse-v2, "sending individual events": each reply is kept in a set and
 * `reply.sse({ data })` is called on each of them per publish.
 */
export async function startFastifySseV2(): Promise<ContenderServer> {
  const { FastifySSEPlugin } = await importUntyped<{ FastifySSEPlugin: FastifyPluginAsync }>(
    'fastify-sse-v2',
  )
  const app = fastify({ logger: false })
  await app.register(FastifySSEPlugin)
  const clients = new Set<SSEReply>()
  app.get(EVENTS_PATH, (request, reply) => {
    const target = reply as unknown as SSEReply
    clients.add(target)
    request.socket.on('close', () => clients.delete(target))
    target.sse({ comment: 'connected' })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    publish(payload) {
      const event = { data: payload }
      for (const reply of clients) reply.sse(event)
    },
    subscribers: () => clients.size,
    stats: () => undefined,
    async close() {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}
