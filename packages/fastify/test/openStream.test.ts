import ssePlugin from '@sse/fastify'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

/** A Fastify app with the plugin and an `/events` route on topic `t`, closed after the test. */
async function app() {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  cleanups.push(() => app.close())
  return app
}

describe('@sse/testing against a Fastify instance', () => {
  test('one that is not listening is made ready and listened on, and stops listening after', async () => {
    const fastify = await app()
    const stream = await openStream(fastify, '/events')
    expect(fastify.server.listening).toBe(true)
    const id = await fastify.broker.publish('t', 'hello')
    expect(await stream.take(1)).toEqual([{ id, event: 't', data: 'hello' }])
    await stream.close()
    expect(fastify.server.listening).toBe(false)
    // fastify.close() stays the app's own, and still works.
    await fastify.close()
    expect(fastify.broker.isClosed).toBe(true)
  })

  test('one on HTTP/2 is spoken to over h2c, without the Connection header', async () => {
    const fastify = Fastify({ http2: true })
    cleanups.push(() => fastify.close())
    await fastify.register(ssePlugin, { keepAlive: 0 })
    fastify.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
    const stream = await openStream(fastify, '/events')
    expect([stream.status, stream.headers.connection]).toEqual([200, undefined])
    await fastify.broker.publish('t', 'over h2')
    expect((await stream.take(1))[0]!.data).toBe('over h2')
  })

  test('one listening already is used where it listens, and left listening', async () => {
    const fastify = await app()
    const origin = await fastify.listen({ port: 0, host: '127.0.0.1' })
    const stream = await openStream(fastify, '/events?x=1')
    expect(stream.url).toBe(`${origin}/events?x=1`)
    await stream.close()
    expect(fastify.server.listening).toBe(true)
  })
})
