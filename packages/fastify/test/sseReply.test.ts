import ssePlugin, { type SSEPluginOptions, type SSEStream } from '@sse/fastify'
import { closeStreams } from '@sse/testing'
import { endlessSource, useCleanups, waitFor } from '@sse/testkit'
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'
import { type LogLine, listenApp, logCapture } from './helpers.js'

const warnings = failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

/** A Fastify app with the plugin and a captured logger; `routes` adds the routes under test. */
async function setup(
  routes: (app: FastifyInstance) => void,
  options: SSEPluginOptions = { keepAlive: 0 },
) {
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(ssePlugin, options)
  routes(app)
  const { origin, connect } = await listenApp(cleanups, app)
  return { app, origin, logs, connect }
}

/** Warnings and errors: Fastify complaining about a second response would show up here. */
function complaints(lines: LogLine[]): LogLine[] {
  return lines.filter((line) => line.level >= 40)
}

describe('what a handler returns', () => {
  const handlers: Record<string, (reply: FastifyReply) => unknown> = {
    'a sync handler returning the stream': (reply) => reply.sse({ topics: ['t'] }),
    'a sync handler returning nothing': (reply) => {
      reply.sse({ topics: ['t'] })
    },
    'a sync handler returning the reply': (reply) => {
      reply.sse({ topics: ['t'] })
      return reply
    },
    'an async handler returning the stream': async (reply) => reply.sse({ topics: ['t'] }),
    'an async handler returning nothing': async (reply) => {
      reply.sse({ topics: ['t'] })
    },
  }
  test.each(Object.keys(handlers))(
    '%s keeps the stream open and Fastify sends nothing more',
    async (name) => {
      const handler = handlers[name]!
      const { app, logs, connect } = await setup((app) =>
        app.get('/events', (_request, reply) => handler(reply)),
      )
      const client = await connect('/events')
      expect(client.status).toBe(200)
      expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      // Let any second send Fastify might attempt happen before publishing.
      await new Promise((resolve) => setImmediate(resolve))
      const first = await app.broker.publish('t', { data: 'one' })
      const second = await app.broker.publish('t', { data: 'two' })
      await client.take(2)
      expect(client.text()).toBe(
        `id: ${first}\nevent: t\ndata: one\n\nid: ${second}\nevent: t\ndata: two\n\n`,
      )
      expect(complaints(logs.lines)).toEqual([])
    },
  )
})

describe('reply.sse()', () => {
  test('without topics, the stream carries the handler’s own send() calls', async () => {
    const { connect } = await setup((app) =>
      app.get('/clock', (_request, reply) => {
        const stream = reply.sse({ retry: 2500 })
        stream.send({ event: 'tick', id: '1', data: { at: 1 } })
        stream.comment('hello')
        stream.close()
      }),
    )
    const client = await connect('/clock')
    await client.ended()
    expect(client.text()).toBe('retry: 2500\n\nid: 1\nevent: tick\ndata: {"at":1}\n\n: hello\n\n')
  })

  test('an array of events and strings is sent in order, then the stream ends', async () => {
    const { connect } = await setup((app) =>
      app.get('/list', (_request, reply) => reply.sse(['a', { event: 'b', data: 'B' }, 'c'])),
    )
    const client = await connect('/list')
    await client.ended()
    expect(client.text()).toBe('data: a\n\nevent: b\ndata: B\n\ndata: c\n\n')
  })

  test('an async iterable gets the stream options as second argument', async () => {
    async function* two() {
      yield 'x'
      yield 'y'
    }
    const { connect } = await setup((app) =>
      app.get('/two', (_request, reply) => reply.sse(two(), { retry: 100 })),
    )
    const client = await connect('/two')
    await client.ended()
    expect(client.text()).toBe('retry: 100\n\ndata: x\n\ndata: y\n\n')
  })

  test('when the client leaves, the async iterable is told to stop', async () => {
    const endless = endlessSource()
    const { connect } = await setup((app) =>
      app.get('/endless', (_request, reply) => reply.sse(endless.source)),
    )
    const client = await connect('/endless')
    await client.waitFor((c) => c.events.length >= 2)
    client.close()
    await endless.stopped
  })

  test('a source that throws closes the stream and the failure is logged', async () => {
    async function* broken() {
      yield 'before'
      throw new Error('database went away')
    }
    const { logs, connect } = await setup((app) =>
      app.get('/broken', (_request, reply) => reply.sse(broken())),
    )
    const client = await connect('/broken')
    await client.ended()
    expect(client.text()).toBe('data: before\n\n')
    const line = await logs.find((l) => l.level === 50)
    expect(line.err?.code).toBe('SOURCE_FAILED')
    expect(line.msg).toMatch(/source of the event stream failed/)
  })

  test('an invalid topic is answered 400 before any SSE byte, not with a stream', async () => {
    const { app, connect } = await setup((app) =>
      app.get('/bad', (_request, reply) => reply.sse({ topics: ['a\nb'] })),
    )
    const client = await connect('/bad')
    await client.ended()
    expect(client.status).toBe(400)
    expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(client.text()).toBe('Invalid topic.')
    expect(app.broker.stats()).toMatchObject({ streams: 0, refused: 1 })
  })

  test('clients that send Accept: */* get the stream too', async () => {
    const { app, connect } = await setup((app) =>
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] })),
    )
    const client = await connect('/events', { accept: '*/*' })
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    await app.broker.publish('t', 'hi')
    await client.take(1)
    expect(client.events[0]?.data).toBe('hi')
  })

  test('fetch without an Accept header gets the stream too', async () => {
    const { app, origin } = await setup((app) =>
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] })),
    )
    const controller = new AbortController()
    cleanups.push(() => controller.abort())
    const response = await fetch(`${origin}/events`, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    await app.broker.publish('t', 'hi')
    const reader = response.body!.getReader()
    let text = ''
    while (!text.endsWith('\n\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(text).toMatch(/^id: \S+\nevent: t\ndata: hi\n\n$/)
  })

  test('a reconnecting client gets what it missed, from Last-Event-ID', async () => {
    const { app, connect } = await setup((app) =>
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] })),
    )
    const seen = await app.broker.publish('t', 'one')
    const missed = await app.broker.publish('t', 'two')
    const client = await connect('/events', { 'last-event-id': seen })
    await client.take(1)
    expect(client.text()).toBe(`id: ${missed}\nevent: t\ndata: two\n\n`)
  })
})

describe('errors after the stream opened', () => {
  const failing: Record<string, (reply: FastifyReply) => unknown> = {
    'a sync handler throws': (reply) => {
      reply.sse().send({ data: 'opened' })
      throw new Error('boom')
    },
    'an async handler rejects': async (reply) => {
      reply.sse().send({ data: 'opened' })
      await new Promise((resolve) => setImmediate(resolve))
      throw new Error('boom')
    },
  }
  test.each(Object.keys(failing))(
    'when %s, the stream ends and the error goes to Fastify’s logger',
    async (name) => {
      const handler = failing[name]!
      const { logs, connect } = await setup((app) =>
        app.get('/fails', (_request, reply) => handler(reply)),
      )
      const client = await connect('/fails')
      await client.ended()
      expect(client.status).toBe(200)
      expect(client.text()).toBe('data: opened\n\n')
      const error = await logs.find((l) => l.level === 50)
      expect(error.err?.message).toBe('boom')
      expect(error.reqId).toBeDefined()
      const warnings = complaints(logs.lines).filter((l) => l !== error)
      expect(warnings).toEqual([])
      expect(JSON.stringify(logs.lines)).not.toMatch(/ERR_HTTP_HEADERS_SENT|already sent/)
    },
  )

  test('an error thrown before reply.sse() is answered by Fastify as usual', async () => {
    const { connect } = await setup((app) =>
      app.get('/fails', async () => {
        throw new Error('nope')
      }),
    )
    const client = await connect('/fails')
    await client.ended()
    expect(client.status).toBe(500)
    expect(JSON.parse(client.text())).toMatchObject({ message: 'nope' })
  })
})

describe('request logging', () => {
  test('a stream the client leaves is logged as completed, with its response time', async () => {
    const { logs, connect } = await setup((app) =>
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] })),
    )
    const client = await connect('/events')
    const incoming = await logs.find((l) => l.msg === 'incoming request')
    client.close()
    const completed = await logs.find((l) => l.msg === 'request completed')
    expect(completed.reqId).toBe(incoming.reqId)
    expect(completed.res?.statusCode).toBe(200)
    expect(completed.responseTime).toBeTypeOf('number')
  })

  test('a stream the server ends is logged as completed once', async () => {
    let stream!: SSEStream
    const { logs, connect } = await setup((app) =>
      app.get('/events', (_request, reply) => {
        stream = reply.sse()
      }),
    )
    const client = await connect('/events')
    stream.close()
    await client.ended()
    const completed = await logs.find((l) => l.msg === 'request completed')
    expect(completed.responseTime).toBeTypeOf('number')
    // The response has closed on both sides by the time a second request is logged.
    await (await connect('/missing')).ended()
    await logs.find((l) => l.msg === 'request completed' && l.res?.statusCode === 404)
    expect(logs.lines.filter((l) => l.msg === 'request completed')).toHaveLength(2)
  })

  test('logCompletion carries the choice of the log controller Fastify was given to streams the client leaves', async () => {
    const logs = logCapture()
    const logController = new LogController({
      disableRequestLogging: (request) => request.url === '/quiet',
    })
    const app = Fastify({ logger: { level: 'info', stream: logs.stream }, logController })
    await app.register(ssePlugin, {
      keepAlive: 0,
      logCompletion: (request) => !logController.isLogDisabled(request),
    })
    app.get('/quiet', (_request, reply) => reply.sse({ topics: ['t'] }))
    app.get('/loud', (_request, reply) => reply.sse({ topics: ['t'] }))
    const { connect } = await listenApp(cleanups, app)
    const quiet = await connect('/quiet')
    quiet.close()
    // The server has seen it leave: had it logged the quiet stream, the line would be there now.
    await waitFor(() => app.broker.stats().streams === 0)
    const loud = await connect('/loud')
    loud.close()
    await logs.find((l) => l.msg === 'request completed')
    const urls = logs.lines
      .filter((l) => l.msg === 'incoming request')
      .map((l) => (l.req as { url: string }).url)
    expect(urls).toEqual(['/loud'])
    expect(logs.lines.filter((l) => l.msg === 'request completed')).toHaveLength(1)
  })

  test('a logCompletion that throws fails its request with a 500 before any stream opens, and the next request streams', async () => {
    const logs = logCapture()
    const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
    await app.register(ssePlugin, {
      keepAlive: 0,
      logCompletion: (request) => {
        if (request.url === '/broken') throw new Error('predicate failed')
        return true
      },
    })
    app.get('/broken', (_request, reply) => reply.sse({ topics: ['t'] }))
    app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
    const { connect } = await listenApp(cleanups, app)
    const broken = await connect('/broken')
    await broken.ended()
    expect(broken.status).toBe(500)
    expect(app.broker.stats().streams).toBe(0)
    const client = await connect('/events')
    expect(client.status).toBe(200)
    await app.broker.publish('t', 'still streaming')
    expect((await client.take(1))[0]).toMatchObject({ data: 'still streaming' })
  })

  test('without a logger (or a silent one) a stream holds no logging listener', async () => {
    const closeListeners = async (options: FastifyServerOptions, logCompletion?: boolean) => {
      const app = Fastify(options)
      await app.register(ssePlugin, {
        keepAlive: 0,
        ...(logCompletion !== undefined && { logCompletion }),
      })
      let count = -1
      app.get('/events', (_request, reply) => {
        reply.sse({ topics: ['t'] })
        count = reply.raw.listenerCount('close')
      })
      const client = await (await listenApp(cleanups, app)).connect('/events')
      expect(client.status).toBe(200)
      return count
    }
    const logging = await closeListeners({ logger: { level: 'info', stream: logCapture().stream } })
    expect(await closeListeners({ logger: false })).toBe(logging - 1)
    expect(await closeListeners({ logger: { level: 'silent' } })).toBe(logging - 1)
    expect(
      await closeListeners({ logger: { level: 'info', stream: logCapture().stream } }, false),
    ).toBe(logging - 1)
  })

  test('no logging setup makes Fastify 5 warn, while its deprecated disableRequestLogging does: the guard of these tests sees it', async () => {
    const logger = { level: 'info', stream: logCapture().stream }
    for (const options of [
      { logger },
      { logger, logController: new LogController({ disableRequestLogging: true }) },
      { logger: false },
    ]) {
      const app = Fastify(options)
      await app.register(ssePlugin, { keepAlive: 0 })
      app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
      const client = await (await listenApp(cleanups, app)).connect('/events')
      client.close()
      await waitFor(() => app.broker.stats().streams === 0)
      await app.close()
    }
    expect(await warnings.take()).toEqual([])
    Fastify({ logger: false, disableRequestLogging: true })
    expect(await warnings.take()).toEqual(['FSTDEP023'])
  })
})
