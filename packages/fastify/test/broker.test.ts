import ssePlugin, { type Broker, createBroker } from '@sse/fastify'
import { closeStreams } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'
import { listenApp } from './helpers.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

test('request.broker and app.broker are the same broker', async () => {
  const app = Fastify()
  await app.register(ssePlugin)
  let seen: Broker | undefined
  app.get('/', async (request) => {
    seen = request.broker
    return 'ok'
  })
  cleanups.push(() => app.close())
  const response = await app.inject('/')
  expect(response.body).toBe('ok')
  expect(seen).toBe(app.broker)
  expect(typeof app.broker.publish).toBe('function')
})

test('each encapsulation context that registers the plugin has its own broker and streams', async () => {
  const app = Fastify()
  const brokers: Record<string, Broker> = {}
  for (const name of ['red', 'blue']) {
    await app.register(
      async (scope) => {
        await scope.register(ssePlugin, { keepAlive: 0 })
        brokers[name] = scope.broker
        scope.get('/events', (request, reply) => {
          expect(request.broker).toBe(scope.broker)
          return reply.sse({ topics: ['news'] })
        })
      },
      { prefix: `/${name}` },
    )
  }
  const { connect } = await listenApp(cleanups, app)
  expect(brokers.red).not.toBe(brokers.blue)
  const red = await connect('/red/events')
  const blue = await connect('/blue/events')
  const id = await brokers.red!.publish('news', 'for red only')
  await red.take(1)
  expect(red.text()).toBe(`id: ${id}\nevent: news\ndata: for red only\n\n`)
  await brokers.blue!.publish('news', 'for blue only')
  await blue.take(1)
  expect(blue.events[0]?.data).toBe('for blue only')
  expect(red.events).toHaveLength(1)
})

test('a child context registering the plugin again gets its own broker', async () => {
  const app = Fastify()
  await app.register(ssePlugin)
  let child: Broker | undefined
  let childRequest: Broker | undefined
  await app.register(async (scope) => {
    await scope.register(ssePlugin)
    child = scope.broker
    scope.get('/child', async (request) => {
      childRequest = request.broker
      return 'ok'
    })
  })
  cleanups.push(() => app.close())
  await app.inject('/child')
  expect(child).not.toBe(app.broker)
  expect(childRequest).toBe(child)
})

test('a broker passed in is used, with the stream options given alongside as stream defaults', async () => {
  const broker = createBroker({ keepAlive: 0 })
  cleanups.push(() => broker.close())
  const app = Fastify()
  await app.register(ssePlugin, { broker, retry: 1500 })
  app.get('/events', (request, reply) => {
    expect(request.broker).toBe(broker)
    return reply.sse({ topics: ['t'] })
  })
  app.get('/override', (_request, reply) => reply.sse({ topics: ['t'], retry: 20 }))
  const { connect } = await listenApp(cleanups, app)
  expect(app.broker).toBe(broker)
  const client = await connect('/events')
  const override = await connect('/override')
  const id = await broker.publish('t', 'shared')
  await client.take(1)
  await override.take(1)
  expect(client.text()).toBe(`retry: 1500\n\nid: ${id}\nevent: t\ndata: shared\n\n`)
  expect(override.text()).toBe(`retry: 20\n\nid: ${id}\nevent: t\ndata: shared\n\n`)
})

test('broker options reach the broker the plugin creates', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0, retry: 700, defaultEventName: 'none' })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  const { connect } = await listenApp(cleanups, app)
  const client = await connect('/events')
  const id = await app.broker.publish('t', 'unnamed')
  await client.take(1)
  expect(client.text()).toBe(`retry: 700\n\nid: ${id}\ndata: unnamed\n\n`)
})
