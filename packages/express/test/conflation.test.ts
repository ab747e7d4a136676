import { SSEError } from '@sse/core'
import { sseMiddleware } from '@sse/express'
import { closeStreams } from '@sse/testing'
import { checkKeyedPublishing, listen, useCleanups } from '@sse/testkit'
import express from 'express'
import { afterEach, test } from 'vitest'

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
  await checkKeyedPublishing(server.url, () => sse.broker.stats())
})
