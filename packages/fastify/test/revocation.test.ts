import ssePlugin, { createBroker, type SSEError, type SSEPluginOptions } from '@sse/fastify'
import { closeStreams, openStream } from '@sse/testing'
import { checkRotationResumes, useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

/**
 * An app with the plugin: `GET /events?user=1&session=a` streams topic `t` tagged `user:1` and
 * `session:a`; `POST /logout?session=a` revokes the session as an app would.
 */
async function setup(options: SSEPluginOptions = { keepAlive: 0 }) {
  const errors: SSEError[] = []
  const revoked = new Set<string>()
  const app = Fastify()
  const withErrors =
    'broker' in options && options.broker !== undefined
      ? options
      : { onError: (error: SSEError) => errors.push(error), ...options }
  await app.register(ssePlugin, withErrors as SSEPluginOptions)
  app.get<{ Querystring: { user?: string; session?: string } }>('/events', (request, reply) => {
    const { user = 'anonymous', session = 'none' } = request.query
    if (revoked.has(session)) return reply.code(403).send('Signed out.')
    return reply.sse({ topics: ['t'], tags: [`user:${user}`, `session:${session}`] })
  })
  app.post<{ Querystring: { session: string } }>('/logout', async (request) => {
    const { session } = request.query
    revoked.add(session) // what the route checks first, then the open streams
    const ended = await request.broker.disconnect(
      { tag: `session:${session}` },
      { event: { event: 'signed-out', data: '<p>Signed out</p>' } },
    )
    return { ended }
  })
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, origin, errors }
}

async function streams(app: FastifyInstance, count: number) {
  await waitFor(() => app.broker.stats().streams === count, `${count} open streams`)
}

describe('revocation through @sse/fastify', () => {
  test('reply.sse({ tags }) makes a stream revocable: a logout ends it after the final event, and spares the others', async () => {
    const { app, origin } = await setup()
    const mine = await openStream(app, '/events?user=1&session=a')
    const myOtherTab = await openStream(app, '/events?user=1&session=a')
    const myPhone = await openStream(app, '/events?user=1&session=b')
    await streams(app, 3)
    const response = await fetch(`${origin}/logout?session=a`, { method: 'POST' })
    expect(await response.json()).toEqual({ ended: 2 })
    for (const client of [mine, myOtherTab]) {
      expect(await client.ended()).toBe('ended')
      expect(client.text()).toBe('event: signed-out\ndata: <p>Signed out</p>\n\n')
    }
    const id = await app.broker.publish('t', 'still signed in')
    await myPhone.waitFor((c) => c.events.length === 1)
    expect(myPhone.events[0]).toMatchObject({ id, data: 'still signed in' })
    expect(app.broker.stats()).toMatchObject({ revoked: 2, streams: 1 })
  })

  test('a revoked EventSource reconnects into the app’s check and stops; a background job revokes through app.broker', async () => {
    const { app, origin } = await setup({ keepAlive: 0, retry: 20 })
    const source = new EventSource(`${origin}/events?user=7&session=z`)
    cleanups.push(() => source.close())
    const signedOut: string[] = []
    source.addEventListener('signed-out', (event) => signedOut.push(event.data))
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    const otherSession = await openStream(app, '/events?user=7&session=y')
    await streams(app, 2)
    await fetch(`${origin}/logout?session=z`, { method: 'POST' })
    await waitFor(() => source.readyState === EventSource.CLOSED, 'the EventSource to give up')
    expect(signedOut).toEqual(['<p>Signed out</p>'])
    // The user's permissions change, from a job: every stream of user 7 goes.
    await expect(
      app.broker.disconnect({ tag: 'user:7' }, { event: { event: 'gone', data: '' } }),
    ).resolves.toBe(1)
    await otherSession.ended()
    expect(otherSession.text()).toBe('retry: 20\n\nevent: gone\ndata: \n\n')
    expect(app.broker.stats()).toMatchObject({ revoked: 2, streams: 0 })
  })

  test('bad tags in reply.sse() answer 500 and reach onError naming "tags"; the app keeps serving', async () => {
    const errors: SSEError[] = []
    const app = Fastify()
    await app.register(ssePlugin, { keepAlive: 0, onError: (error) => errors.push(error) })
    app.get('/events', (_request, reply) =>
      reply.sse({ topics: ['t'], tags: ['ok', 'line\nbreak'] }),
    )
    cleanups.push(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const client = await openStream(app, '/events')
    await client.ended()
    expect(client.status).toBe(500)
    expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
    expect(errors[0]!.message).toMatch(/^@sse\/core: option "tags" must be an array/)
  })
})

describe('rotation through @sse/fastify', () => {
  test('with the plugin option maxDuration, a rotated EventSource resumes with Last-Event-ID: nothing lost, nothing twice', async () => {
    const { app, origin } = await setup({
      keepAlive: 0,
      retry: 5,
      maxDuration: 150,
      maxDurationJitter: 50,
    })
    await checkRotationResumes(
      cleanups,
      new EventSource(`${origin}/events`),
      (data) => app.broker.publish('t', data),
      () => app.broker.stats().rotated,
    )
  })

  test('maxDuration next to a shared broker is a default of the plugin’s streams; reply.sse() can override it', async () => {
    const broker = createBroker({ keepAlive: 0 })
    cleanups.push(() => broker.close())
    const app = Fastify()
    await app.register(ssePlugin, { broker, maxDuration: 100 })
    app.get<{ Querystring: { max?: string } }>('/events', (request, reply) =>
      reply.sse({
        topics: ['t'],
        ...(request.query.max !== undefined && { maxDuration: Number(request.query.max) }),
      }),
    )
    cleanups.push(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const rotated = await openStream(app, '/events')
    const kept = await openStream(app, '/events?max=0')
    expect(await rotated.ended()).toBe('ended')
    expect(kept.state).toBe('open')
    expect(broker.stats()).toMatchObject({ rotated: 1, streams: 1 })
  })

  test('a route’s own maxDuration beside a shared broker gets its own jitter, not the plugin’s (no INVALID_OPTION)', async () => {
    const errors: SSEError[] = []
    const broker = createBroker({ keepAlive: 0, onError: (error) => errors.push(error) })
    cleanups.push(() => broker.close())
    const app = Fastify()
    await app.register(ssePlugin, { broker, maxDuration: 60_000, maxDurationJitter: 900 })
    app.get<{ Querystring: { max: string } }>('/events', (request, reply) =>
      reply.sse({ topics: ['t'], maxDuration: Number(request.query.max) }),
    )
    cleanups.push(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    // 500 ms with the plugin's 900 ms jitter was refused as INVALID_OPTION.
    const short = await openStream(app, '/events?max=500')
    expect(short.status).toBe(200)
    const opened = Date.now()
    const streams = await Promise.all(
      Array.from({ length: 6 }, () => openStream(app, '/events?max=1000')),
    )
    const lifetimes = await Promise.all(
      streams.map(async (stream) => {
        await stream.ended()
        return Date.now() - opened
      }),
    )
    // Drawn from 900–1,100 ms (a tenth of its own maxDuration); the plugin's jitter gave 100–1,900.
    for (const lifetime of lifetimes) expect(lifetime).toBeGreaterThanOrEqual(850)
    expect(await short.ended()).toBe('ended')
    expect(errors).toEqual([])
  })

  test.each([
    [{ maxDuration: -1 }, '@sse/fastify: option "maxDuration" must be >= 0, got -1'],
    [
      { maxDurationJitter: 0.5 },
      '@sse/fastify: option "maxDurationJitter" must be of type integer, got 0.5',
    ],
    [
      { maxDuration: 1000, maxDurationJitter: 1000 },
      '@sse/fastify: option "maxDurationJitter" must be less than "maxDuration" (1000), got 1000',
    ],
  ])('register() refuses %o: %s', async (options, message) => {
    const app = Fastify()
    cleanups.push(() => app.close())
    await expect(app.register(ssePlugin, options as SSEPluginOptions)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message,
    })
  })
})
