import { createBroker, type SSEError, type SSEMiddlewareOptions, sseMiddleware } from '@sse/express'
import { closeStreams, openStream } from '@sse/testing'
import { checkRotationResumes, errorOf, listen, useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import express5 from 'express'
import express4 from 'express4'
import { afterEach, describe, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('%s', (_, express) => {
  /**
   * An app with the middleware: `GET /events?user=1&session=a` streams topic `t` tagged `user:1`
   * and `session:a`; `POST /logout?session=a` revokes the session as an app would.
   */
  async function setup(options: SSEMiddlewareOptions = { keepAlive: 0 }) {
    const revoked = new Set<string>()
    const errors: SSEError[] = []
    const sse = sseMiddleware(
      'broker' in options && options.broker !== undefined
        ? options
        : { onError: (error) => errors.push(error), ...options },
    )
    const app = express()
    app.use(sse)
    app.get('/events', (req, res) => {
      const user = String(req.query.user ?? 'anonymous')
      const session = String(req.query.session ?? 'none')
      if (revoked.has(session)) {
        res.status(403).type('text').send('Signed out.')
        return
      }
      const max = req.query.max
      res.sse({
        topics: ['t'],
        tags: [`user:${user}`, `session:${session}`],
        ...(max !== undefined && { maxDuration: Number(max) }),
      })
    })
    app.post('/logout', (req, res, next) => {
      const session = String(req.query.session)
      revoked.add(session) // what the route checks first, then the open streams
      req.broker
        .disconnect(
          { tag: `session:${session}` },
          { event: { event: 'signed-out', data: '<p>Signed out</p>' } },
        )
        .then((ended) => res.json({ ended }), next)
    })
    const server = await listen(app)
    cleanups.push(
      () => server.close(),
      () => sse.close(),
    )
    return { sse, url: server.url, errors }
  }

  test('res.sse({ tags }) makes a stream revocable: a logout ends it after the final event, and spares the others', async () => {
    const { sse, url } = await setup()
    const mine = await openStream(url, '/events?user=1&session=a')
    const myPhone = await openStream(url, '/events?user=1&session=b')
    await waitFor(() => sse.broker.stats().streams === 2)
    const response = await fetch(`${url}/logout?session=a`, { method: 'POST' })
    expect(await response.json()).toEqual({ ended: 1 })
    expect(await mine.ended()).toBe('ended')
    expect(mine.text()).toBe('event: signed-out\ndata: <p>Signed out</p>\n\n')
    const id = await sse.broker.publish('t', 'still signed in')
    await myPhone.waitFor((c) => c.events.length === 1)
    expect(myPhone.events[0]).toMatchObject({ id, data: 'still signed in' })
    expect(sse.broker.stats()).toMatchObject({ revoked: 1, streams: 1 })
  })

  test('a revoked EventSource gets the final event, reconnects into the app’s check, and stops', async () => {
    const { sse, url } = await setup({ keepAlive: 0, retry: 20 })
    const source = new EventSource(`${url}/events?user=7&session=z`)
    cleanups.push(() => source.close())
    const signedOut: string[] = []
    source.addEventListener('signed-out', (event) => signedOut.push(event.data))
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    await fetch(`${url}/logout?session=z`, { method: 'POST' })
    await waitFor(() => source.readyState === EventSource.CLOSED, 'the EventSource to give up')
    expect(signedOut).toEqual(['<p>Signed out</p>'])
    expect(sse.broker.stats()).toMatchObject({ revoked: 1, streams: 0 })
  })

  test('with the middleware option maxDuration, a rotated EventSource resumes with Last-Event-ID: nothing lost, nothing twice', async () => {
    const { sse, url } = await setup({
      keepAlive: 0,
      retry: 5,
      maxDuration: 150,
      maxDurationJitter: 50,
    })
    await checkRotationResumes(
      cleanups,
      new EventSource(`${url}/events`),
      (data) => sse.broker.publish('t', data),
      () => sse.broker.stats().rotated,
    )
  })

  test('maxDuration next to a shared broker is a default of the middleware’s streams; res.sse() can override it', async () => {
    const broker = createBroker({ keepAlive: 0 })
    cleanups.push(() => broker.close())
    const { url } = await setup({ broker, maxDuration: 100 })
    const rotated = await openStream(url, '/events')
    const kept = await openStream(url, '/events?max=0')
    expect(await rotated.ended()).toBe('ended')
    expect(kept.state).toBe('open')
    expect(broker.stats()).toMatchObject({ rotated: 1, streams: 1 })
  })
})

test.each([
  [{ maxDuration: '5m' }, '@sse/express: option "maxDuration" must be of type integer, got "5m"'],
  [
    { maxDuration: 100, maxDurationJitter: 200 },
    '@sse/express: option "maxDurationJitter" must be less than "maxDuration" (100), got 200',
  ],
])('sseMiddleware(%o) throws INVALID_OPTION: %s', (options, message) => {
  const error = errorOf(() => sseMiddleware(options as SSEMiddlewareOptions))
  expect(error).toMatchObject({ code: 'INVALID_OPTION', message })
})
