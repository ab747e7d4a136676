import { sseMiddleware } from '@sse/express'
import {
  describeFastReaderRun,
  fastReaderCases,
  listen,
  runFastReader,
  useCleanups,
} from '@sse/testkit'
import express from 'express'
import { describe, expect, test } from 'vitest'

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

describe('a reader in another process, default options, the server busy 25 ms of every 100', () => {
  test.each(fastReaderCases)(
    '$name: it gets every event, in order, and is never cut as slow',
    async ({ count, eventBytes, megabytesPerSecond }) => {
      const { broker, url } = await serveDefaults()
      const run = await runFastReader(cleanups, url, (data) => broker.publish('t', data), {
        count,
        eventBytes,
        megabytesPerSecond,
        busy: true,
      })
      console.log(
        `express ${megabytesPerSecond} MB/s × ${eventBytes} B: ${describeFastReaderRun(run)}`,
      )
      expect({
        ending: run.report.ending,
        events: run.report.events,
        inOrder: run.report.inOrder,
        slowDisconnects: broker.stats().slowDisconnects,
      }).toEqual({ ending: 'end-event', events: count, inOrder: true, slowDisconnects: 0 })
      expect(run.publishing).toMatchObject({ published: count, errors: [] })
    },
    60_000,
  )
})
