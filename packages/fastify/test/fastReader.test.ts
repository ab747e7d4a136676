import ssePlugin from '@sse/fastify'
import { fastReaderMatrix, useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()

/** An app with the plugin at its defaults, `reply.sse({ topics: ['t'] })` on `/events`, listening. */
async function serveDefaults() {
  const app = Fastify()
  await app.register(ssePlugin)
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  return { broker: app.broker, url: `${origin}/events` }
}

fastReaderMatrix('fastify', cleanups, serveDefaults)
