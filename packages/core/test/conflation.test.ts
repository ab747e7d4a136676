import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type BrokerOptions,
  createBroker,
  MemoryTransport,
  type OverflowPolicy,
  SSEError,
  type SSEStream,
} from '@sse/core'
import type { OutgoingMessage, ReplayResult, Transport } from '@sse/core/kit'
import { closeStreams, openStream } from '@sse/testing'
import { transportContract } from '@sse/testing/transport'
import { errorOf, listenH2, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { EMPTY_FRAME, KeyedSlots } from '../src/conflation/keyedSlots.js'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)
const KiB = 1024
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code
const tick = () => new Promise((resolve) => setImmediate(resolve))

/**
 * A broker behind an h2c server; each request subscribes to the topic its path names. Over HTTP/2,
 * flow control makes a client that does not read push back on the server after one window (64 KiB),
 * where a loopback TCP socket would first soak up megabytes in kernel buffers.
 */
/**
 * What the stream queues for a client that is behind (what a keyed client's bound caps): what it
 * holds, less what Node took in its last write and has not sent yet (that one cannot be replaced).
 */
function queuedOf(stream: SSEStream): number {
  return stream.bufferedBytes - stream.response.writableLength
}

async function serveH2(options: BrokerOptions) {
  const broker = createBroker({ keepAlive: 0, ...options })
  const streams: SSEStream[] = []
  const server = await listenH2((req, res) => {
    streams.push(broker.stream(req, res, { topics: [req.url.slice(1)] }))
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  return { broker, server: server.server, streams }
}

/** A JSON payload of about `size` bytes naming its key and value. */
function dataOf(key: string, value: number, size = 1000): string {
  return JSON.stringify({ key, value, pad: '.'.repeat(size) })
}

/** The newest value of each key in what a client received. */
function newestOf(events: ReadonlyArray<{ data: string }>): Map<string, number> {
  const newest = new Map<string, number>()
  for (const { data } of events) {
    const { key, value } = JSON.parse(data) as { key: string; value: number }
    newest.set(key, value)
  }
  return newest
}

/**
 * A client that stopped reading, behind: publishes keyed frames a few ms apart (each its own write,
 * past the stream's coalescing window) until the stream reports a conflation (the socket pushed
 * back). Returns the value published last per key.
 */
async function fallBehind(
  broker: ReturnType<typeof createBroker>,
  topic: string,
  size = 1000,
): Promise<Map<string, number>> {
  const published = new Map<string, number>()
  for (let i = 0; broker.stats().conflated === 0; i++) {
    if (i === 1000) throw new Error('the stream never fell behind')
    broker.publish(topic, { data: dataOf('filler', i, size) }, { key: 'filler' })
    published.set('filler', i)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return published
}

describe('publish({ key }) refuses what cannot be a key, with a coded error naming it', () => {
  const broker = createBroker({ keepAlive: 0 })
  const publish = broker.publish.bind(broker) as (...args: unknown[]) => Promise<string>

  test.each([
    ['10 KB long', 'k'.repeat(10_000)],
    ['with CR', 'a\rb'],
    ['with LF', 'a\nb'],
    ['with NUL', 'a\u0000b'],
    ['with a tab', 'a\tb'],
    ['empty', ''],
    ['a number', 42],
    ['null', null],
    ['an object', { key: 'cpu' }],
    ['a list', ['cpu']],
  ])('a key %s is INVALID_OPTION, and nothing is published', (_, key) => {
    const error = errorOf(() => publish('t', 'x', { key }), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toMatch(
      /^@sse\/core: option "key" must be a non-empty string of at most 256 characters without control characters, got /,
    )
    expect(error?.message.length).toBeLessThan(300)
    expect(broker.stats().published).toBe(0)
    expect(broker.stats().history?.events).toBe(0)
  })

  test('a key of 256 characters, with spaces and any script, is accepted', async () => {
    await expect(publish('t', 'x', { key: 'k'.repeat(256) })).resolves.toEqual(expect.any(String))
    await expect(publish('t', 'x', { key: 'price: ACME ✓ 株' })).resolves.toEqual(
      expect.any(String),
    )
  })

  test('unknown publish options and a bad defaultEventName are INVALID_OPTION', () => {
    expect(codeOf(() => publish('t', 'x', { keys: 'cpu' }))).toBe('INVALID_OPTION')
    expect(codeOf(() => publish('t', 'x', { defaultEventName: 'nope' }))).toBe('INVALID_OPTION')
    expect(codeOf(() => publish('t', 'x', 'cpu'))).toBe('INVALID_OPTION')
  })

  test('a keyed event whose id a client could not resume from is INVALID_EVENT_ID; a keyed publish after close is BROKER_CLOSED', async () => {
    const closing = createBroker({ keepAlive: 0 })
    const publishTo = closing.publish.bind(closing) as (...args: unknown[]) => Promise<string>
    expect(codeOf(() => publishTo('t', { id: 'a\tb', data: 'x' }, { key: 'cpu' }))).toBe(
      'INVALID_EVENT_ID',
    )
    expect(codeOf(() => publishTo('t', { id: 'x'.repeat(257) }, { key: 'cpu' }))).toBe(
      'INVALID_EVENT_ID',
    )
    await closing.close()
    expect(codeOf(() => publishTo('t', 'x', { key: 'cpu' }))).toBe('BROKER_CLOSED')
  })
})

test('the key never reaches the wire: a keyed event is written byte for byte like the same event unkeyed', async () => {
  const { broker, url } = await serveBroker(cleanups)
  const client = await openStream(url)
  await waitFor(() => broker.subscribers('t') === 1)
  const keyed = await broker.publish('t', { data: 'cpu 12%' }, { key: 'cpu' })
  const plain = await broker.publish('t', { data: 'cpu 12%' })
  await client.take(2)
  expect(client.text()).toBe(
    `id: ${keyed}\nevent: t\ndata: cpu 12%\n\nid: ${plain}\nevent: t\ndata: cpu 12%\n\n`,
  )
})

describe('a client that has fallen behind', () => {
  test('gets, once it reads again, the newest value of each key and every unkeyed event, ids in order, without being cut or passing maxBufferedBytes', async () => {
    const maxBufferedBytes = 32 * KiB
    const { broker, server, streams } = await serveH2({ maxBufferedBytes })
    const conflations: unknown[] = []
    const listener = (message: unknown) => conflations.push(message)
    subscribe('sse:conflate', listener)
    cleanups.push(() => unsubscribe('sse:conflate', listener))
    const reader = await openStream(server, '/t', { timeout: 10_000 })
    reader.pause()
    const published = await fallBehind(broker, 't')
    const plain: string[] = []
    let most = 0
    // 1,000 updates of 5 keys (about 1 MB), one round per tick, and an unkeyed event every 40.
    for (let i = 0; i < 200; i++) {
      for (let k = 0; k < 5; k++) {
        broker.publish('t', { data: dataOf(`k${k}`, i) }, { key: `k${k}` })
        published.set(`k${k}`, i)
      }
      if (i % 40 === 0) {
        const data = JSON.stringify({ key: 'plain', value: i })
        plain.push(data)
        broker.publish('t', { data })
      }
      await tick()
      most = Math.max(most, streams[0]!.bufferedBytes)
    }
    expect(streams[0]!.isClosed).toBe(false)
    expect(most).toBeLessThanOrEqual(maxBufferedBytes)
    const { conflated, slowDisconnects, dropped } = broker.stats()
    expect({ slowDisconnects, dropped }).toEqual({ slowDisconnects: 0, dropped: 0 })
    expect(conflated).toBeGreaterThan(900)
    expect(conflations).toHaveLength(conflated)
    expect(conflations[0]).toEqual({ broker, stream: streams[0] })

    reader.resume()
    await reader.waitFor((r) => {
      const newest = newestOf(r.events)
      return [...published].every(([key, value]) => newest.get(key) === value)
    })
    const received = reader.events.map((event) => event.data)
    expect(plain.every((data) => received.includes(data))).toBe(true)
    const ids = reader.events.map((event) => Number(event.id!.split('-')[1]))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(ids.length)
    // Far fewer than the ~1,000 published: the client was spared the superseded ones.
    expect(reader.events.length).toBeLessThan(300)
    expect(streams[0]!.isClosed).toBe(false)
  })

  test.each<[OverflowPolicy, boolean]>([
    ['disconnect', true],
    ['drop', false],
  ])(
    'unkeyed events keep onOverflow %s: past the bound the stream is cut (%s) or frames are dropped',
    async (onOverflow, cut) => {
      const maxBufferedBytes = 32 * KiB
      const { broker, server, streams } = await serveH2({ maxBufferedBytes, onOverflow })
      const reader = await openStream(server, '/t')
      reader.pause()
      await fallBehind(broker, 't')
      for (let i = 0; i < 100 && !streams[0]!.isClosed; i++) {
        broker.publish('t', { data: dataOf('plain', i) })
        await tick()
        expect(streams[0]!.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes)
      }
      const stats = broker.stats()
      expect(streams[0]!.isClosed).toBe(cut)
      expect(stats.slowDisconnects).toBe(cut ? 1 : 0)
      expect(stats.dropped > 0).toBe(!cut)
    },
  )

  test.each<[OverflowPolicy]>([['drop'], ['disconnect']])(
    '5,000 distinct keys never pass the bound: new keys past it get onOverflow %s',
    async (onOverflow) => {
      const maxBufferedBytes = 32 * KiB
      const { broker, server, streams } = await serveH2({ maxBufferedBytes, onOverflow })
      const reader = await openStream(server, '/t')
      reader.pause()
      await fallBehind(broker, 't', 200)
      const stream = streams[0]!
      for (let i = 0; i < 5000 && !stream.isClosed; i++) {
        broker.publish('t', { data: dataOf(`key-${i}`, i, 200) }, { key: `key-${i}` })
        if (i % 50 === 49) {
          await tick()
          expect(queuedOf(stream)).toBeLessThanOrEqual(maxBufferedBytes)
        }
      }
      const stats = broker.stats()
      if (onOverflow === 'drop') {
        expect(stream.isClosed).toBe(false)
        expect(stats.dropped).toBeGreaterThan(4000)
        expect(queuedOf(stream)).toBeLessThanOrEqual(maxBufferedBytes)
      } else {
        expect(stream.isClosed).toBe(true)
        expect(stats.slowDisconnects).toBe(1)
        expect(stream.bufferedBytes).toBe(0)
      }
    },
  )

  test('a replacement that does not grow the queue never trips the bound; one that grows it past the bound does', async () => {
    const maxBufferedBytes = 32 * KiB
    const { broker, server, streams } = await serveH2({ maxBufferedBytes, onOverflow: 'drop' })
    const reader = await openStream(server, '/t')
    reader.pause()
    await fallBehind(broker, 't')
    // Fixed-width ids, so that every frame of the same payload size has the same length.
    let n = 0
    const send = (key: string, size: number) =>
      broker.publish(
        't',
        { id: `e-${String(++n).padStart(6, '0')}`, data: `${key} `.padEnd(size, '.') },
        { key },
      )
    for (let k = 0; broker.stats().dropped === 0; k++) send(`k${k}`, 1000)
    const full = broker.stats()
    send('k0', 1000)
    expect(broker.stats().dropped).toBe(full.dropped)
    expect(broker.stats().conflated).toBe(full.conflated + 1)
    send('k1', 900)
    expect(broker.stats().conflated).toBe(full.conflated + 2)
    send('k2', 4000)
    expect(broker.stats().dropped).toBe(full.dropped + 1)
    expect(queuedOf(streams[0]!)).toBeLessThanOrEqual(maxBufferedBytes)
    expect(streams[0]!.isClosed).toBe(false)
  })
})

test('over HTTP/1.1 too: once the kernel buffers are full, a client that stopped reading is kept current, not cut', async () => {
  const maxBufferedBytes = 512 * KiB
  const { broker, url } = await serveBroker(cleanups, { maxBufferedBytes })
  const client = await openStream(url, { timeout: 20_000 })
  await waitFor(() => broker.subscribers('t') === 1)
  client.pause()
  const published = new Map<string, number>()
  // 64 KiB frames of 4 keys: loopback TCP takes megabytes before it pushes back.
  for (let i = 0; broker.stats().conflated < 100; i++) {
    if (i === 2000) throw new Error('the socket never pushed back')
    const key = `k${i % 4}`
    broker.publish('t', { data: dataOf(key, i, 64 * KiB) }, { key })
    published.set(key, i)
    await new Promise((resolve) => setTimeout(resolve, 3))
    expect(broker.stats().bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes)
  }
  expect(broker.stats().slowDisconnects).toBe(0)
  client.resume()
  await client.waitFor((c) => {
    const newest = newestOf(c.events)
    return [...published].every(([key, value]) => newest.get(key) === value)
  })
  expect(broker.subscribers('t')).toBe(1)
})

describe('log-compacted replay', () => {
  test('a client resuming gets only the newest event per key after its id, every unkeyed one, in id order; maxReplayEvents counts what is sent', async () => {
    const { broker, url } = await serveBroker(cleanups, { maxReplayEvents: 10 })
    const from = await broker.publish('t', 'before')
    const plain: string[] = []
    for (let i = 0; i < 100; i++) {
      for (const key of ['cpu', 'memory', 'disk']) {
        await broker.publish('t', { data: dataOf(key, i, 10) }, { key })
      }
      if (i % 50 === 0) plain.push(await broker.publish('t', { data: `plain ${i}` }))
    }
    const client = await openStream(url, { lastEventId: from })
    await client.take(5)
    expect(client.events.map((event) => event.data)).toEqual([
      'plain 0',
      'plain 50',
      dataOf('cpu', 99, 10),
      dataOf('memory', 99, 10),
      dataOf('disk', 99, 10),
    ])
    expect(broker.stats()).toMatchObject({ replayed: 5, resets: 0, replaysCapped: 0 })
  })

  test('live keyed events held while an asynchronous replay is read are conflated under the bound, then follow it', async () => {
    let release = () => {}
    const memory = new MemoryTransport()
    // The in-memory transport, answering replays only when the test says so.
    const slowReplay: Transport = {
      start: (sink) => memory.start(sink),
      publish: (message) => memory.publish(message),
      replay: (...args) => {
        const result = memory.replay(...args)
        return new Promise<ReplayResult>((resolve) => {
          release = () => resolve(result)
        })
      },
      cursor: () => memory.cursor(),
      close: () => memory.close(),
    }
    const maxBufferedBytes = 16 * KiB
    const { broker, url } = await serveBroker(cleanups, {
      transport: slowReplay,
      maxBufferedBytes,
    })
    const from = await broker.publish('t', 'before')
    const missed = await broker.publish('t', { data: dataOf('cpu', -1, 100) }, { key: 'cpu' })
    const client = await openStream(url, { lastEventId: from })
    await waitFor(() => broker.subscribers('t') === 1)
    // About 300 KB for a 16 KiB bound: only conflation keeps this client.
    for (let i = 0; i < 1000; i++) {
      const key = ['cpu', 'memory', 'disk'][i % 3]!
      broker.publish('t', { data: dataOf(key, i, 300) }, { key })
      expect(broker.stats().bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes)
    }
    expect(broker.stats()).toMatchObject({ conflated: 997, slowDisconnects: 0 })
    release()
    await client.take(4)
    expect(client.events.map((event) => event.id)).toEqual([
      missed,
      expect.any(String),
      expect.any(String),
      expect.any(String),
    ])
    expect(newestOf(client.events.slice(1))).toEqual(
      new Map([
        ['disk', 998],
        ['memory', 997],
        ['cpu', 999],
      ]),
    )
    expect(broker.stats()).toMatchObject({ replayed: 1, delivered: 3, slowDisconnects: 0 })
  })
})

test('the transport contract catches a transport that drops the key: it neither hands it on nor compacts', async () => {
  class KeyBlind extends MemoryTransport {
    override publish({ key: _, ...message }: OutgoingMessage): string {
      return super.publish(message)
    }
  }
  const checks = transportContract({
    create: () => new KeyBlind(),
    resumesFromPublisherIds: true,
  }).filter((check) => /conflation key|compacted/.test(check.name))
  expect(checks).toHaveLength(3)
  for (const check of checks) await expect(check.run()).rejects.toThrow()
})

describe('KeyedSlots', () => {
  test('against a model: every pending key has one frame, replaced frames leave no bytes, order is kept, compaction keeps it all', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const slots = new KeyedSlots()
    let queue: Buffer[] = []
    let written: string[] = []
    let serial = 0
    for (let step = 0; step < 20_000; step++) {
      const op = random(100)
      if (op < 3) {
        // The stream writes what it holds: sometimes a new array, sometimes the same one emptied.
        written = queue.filter((frame) => frame.length > 0).map(String)
        if (random(2) === 0) queue = []
        else queue.length = 0
        continue
      }
      if (queue.length === 0) slots.clear()
      const frame = Buffer.from(`${++serial}`)
      if (op < 10) {
        queue.push(frame)
        continue
      }
      const token = `t\u0000k${random(op < 50 ? 4 : 400)}`
      const at = slots.find(token, queue)
      if (at !== -1) {
        expect(queue[at]!.length).toBeGreaterThan(0)
        expect(slots.empty(queue, at)).toBeGreaterThan(0)
        expect(queue[at]).toBe(EMPTY_FRAME)
      }
      slots.set(token, frame, queue.push(frame) - 1)
      if (at !== -1) slots.compact(queue)
      expect(queue[slots.find(token, queue)]).toBe(frame)
      const order = queue.filter((f) => f.length > 0).map(Number)
      expect(order).toEqual([...order].sort((a, b) => a - b))
    }
    expect(written.length).toBeGreaterThan(0)
    // Compaction keeps the queue short: empties never outnumber frames by much.
    const empty = queue.filter((frame) => frame.length === 0).length
    expect(empty).toBeLessThanOrEqual(Math.max(32, queue.length / 2))
  })
})
