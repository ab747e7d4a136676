import fastify, { type FastifyPluginAsync } from 'fastify'
import { type ContenderServer, EVENTS_PATH, ignore } from './contender.js'
import { importUntyped } from './untypedImport.js'

/** The part of @fastify/sse's `reply.sse` the benchmark uses. */
interface SSEContext {
  send(source: string | { data: unknown }): Promise<void>
  keepAlive(): void
  onClose(callback: () => void): void
}

/**
 * @fastify/sse: an `sse: 'only'` route keeps each `reply.sse` (after `keepAlive()`) in a set;
 * publishing sends the payload as a plain string (no JSON serializer) to each of them.
 */
export async function startFastifySse(): Promise<ContenderServer> {
  // The CommonJS export is the plugin wrapped by fastify-plugin (its routes get `reply.sse`).
  const { default: fastifySSE } = await importUntyped<{ default: FastifyPluginAsync }>(
    '@fastify/sse',
  )
  const app = fastify({ logger: false })
  await app.register(fastifySSE)
  const clients = new Set<SSEContext>()
  const routeOptions = { sse: 'only' } as Record<string, unknown>
  app.get(EVENTS_PATH, routeOptions, async (_request, reply) => {
    const sse = (reply as unknown as { sse: SSEContext }).sse
    sse.keepAlive()
    clients.add(sse)
    sse.onClose(() => clients.delete(sse))
    // The README's way to open the stream: headers go out with the first message.
    await sse.send({ data: 'connected' })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    publish(payload) {
      for (const sse of clients) sse.send(payload).catch(ignore)
    },
    subscribers: () => clients.size,
    stats: () => undefined,
    async close() {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}
