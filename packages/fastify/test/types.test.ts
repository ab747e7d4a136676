import ssePlugin, {
  type Broker,
  createBroker,
  type SSEPluginOptions,
  type SSEStream,
} from '@sse/fastify'
import Fastify, { type FastifyReply } from 'fastify'
import { expectTypeOf, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

// These tests are checked by `tsc` (pnpm lint); at run time they only build an app.

test('reply.sse, request.broker and app.broker are typed', async () => {
  const app = Fastify()
  await app.register(ssePlugin)
  expectTypeOf(app.broker).toEqualTypeOf<Broker>()

  app.get('/events', (request, reply) => {
    expectTypeOf(request.broker).toEqualTypeOf<Broker>()
    expectTypeOf(reply.sse({ topics: ['a', 'b'], keepAlive: 0 })).toEqualTypeOf<SSEStream>()
    expectTypeOf(reply.sse()).toEqualTypeOf<SSEStream>()
    return reply.sse({ topics: 'one' })
  })
  app.get('/job', (_request, reply) => {
    async function* progress() {
      yield { event: 'progress', data: 50 }
      yield 'done'
    }
    expectTypeOf(reply.sse(['a', { data: 1 }])).toEqualTypeOf<SSEStream>()
    expectTypeOf(reply.sse(['a'], { topics: ['b'] })).toEqualTypeOf<SSEStream>()
    return reply.sse(progress(), { retry: 1000 })
  })

  const wrong = (reply: FastifyReply) => {
    // @ts-expect-error a misspelt option
    reply.sse({ topic: 'a' })
    // @ts-expect-error topics are strings
    reply.sse({ topics: [1] })
    // @ts-expect-error the second argument is options, not a topic
    reply.sse(['a'], 'b')
    // @ts-expect-error brokers are read-only
    app.broker = createBroker()
  }
  expectTypeOf(wrong).toBeFunction()
  await app.ready()
  await app.close()
})

test('plugin options are typed', async () => {
  const broker = createBroker()
  expectTypeOf<{ keepAlive: number; historySize: number }>().toExtend<SSEPluginOptions>()
  expectTypeOf<{ broker: Broker; keepAlive: number }>().toExtend<SSEPluginOptions>()
  expectTypeOf<{ broker: Broker; historySize: number }>().not.toExtend<SSEPluginOptions>()
  expectTypeOf<{ keepAlive: string }>().not.toExtend<SSEPluginOptions>()

  const register = async () => {
    const app = Fastify()
    await app.register(ssePlugin, { historySize: 100, defaultEventName: 'none' })
    await app.register(ssePlugin, { broker, retry: 1000 })
    // @ts-expect-error keepAlive is a number of milliseconds
    await app.register(ssePlugin, { keepAlive: 'soon' })
    // @ts-expect-error a broker passed in is configured where it is created
    await app.register(ssePlugin, { broker, historySize: 10 })
    // The plugin registers on an HTTP/2 app as well.
    const h2 = Fastify({ http2: true })
    await h2.register(ssePlugin)
    expectTypeOf(h2.broker).toEqualTypeOf<Broker>()
  }
  expectTypeOf(register).toBeFunction()
  await broker.close()
})
