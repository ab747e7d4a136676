import type { IncomingMessage, ServerResponse } from 'node:http'
import { setImmediate as turn } from 'node:timers/promises'
import type { Broker, BrokerOptions, SSEError, SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { heldAfterGc, useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

const KiB = 1024

/** A broker behind a real server whose streams (topic `t`) are collected in `streams`. */
async function setup(options: BrokerOptions = {}, snapshot?: () => unknown) {
  const errors: SSEError[] = []
  const streams: SSEStream[] = []
  const { broker, url } = await serveBroker(
    cleanups,
    { onError: (error) => errors.push(error), ...options },
    (b: Broker, req: IncomingMessage, res: ServerResponse) => {
      const stream = b.stream(req, res, {
        topics: ['t'],
        ...(snapshot === undefined ? {} : { snapshot: snapshot as never }),
      })
      streams.push(stream)
    },
  )
  return { broker, url, errors, streams }
}

/** `key:index:` padded to `size` bytes, so each update says which key and which update it is. */
const update = (key: string, index: number, size = 2000) => `${key}:${index}:`.padEnd(size, '.')

/** The newest update index seen per key; fails if any key went backwards. */
function newestPerKey(events: readonly { data: string }[]): Map<string, number> {
  const newest = new Map<string, number>()
  for (const { data } of events) {
    const [key, index] = data.split(':')
    expect(Number(index)).toBeGreaterThan(newest.get(key!) ?? -1)
    newest.set(key!, Number(index))
  }
  return newest
}

describe('a keyed burst in one turn', () => {
  test('200 updates of 20 keys to a client reading at full speed: conflated in the turn, never cut', async () => {
    const { broker, url } = await setup()
    const client = await openStream(url)
    for (let i = 0; i < 200; i++) {
      const key = `k${i % 20}`
      broker.publish('t', { data: update(key, i) }, { key })
    }
    await client.until((event) => event.data.startsWith('k19:199:'))
    const stats = broker.stats()
    expect(stats.slowDisconnects).toBe(0)
    expect(client.state).toBe('open')
    // The whole burst waited for one write: only the newest update of each key was left to send.
    expect(client.events).toHaveLength(20)
    expect(stats.conflated).toBe(180)
    const newest = newestPerKey(client.events)
    for (let k = 0; k < 20; k++) expect(newest.get(`k${k}`)).toBe(180 + k)
  })

  test('a burst eight times the bound on 20 keys leaves at most 20 frames pending for a client that stopped reading', async () => {
    const maxBufferedBytes = 64 * KiB
    const { broker, url, streams } = await setup({ maxBufferedBytes })
    const client = await openStream(url)
    client.pause()
    const stream = streams[0]!
    let index = 0
    // Bursts until the socket has pushed back (a bounded loop: the kernel takes a few MB at most).
    for (let round = 0; round < 400 && stream.behindBytes === 0; round++) {
      for (let i = 0; i < 256; i++, index++) {
        const key = `k${index % 20}`
        broker.publish('t', { data: update(key, index) }, { key })
      }
      await turn()
    }
    expect(stream.behindBytes).toBeGreaterThan(0)
    const unsent = (stream.response as ServerResponse).writableLength
    for (let i = 0; i < 256; i++, index++) {
      const key = `k${index % 20}`
      broker.publish('t', { data: update(key, index) }, { key })
    }
    expect(stream.isClosed).toBe(false)
    expect(broker.stats().slowDisconnects).toBe(0)
    // At most one pending frame per key, besides the one write Node had taken already.
    expect(stream.bufferedBytes - unsent).toBeLessThanOrEqual(20 * 2100)
    client.resume()
    const last = index - 1
    await client.until((event) => event.data.startsWith(`k${last % 20}:${last}:`))
    const newest = newestPerKey(client.events)
    for (let i = last - 19; i <= last; i++) expect(newest.get(`k${i % 20}`)).toBe(i)
  })
})

describe('a replay and live events together', () => {
  test('a client reading at full speed is not cut while 1 MiB of history is replayed under a 64 KiB bound', async () => {
    const { broker, url } = await setup({ maxBufferedBytes: 64 * KiB, historySize: 2000 })
    const first = await broker.publish('t', { data: 'first' })
    for (let i = 0; i < 1000; i++) broker.publish('t', { data: `old ${i} `.padEnd(1000, '.') })
    const client = await openStream(url, { lastEventId: first })
    for (let i = 0; i < 200; i++) {
      broker.publish('t', { data: `live ${i} `.padEnd(2000, '.') })
      if (i % 4 === 3) await turn()
    }
    await client.until((event) => event.data.startsWith('live 199 '))
    expect(broker.stats().slowDisconnects).toBe(0)
    expect(client.events).toHaveLength(1200)
    expect(client.events[999]!.data.startsWith('old 999 ')).toBe(true)
    expect(client.events[1000]!.data.startsWith('live 0 ')).toBe(true)
  })
})

describe('a snapshot under the replay caps', () => {
  test('a snapshot that never settles falls back to the reset event after snapshotTimeout; live events follow', async () => {
    const { broker, url, errors } = await setup(
      { snapshotTimeout: 300 },
      () => new Promise(() => {}),
    )
    const client = await openStream(url, { lastEventId: 'gone' })
    await broker.publish('t', 'during the snapshot')
    const [reset] = await client.take(1)
    expect(reset!.event).toBe('sse-reset')
    const [held] = await client.take(1)
    expect(held!.data).toBe('during the snapshot')
    await broker.publish('t', 'after')
    expect((await client.take(1))[0]!.data).toBe('after')
    expect(errors.map((error) => error.code)).toEqual(['SNAPSHOT_FAILED'])
    expect(errors[0]!.message).toContain('300 ms')
  })

  test('a snapshot larger than maxReplayBytes is not sent: the reset event is, and nothing of it stays in memory', async () => {
    // Flat from the start (`repeat()` makes a rope that V8 flattens into a copy on first read).
    const big = Buffer.alloc(8 * 1024 * 1024, 'x').toString('latin1')
    const { broker, url, errors } = await setup({}, () => ({ event: 'state', data: big }))
    const before = heldAfterGc()
    const paused = await Promise.all([0, 1, 2].map(() => openStream(url, { lastEventId: 'gone' })))
    for (const client of paused) client.pause()
    const reader = await openStream(url, { lastEventId: 'gone' })
    const [reset] = await reader.take(1)
    expect(reset!.event).toBe('sse-reset')
    await broker.publish('t', 'live')
    expect((await reader.take(1))[0]!.data).toBe('live')
    expect(errors.filter((error) => error.code === 'SNAPSHOT_FAILED')).toHaveLength(4)
    expect(errors[0]!.message).toContain('maxReplayBytes')
    expect(heldAfterGc() - before).toBeLessThan(4 * 1024 * 1024)
  })

  test('a hung snapshot with a keyed ticker holds one frame per key, not one entry per publish', async () => {
    const { broker, url, streams } = await setup(
      { snapshotTimeout: 600_000 },
      () => new Promise(() => {}),
    )
    const client = await openStream(url, { lastEventId: 'gone' })
    await client.waitFor(() => streams.length === 1)
    await turn()
    const before = heldAfterGc()
    for (let i = 0; i < 300_000; i++) {
      broker.publish('t', 'v', { key: 'k' })
      if (i % 10_000 === 9_999) await turn()
    }
    const grown = heldAfterGc() - before
    expect(streams[0]!.isClosed).toBe(false)
    expect(broker.stats().bufferedBytes).toBeLessThan(1024)
    // ~172 B per publish before held entries were compacted: 51.7 MB here.
    expect(grown).toBeLessThan(2 * 1024 * 1024)
  })
})

describe('rotation on a group with its own jitter', () => {
  test('a stream that sets its own maxDuration gets its own jitter, not the group’s', async () => {
    const broker = (await setup()).broker
    const group = broker.group({ maxDuration: 60_000, maxDurationJitter: 900 })
    const { listen } = await import('@sse/testkit')
    const server = await listen((req, res) =>
      group.stream(req, res, { topics: ['t'], maxDuration: 1000 }),
    )
    cleanups.push(() => server.close())
    const opened = Date.now()
    const clients = await Promise.all(Array.from({ length: 8 }, () => openStream(server.url)))
    for (const client of clients) expect(client.status).toBe(200)
    const lifetimes = await Promise.all(
      clients.map(async (client) => {
        await client.ended()
        return Date.now() - opened
      }),
    )
    // Drawn from 900–1,100 ms; with the group's 900 ms jitter some would end after ~100 ms.
    for (const lifetime of lifetimes) expect(lifetime).toBeGreaterThanOrEqual(850)
  })
})
