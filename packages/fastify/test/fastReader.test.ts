import ssePlugin from '@sse/fastify'
import { describeFastReaderRun, fastReaderCases, runFastReader, useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()

/** An app with the plugin at its defaults, `reply.sse({ topics: ['t'] })` on `/events`, listening. */
async function serveDefaults() {
  const app = Fastify()
  await app.register(ssePlugin)
  app.get('/events', (_request, reply) => reply.sse({ topics: ['t'] }))
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  return { broker: app.broker, url: `${origin}/events` }
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
        `fastify ${megabytesPerSecond} MB/s × ${eventBytes} B: ${describeFastReaderRun(run)}`,
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
