import { SSEError } from '@sse/core'
import { closeStreams, openStream } from '@sse/core/testing'
import { sseMiddleware } from '@sse/express'
import { listen, useCleanups } from '@sse/testkit'
import express from 'express'
import { afterEach, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

test('req.broker publishes with a conflation key end to end: live, then a log-compacted replay, and a bad key answers with its code', async () => {
  const app = express()
  const sse = sseMiddleware({ keepAlive: 0 })
  app.use(express.json())
  app.use(sse)
  app.get('/events', (_req, res) => res.sse({ topics: ['system'] }))
  app.post('/metrics', (req, res, next) => {
    const { key, value } = req.body as { key: string; value: number }
    let published: Promise<string>
    try {
      published = req.broker.publish('system', { data: `${key}=${value}` }, { key })
    } catch (error) {
      if (error instanceof SSEError) return void res.status(400).json({ code: error.code })
      return next(error)
    }
    published.then((id) => res.json({ id }), next)
  })
  const server = await listen(app)
  cleanups.push(
    () => server.close(),
    () => sse.close(),
  )
  const post = async (key: string, value: number) => {
    const response = await fetch(`${server.url}/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key, value }),
    })
    return {
      status: response.status,
      body: (await response.json()) as { id?: string; code?: string },
    }
  }

  const live = await openStream(server.server, '/events')
  const { body: first } = await post('cpu', 1)
  for (let value = 2; value <= 5; value++) {
    await post('cpu', value)
    await post('memory', value)
  }
  const [firstEvent] = await live.take(9)
  expect(firstEvent).toMatchObject({ id: first.id, event: 'system', data: 'cpu=1' })

  const resumed = await openStream(server.server, '/events', { lastEventId: first.id! })
  await resumed.take(2)
  expect(resumed.events.map((event) => event.data)).toEqual(['cpu=5', 'memory=5'])

  expect(await post('a\u0000b', 1)).toEqual({ status: 400, body: { code: 'INVALID_OPTION' } })
  expect(await post('k'.repeat(300), 1)).toEqual({ status: 400, body: { code: 'INVALID_OPTION' } })
  expect(sse.broker.stats()).toMatchObject({ published: 9, replayed: 2 })
})
