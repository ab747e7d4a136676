import ssePlugin, { SSEError } from '@sse/fastify'
import { closeStreams } from '@sse/testing'
import { checkKeyedPublishing, useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

test('request.broker publishes with a conflation key end to end: live, then a log-compacted replay, and a bad key answers with its code', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['system'] }))
  app.post<{ Body: { key: string; value: number } }>('/metrics', async (request, reply) => {
    const { key, value } = request.body
    try {
      const id = await request.broker.publish('system', { data: `${key}=${value}` }, { key })
      return { id }
    } catch (error) {
      if (error instanceof SSEError) return reply.code(400).send({ code: error.code })
      throw error
    }
  })
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  await checkKeyedPublishing(origin, () => app.broker.stats())
})
