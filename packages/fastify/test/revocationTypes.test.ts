import ssePlugin, {
  createBroker,
  type DisconnectSelector,
  type SSEPluginOptions,
  type SSEStream,
} from '@sse/fastify'
import Fastify, { type FastifyReply } from 'fastify'
import { expectTypeOf, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

// Checked by `tsc` (pnpm typecheck); at run time they only build an app.

test('tags, disconnect() and the rotation options are typed', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { maxDuration: 60_000, maxDurationJitter: 5000 })
  app.get('/events', (_request, reply) => {
    expectTypeOf(
      reply.sse({ topics: ['a'], tags: ['user:1'], maxDuration: 0 }),
    ).toEqualTypeOf<SSEStream>()
    return reply.sse({ topics: 'a', tags: ['user:1', 'session:2'] })
  })
  expectTypeOf(app.broker.disconnect({ tag: 'user:1' })).toEqualTypeOf<Promise<number>>()
  expectTypeOf(
    app.broker.disconnect({ tags: ['a', 'b'] }, { event: { event: 'bye', data: '' } }),
  ).toEqualTypeOf<Promise<number>>()

  const wrong = (reply: FastifyReply) => {
    // @ts-expect-error tags are a list of strings
    reply.sse({ tags: 'user:1' })
    // @ts-expect-error maxDuration is in ms
    reply.sse({ maxDuration: '1h' })
    // @ts-expect-error a selector takes tag or tags, not both
    const both: DisconnectSelector = { tag: 'a', tags: ['b'] }
    // @ts-expect-error a selector takes tag or tags
    reply.request.broker.disconnect({})
    return both
  }
  expectTypeOf(wrong).toBeFunction()

  const broker = createBroker()
  const shared: SSEPluginOptions = { broker, maxDuration: 1000 }
  // @ts-expect-error broker options belong to createBroker(), rotation ones may come along
  const refused: SSEPluginOptions = { broker, historySize: 10 }
  expectTypeOf([shared, refused]).toBeArray()
  await app.close()
  await broker.close()
})
