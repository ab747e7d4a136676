import ssePlugin, { type SSEError, type SSEPluginOptions, type SSEStream } from '@sse/fastify'
import { closeStreams, openStream } from '@sse/testing'
import {
  describeAdapterConformance,
  invalidAdapterOptions,
  largestAdapterOptions,
  useCleanups,
} from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'
import { listenApp } from './helpers.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

interface EventsQuery {
  /** Comma-separated topics; `t` when absent. */
  topics?: string
  /** Sent back as the `x-name` response header, as a careless app would. */
  name?: string
}

describeAdapterConformance('@sse/fastify', {
  async start(options, cleanups) {
    const app = Fastify()
    await app.register(ssePlugin, options as SSEPluginOptions)
    let handled = 0
    const streams: SSEStream[] = []
    app.get<{ Querystring: EventsQuery }>('/events', (request, reply) => {
      handled++
      const { topics, name } = request.query
      const stream = reply.sse({
        topics: topics === undefined ? ['t'] : topics.split(','),
        ...(name !== undefined && { headers: { 'x-name': name } }),
      })
      streams.push(stream)
      return stream
    })
    const { origin } = await listenApp(cleanups, app)
    return { broker: app.broker, origin, streams, handled: () => handled }
  },
})

const admit = (): boolean => true
const admitLater = async (): Promise<boolean> => true

describe('a response header the stream head cannot carry', () => {
  test.each([
    ['a sync', admit],
    ['an async', admitLater],
  ] as const)(
    'over HTTP/2, with %s authorize hook, a header HTTP/2 forbids (keep-alive) answers 500 and reports OPEN_FAILED',
    async (_, authorize) => {
      const errors: SSEError[] = []
      const app = Fastify({ http2: true })
      await app.register(ssePlugin, {
        keepAlive: 0,
        authorize,
        onError: (error: SSEError) => errors.push(error),
      })
      // Valid for HTTP/1.1, so the options pass; HTTP/2 refuses the head that carries it.
      app.get('/events', (_request, reply) =>
        reply.sse({ topics: ['t'], headers: { 'keep-alive': 'timeout=60' } }),
      )
      cleanups.push(() => app.close())
      await app.listen({ port: 0, host: '127.0.0.1' })
      // A Fastify instance on HTTP/2: the kit speaks h2c to it. Without a response it would reject.
      const client = await openStream(app, '/events')
      await client.ended()
      await new Promise((resolve) => setImmediate(resolve))
      expect(errors.map((error) => error.code)).toEqual(['OPEN_FAILED'])
      expect(app.broker.stats()).toMatchObject({ streams: 0, topics: 0 })
      expect(client.status).toBe(500)
      expect(client.text()).toBe('The event stream could not be opened.')
    },
  )
})

describe('options are refused at register() with INVALID_OPTION naming the key', () => {
  test.each(invalidAdapterOptions)(
    '%s set to %o fails register with a message naming the key',
    async (key, value) => {
      const app = Fastify()
      cleanups.push(() => app.close())
      const registered = app.register(ssePlugin, { [key]: value } as SSEPluginOptions)
      await expect(registered).rejects.toMatchObject({ name: 'SSEError', code: 'INVALID_OPTION' })
      await expect(registered).rejects.toThrow(`@sse/fastify: option "${key}" must be `)
    },
  )

  test('the largest timer values and integer limits are accepted', async () => {
    const app = Fastify()
    cleanups.push(() => app.close())
    await app.register(ssePlugin, largestAdapterOptions)
    await app.ready()
  })
})
