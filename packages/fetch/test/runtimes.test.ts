import { closeStreams, type OpenStreamOptions, openStream, type TestStream } from '@sse/testing'
import { type Cleanups, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import type { RuntimeAppOptions } from './runtime/app.js'
import {
  type RuntimeTarget,
  runtimeTargets,
  startRuntime,
  useServerBundles,
} from './runtime/startRuntime.js'

const bundles = useServerBundles()

interface Stats {
  streams: number
  topics: number
  refused: number
  slowDisconnects: number
  conflated: number
  dropped: number
  snapshots: number
  rotated: number
  subscribers: number
}

describe.each(runtimeTargets)(
  '@sse/fetch on $label, as its own process',
  (target: RuntimeTarget) => {
    const { runtime, nodeBindings } = target
    const cleanups = useCleanups()
    afterEach(closeStreams)

    async function start(options: RuntimeAppOptions = {}) {
      const server = await startRuntime(runtime, bundles(), cleanups, { nodeBindings, ...options })
      const { origin } = server
      const open = (path = '/events', options: OpenStreamOptions = {}) =>
        openStream(`${origin}${path}`, { timeout: 15_000, ...options })
      const publish = async (query: string): Promise<string[]> => {
        const response = await fetch(`${origin}/publish?${query}`, { method: 'POST' })
        return ((await response.json()) as { ids: string[] }).ids
      }
      const stats = async (topic = 't'): Promise<Stats> =>
        (await (await fetch(`${origin}/stats?topic=${topic}`)).json()) as Stats
      return { origin, open, publish, stats, server }
    }

    test('500 events published in one turn reach three clients whole and in order', async () => {
      const { open, publish } = await start()
      const clients = await Promise.all([open(), open(), open()])
      const ids = await publish('count=500&size=200')
      for (const client of clients) {
        const events = await client.take(500)
        expect(events.map((event) => event.id)).toEqual(ids)
        expect(events.map((event) => Number.parseInt(event.data, 10))).toEqual(ids.map((_, i) => i))
      }
    })

    test('500 events published one per event-loop turn reach three clients whole and in order', async () => {
      // Core gathers a busy stream's frames of consecutive turns into one write: none may be lost,
      // repeated or reordered on the way through the runtime's web stream.
      const { open, publish } = await start()
      const clients = await Promise.all([open(), open(), open()])
      const ids = await publish('count=500&size=200&turns')
      for (const client of clients) {
        const events = await client.take(500)
        expect(events.map((event) => event.id)).toEqual(ids)
        expect(events.map((event) => Number.parseInt(event.data, 10))).toEqual(ids.map((_, i) => i))
      }
    })

    test('replays after the Last-Event-ID header, and after ?lastEventId=', async () => {
      const { open, publish } = await start()
      const ids = await publish('count=5')
      const byHeader = await open('/events', { lastEventId: ids[1]! })
      const byQuery = await open(`/events?lastEventId=${encodeURIComponent(ids[2]!)}`)
      expect((await byHeader.take(3)).map((event) => event.id)).toEqual(ids.slice(2))
      expect((await byQuery.take(2)).map((event) => event.id)).toEqual(ids.slice(3))
      const [next] = await publish('count=1')
      expect((await byHeader.take(1))[0]!.id).toBe(next)
      expect((await byQuery.take(1))[0]!.id).toBe(next)
    })

    test('an id it cannot resume from gets the snapshot, with the Request, then only later events', async () => {
      const { open, publish, stats } = await start()
      await publish('count=3')
      const client = await open('/events?snapshot=1', { lastEventId: 'garbage\u00e9id' })
      const [first, last] = await client.take(2)
      expect(first).toMatchObject({ event: 'snapshot', data: '/events t' })
      expect(last!.event).toBe('snapshot-end')
      const [next] = await publish('count=1')
      expect((await client.take(1))[0]!.id).toBe(next)
      expect((await stats()).snapshots).toBe(1)
    })

    test('revoking a tag ends its streams, and only those', async () => {
      const { origin, open, stats } = await start()
      const revoked = await open('/events?tag=user:1')
      const kept = await open('/events?tag=user:2')
      const answer = await fetch(`${origin}/revoke?tag=user:1`, { method: 'POST' })
      expect(await answer.json()).toEqual({ ended: 1 })
      expect(await revoked.ended()).toBe('ended')
      expect(kept.state).toBe('open')
      await waitFor(async () => (await stats()).streams === 1)
    })

    test('a keyed burst to a client that reads nothing is conflated, and it catches up on each key', async () => {
      const { open, publish, stats } = await start({ maxBufferedBytes: 256 * 1024 })
      const client = await open('/events', { record: true })
      client.pause()
      // 4 MB on 10 keys, in one turn: 16× the bound.
      await publish('count=2000&size=2000&keys=10')
      await waitFor(async () => (await stats()).conflated > 0)
      client.resume()
      const latest = new Map<string, number>()
      await client.until((event) => {
        const n = Number.parseInt(event.data, 10)
        latest.set(`k${n % 10}`, n)
        return latest.size === 10 && [...latest.values()].every((value) => value >= 1990)
      })
      expect(client.state).toBe('open')
      expect((await stats()).slowDisconnects).toBe(0)
    })

    test('a client that stops reading while 8 MB are published, then reads again, gets every event in order and is never cut', async () => {
      // Past what the runtime and the sockets buffer, the body pushes back; only its drain (the
      // runtime reading again) lets the rest through.
      const { open, publish, stats } = await start({ maxBufferedBytes: 32 * 1024 * 1024 })
      const client = await open('/events', { record: true })
      client.pause()
      const ids: string[] = []
      for (let i = 0; i < 80; i++) ids.push(...(await publish('count=50&size=2000')))
      client.resume()
      const events = await client.take(ids.length)
      expect(events.map((event) => event.id)).toEqual(ids)
      expect(client.state).toBe('open')
      expect((await stats()).slowDisconnects).toBe(0)
    })

    test('a client that reads nothing is cut at the bound, and nothing stays counted', async () => {
      const { open, publish, stats } = await start({ maxBufferedBytes: 256 * 1024 })
      const stalled = await open('/events', { record: false })
      const reader = await open('/events', { record: false })
      stalled.pause()
      // 8 MB, unkeyed, published 50 per request.
      for (let i = 0; i < 40; i++) await publish('count=50&size=4000')
      await waitFor(async () => (await stats()).slowDisconnects === 1)
      await waitFor(() => reader.received === 2000)
      expect((await stats()).streams).toBe(1)
      expect(reader.state).toBe('open')
    })

    test('authorize reads the Request; bad topics answer 400; maxConnections answers 503', async () => {
      const { open, stats } = await start({ maxConnections: 2 })
      expect((await open('/events?topics=secret')).status).toBe(403)
      const admitted = await open('/events?topics=secret', { headers: { 'x-token': 'letmein' } })
      expect(admitted.status).toBe(200)
      expect((await open('/events?topics=a%0Ab')).status).toBe(400)
      const second = await open('/events')
      const refused = await open('/events')
      expect([second.status, refused.status]).toEqual([200, 503])
      expect(refused.headers['retry-after']).toBeDefined()
      expect((await stats()).refused).toBe(3)
    })

    test('HEAD gets the SSE head and holds no stream', async () => {
      const { open, stats } = await start()
      const head = await open('/events', { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      await head.ended()
      expect(await stats()).toMatchObject({ streams: 0, subscribers: 0 })
    })

    test('a client that leaves is released, and its topic emptied', async () => {
      const { open, stats } = await start()
      const clients: TestStream[] = await Promise.all(Array.from({ length: 5 }, () => open()))
      await waitFor(async () => (await stats()).subscribers === 5)
      await Promise.all(clients.map((client) => client.close()))
      await waitFor(async () => (await stats()).streams === 0)
      expect(await stats()).toMatchObject({ topics: 0, subscribers: 0 })
    })

    test('maxDuration rotation ends the stream cleanly, and the client resumes with no gap', async () => {
      const { open, publish, stats } = await start({ maxDuration: 1500 })
      const first = await open()
      const before = await publish('count=10')
      expect((await first.take(10)).map((event) => event.id)).toEqual(before)
      expect(await first.ended()).toBe('ended')
      const missed = await publish('count=10')
      const second = await open('/events', { lastEventId: first.lastEventId })
      expect((await second.take(10)).map((event) => event.id)).toEqual(missed)
      expect((await stats()).rotated).toBeGreaterThanOrEqual(1)
    })

    test('a source is streamed and the stream ends with it', async () => {
      const { open } = await start()
      const client = await open('/count?to=3')
      expect(await client.ended()).toBe('ended')
      expect(client.events.map((event) => event.data)).toEqual(['1', '2', '3'])
    })

    test('close() sends the final event, ends every stream, and later requests get 503', async () => {
      const { origin, open } = await start()
      const client = await open()
      await fetch(`${origin}/close`, { method: 'POST' })
      expect(await client.ended()).toBe('ended')
      expect(client.events.at(-1)).toMatchObject({ event: 'bye', data: 'closing' })
      const late = await open()
      expect(late.status).toBe(503)
      expect(late.headers['retry-after']).toBeDefined()
    })

    test("the test kit's cleanup stops the runtime itself: its port refuses connections after it", async () => {
      const own: Cleanups = []
      const { origin, child } = await startRuntime(runtime, bundles(), own)
      expect((await fetch(`${origin}/stats`)).status).toBe(200)
      const exited = new Promise((resolve) => child.once('exit', resolve))
      for (const cleanup of own) await cleanup()
      await exited
      // A runtime started through a shim (`sh`, or Deno's Node wrapper) outlived the shim's process.
      await expect(fetch(`${origin}/stats`)).rejects.toThrow()
    })
  },
)
