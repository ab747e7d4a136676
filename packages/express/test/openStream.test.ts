import { sseMiddleware } from '@sse/express'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import express5 from 'express'
import express4 from 'express4'
import { afterEach, describe, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('@sse/testing against an %s app', (_, express) => {
  /** An app that was never listened on: the kit serves it for as long as its streams need. */
  function app(options: Parameters<typeof sseMiddleware>[0] = {}) {
    const app = express()
    const sse = sseMiddleware({ keepAlive: 0, ...options })
    app.use(sse)
    app.get('/events', (_req, res) => res.sse({ topics: ['news'] }))
    cleanups.push(() => sse.close())
    return { app, broker: sse.broker }
  }

  test('opens a stream on the app itself, reads events, and reconnects with Last-Event-ID', async () => {
    const { app: served, broker } = app()
    const stream = await openStream(served, '/events')
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    const first = await broker.publish('news', 'one')
    expect(await stream.take(1)).toEqual([{ id: first, event: 'news', data: 'one' }])
    const again = await stream.reconnect()
    const second = await broker.publish('news', 'two')
    expect((await again.take(1))[0]).toMatchObject({ id: second, data: 'two' })
    expect(again.url).toBe(stream.url)
  })

  test('a refusal comes back with its status and body, and no events', async () => {
    const { app: served } = app({ authorize: () => ({ status: 401, message: 'Log in first.' }) })
    const refused = await openStream(served, '/events')
    expect([refused.status, refused.text(), refused.state]).toEqual([401, 'Log in first.', 'ended'])
    expect(refused.events).toEqual([])
  })
})
