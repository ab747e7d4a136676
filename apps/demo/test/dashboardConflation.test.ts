import { createBroker } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups } from '@sse/testkit'
import { afterEach, expect, test } from 'vitest'
import { buildApp } from '../src/app.js'

const cleanups = useCleanups()
afterEach(closeStreams)

test('the dashboard publishes its cards with a conflation key: a page that comes back replays only the newest cards, not every sample it missed', async () => {
  const broker = createBroker()
  const app = buildApp({ broker, dashboardIntervalMs: 20 })
  cleanups.push(
    () => broker.close(),
    () => app.close(),
  )
  // Listening for the whole test: the first page leaves before the next one comes.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const path = '/events?topics=system'
  const first = await openStream(app, path)
  const left = (await first.until((event) => event.event === 'system')).at(-1)!.id!
  await first.close()
  // Someone else keeps watching, so samples go on being published while the first page is away.
  const other = await openStream(app, path)
  await other.waitFor((s) => s.events.filter((event) => event.event === 'system').length >= 10)
  const replayedBefore = broker.stats().replayed
  const back = await openStream(app, path, { lastEventId: left })
  await back.until((event) => event.event === 'system')
  expect(broker.stats().replayed - replayedBefore).toBe(1)
  expect(back.events[0]?.data).toMatch(/class="metrics" data-seq="\d+"/)
  expect(broker.stats().resets + broker.stats().snapshots).toBe(0)
})
