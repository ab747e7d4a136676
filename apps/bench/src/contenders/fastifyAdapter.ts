import ssePlugin from '@sse/fastify'
import fastify from 'fastify'
import type { ServerConfig } from '../protocol.js'
import { brokerCounts, type ContenderServer, EVENTS_PATH, ignore, TOPIC } from './contender.js'
import { ourBrokerOptions, ourStreamOptions } from './core.js'

/** `@sse/fastify`: `reply.sse({ topics })` and `app.broker.publish()`. */
export async function startFastifyAdapter(config: ServerConfig): Promise<ContenderServer> {
  const app = fastify({ logger: false })
  await app.register(ssePlugin, ourBrokerOptions(config))
  const streamOptions = ourStreamOptions(config)
  app.get(EVENTS_PATH, (_request, reply) => {
    reply.sse(streamOptions)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    publish(payload) {
      app.broker.publish(TOPIC, payload).catch(ignore)
    },
    subscribers: () => app.broker.subscribers(TOPIC),
    stats: () => brokerCounts(app.broker.stats()),
    async close() {
      await app.close()
    },
  }
}
