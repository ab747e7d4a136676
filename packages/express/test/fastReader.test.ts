import { sseMiddleware } from '@sse/express'
import { fastReaderMatrix, listen, useCleanups } from '@sse/testkit'
import express from 'express'

const cleanups = useCleanups()

/** An app with the middleware at its defaults, `res.sse({ topics: ['t'] })` on `/events`, listening. */
async function serveDefaults() {
  const app = express()
  const sse = sseMiddleware()
  app.use(sse)
  app.get('/events', (_req, res) => res.sse({ topics: ['t'] }))
  const server = await listen(app)
  cleanups.push(
    () => server.close(),
    () => sse.close(),
  )
  return { broker: sse.broker, url: `${server.url}/events` }
}

fastReaderMatrix('express', cleanups, serveDefaults)
