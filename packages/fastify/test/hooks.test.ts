import fastifyCompress from '@fastify/compress'
import fastifyCors from '@fastify/cors'
import ssePlugin from '@sse/fastify'
import { closeStreams } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'
import { listenApp } from './helpers.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

const start = (app: FastifyInstance) => listenApp(cleanups, app)

test('an onRequest auth hook refuses before the stream opens', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== 'Bearer ok') {
      return reply.code(401).send({ error: 'unauthorized' })
    }
  })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  const { connect } = await start(app)

  const refused = await connect('/events')
  await refused.ended()
  expect(refused.status).toBe(401)
  expect(refused.headers['content-type']).toMatch(/^application\/json/)
  expect(JSON.parse(refused.text())).toEqual({ error: 'unauthorized' })

  const admitted = await connect('/events', { authorization: 'Bearer ok' })
  expect(admitted.status).toBe(200)
  expect(app.broker.stats().streams).toBe(1)
})

test('a preHandler hook can refuse too', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get(
    '/events',
    {
      preHandler: async (_request, reply) => {
        reply.code(403)
        throw new Error('members only')
      },
    },
    (_request, reply) => reply.sse({ topics: ['t'] }),
  )
  const { connect } = await start(app)
  const refused = await connect('/events')
  await refused.ended()
  expect(refused.status).toBe(403)
  expect(JSON.parse(refused.text())).toMatchObject({ message: 'members only' })
  expect(app.broker.stats().streams).toBe(0)
})

test('the broker’s authorize hook refuses with a plain status, Fastify hooks having run', async () => {
  const app = Fastify()
  await app.register(ssePlugin, {
    keepAlive: 0,
    authorize: async (_request, topics) => !topics.includes('secret'),
  })
  app.get<{ Querystring: { topic: string } }>('/events', (request, reply) =>
    reply.sse({ topics: [request.query.topic] }),
  )
  const { connect } = await start(app)
  const refused = await connect('/events?topic=secret')
  await refused.ended()
  expect(refused.status).toBe(403)
  const admitted = await connect('/events?topic=public')
  expect(admitted.status).toBe(200)
})

test('headers set with reply.header() before reply.sse() reach the client, with the SSE headers', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-from-hook', 'yes')
  })
  app.get('/events', (_request, reply) => {
    reply.header('x-request-tag', 'abc').header('set-cookie', ['a=1', 'b=2'])
    return reply.sse({ topics: ['t'], headers: { 'x-per-stream': '1' } })
  })
  const { connect } = await start(app)
  const client = await connect('/events')
  expect(client.status).toBe(200)
  expect(client.headers).toMatchObject({
    'x-from-hook': 'yes',
    'x-request-tag': 'abc',
    'set-cookie': ['a=1', 'b=2'],
    'x-per-stream': '1',
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  })
})

test('@fastify/cors headers reach the client', async () => {
  const app = Fastify()
  await app.register(fastifyCors, { origin: 'https://app.example', credentials: true })
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  const { connect } = await start(app)
  const client = await connect('/events', { origin: 'https://app.example' })
  expect(client.status).toBe(200)
  expect(client.headers['access-control-allow-origin']).toBe('https://app.example')
  expect(client.headers['access-control-allow-credentials']).toBe('true')
  expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
})

test('with @fastify/compress registered, events arrive one by one and uncompressed', async () => {
  const app = Fastify()
  await app.register(fastifyCompress, { global: true, threshold: 0 })
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  app.get('/json', async () => ({ text: 'compressed, to prove the plugin is active' }))
  const { origin, connect } = await start(app)

  const json = await fetch(`${origin}/json`, { headers: { 'accept-encoding': 'gzip' } })
  expect(json.headers.get('content-encoding')).toBe('gzip')
  await json.arrayBuffer()

  const client = await connect('/events', { 'accept-encoding': 'gzip, deflate, br' })
  expect(client.headers['content-encoding']).toBeUndefined()
  let expected = ''
  for (let i = 0; i < 3; i++) {
    const id = await app.broker.publish('t', { data: `event ${i}` })
    expected += `id: ${id}\nevent: t\ndata: event ${i}\n\n`
    // Each event arrives before the next is published: nothing sits in a compression buffer.
    await client.waitFor((c) => c.events.length === i + 1)
    expect(client.text()).toBe(expected)
  }
})
