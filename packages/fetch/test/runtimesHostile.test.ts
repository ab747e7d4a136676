import { closeStreams, type OpenStreamOptions, openStream } from '@sse/testing'
import { httpRequests, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { authorizeVerdicts } from '@sse/testkit/verdicts'
import { afterEach, describe, expect, test } from 'vitest'
import type { RuntimeAppOptions } from './runtime/app.js'
import {
  type RuntimeTarget,
  runtimeTargets,
  startRuntime,
  useServerBundles,
} from './runtime/startRuntime.js'

// The adapter conformance suite's hostile requests, against each runtime as its own process.
const bundles = useServerBundles()

interface RemoteStats {
  streams: number
  topics: number
  refused: number
  subscribers: number
  handled: number
  errors: string[]
}

describe.each(runtimeTargets)(
  '@sse/fetch on $label: what a hostile client sends',
  (target: RuntimeTarget) => {
    const { runtime, nodeBindings } = target
    const cleanups = useCleanups()
    afterEach(closeStreams)

    async function start(options: RuntimeAppOptions = {}) {
      const { origin, stderr } = await startRuntime(runtime, bundles(), cleanups, {
        keepAlive: 0,
        nodeBindings,
        ...options,
      })
      const open = (path: string, options: OpenStreamOptions = {}) =>
        openStream(`${origin}${path}`, { timeout: 15_000, ...options })
      const stats = async (): Promise<RemoteStats> =>
        (await (await fetch(`${origin}/stats`)).json()) as RemoteStats
      return { origin, open, stats, stderr }
    }

    test('every authorize verdict, sync and async, gets its status and plain-text body, and counts nothing', async () => {
      const { open, stats } = await start()
      const expected: string[] = []
      for (const mode of ['', '&async']) {
        for (const [index, { status, body, code }] of authorizeVerdicts.entries()) {
          const client = await open(`/events?verdict=${index}${mode}`)
          await client.ended()
          expect([index, mode, client.status, client.text()]).toEqual([index, mode, status, body])
          expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
          if (code !== undefined) expected.push(code)
        }
      }
      await waitFor(async () => (await stats()).streams === 0)
      const after = await stats()
      expect(after).toMatchObject({ topics: 0, refused: 2 * authorizeVerdicts.length })
      expect(after.errors).toEqual(expected)
      // And the server still admits a stream.
      expect((await open('/events')).status).toBe(200)
    })

    test('a header value the head cannot carry answers 500 and reports INVALID_OPTION; the next request is served', async () => {
      const { open, stats } = await start()
      const bad = await open(`/events?name=${encodeURIComponent('✓ done')}`)
      await bad.ended()
      expect([bad.status, bad.text()]).toEqual([500, 'The event stream could not be opened.'])
      expect((await stats()).errors).toEqual(['INVALID_OPTION'])
      const good = await open('/events?name=done')
      expect(good.status).toBe(200)
      expect(good.headers['x-name']).toBe('done')
    })

    test('65 distinct topics answer 400; 64 are admitted', async () => {
      const { open } = await start()
      const topics = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`).join(',')
      expect((await open(`/events?topics=${topics(65)}`)).status).toBe(400)
      expect((await open(`/events?topics=${topics(64)}`)).status).toBe(200)
    })

    test('60 pipelined GETs take at most maxConnections: 50, and all are released when the client leaves', async () => {
      const { origin, open, stats, stderr } = await start({ maxConnections: 50 })
      const hog = openSocket(cleanups, origin, httpRequests(60, 'GET', '/events'))
      await waitFor(() => hog.statuses().length >= 1)
      await new Promise((resolve) => setTimeout(resolve, 200))
      const held = await stats()
      // Node (Hono) opens all of them at once, Deno one, Bun one that it cuts: never past the bound.
      expect(held.streams).toBeLessThanOrEqual(50)
      hog.destroy()
      await waitFor(async () => (await stats()).streams === 0)
      const clients = await Promise.all(Array.from({ length: 5 }, () => open('/events')))
      expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
      // The 50 streams on one connection wait for its close through one listener, not 50: no
      // MaxListenersExceededWarning in the app's log.
      expect(stderr()).not.toContain('MaxListenersExceededWarning')
    })
  },
)
