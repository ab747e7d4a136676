import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Broker, type BrokerOptions, createBroker, MemoryTransport, SSEError } from '@sse/core'
import type {
  Delivery,
  OutgoingMessage,
  ReplayResult,
  Transport,
  TransportSink,
} from '@sse/core/kit'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import { errorOf, listen, useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)
// Hooks run in reverse: mocks and real timers are back before the cleanups run.
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

/** A broker behind a real server: GET /?topics=a,b opens a stream on those topics. */
async function setup(options: BrokerOptions = {}) {
  const { broker, server, url } = await serveBroker(cleanups, options, (broker, req, res) => {
    const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics')
    broker.stream(req, res, { topics: topics ? topics.split(',') : [] })
  })
  const connect = (topics: string, headers: Record<string, string> = {}, query = '') =>
    openStream(`${url}/?topics=${topics}${query}`, { headers })
  return { broker, url, server: server.server, connect }
}

/** The code of the SSEError `fn` throws (anything else fails the test), or `undefined`. */
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code

describe('publishing', () => {
  test('every subscriber of a topic gets the exact bytes of each event, in order', async () => {
    const { broker, connect } = await setup()
    const clients = await Promise.all(Array.from({ length: 100 }, () => connect('news')))
    const other = await connect('sports')
    const ids: string[] = []
    for (let i = 0; i < 20; i++)
      ids.push(await broker.publish('news', { data: `<p>${i}</p>\nline 2` }))
    await Promise.all(clients.map((c) => c.waitFor((x) => x.events.length === 20)))
    const expected = ids
      .map((id, i) => `id: ${id}\nevent: news\ndata: <p>${i}</p>\ndata: line 2\n\n`)
      .join('')
    for (const client of clients) expect(client.text()).toBe(expected)
    expect(other.text()).toBe('')
  })

  test('a publish is serialized once, whatever the number of subscribers', async () => {
    const { broker, connect } = await setup()
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect('json')))
    const stringify = vi.spyOn(JSON, 'stringify')
    await broker.publish('json', { data: { score: [1, 2] } })
    expect(stringify).toHaveBeenCalledTimes(1)
    stringify.mockRestore()
    await Promise.all(clients.map((c) => c.waitFor((x) => x.events[0]?.data === '{"score":[1,2]}')))
  })

  test('ids increase across topics and the publish promise resolves to the id', async () => {
    const { broker } = await setup()
    const ids = [
      await broker.publish('a', 'x'),
      await broker.publish('b', 'y'),
      await broker.publish('a', 'z'),
    ]
    const seqs = ids.map((id) => Number(id.split('-')[1]))
    expect(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!).toBe(true)
    expect(new Set(ids.map((id) => id.split('-')[0])).size).toBe(1)
  })

  test('an id supplied by the caller is used as is', async () => {
    const { broker, connect } = await setup()
    const client = await connect('t')
    expect(await broker.publish('t', { id: 'order-42', data: 'x' })).toBe('order-42')
    await client.take(1)
    expect(client.events[0]).toEqual({ id: 'order-42', event: 't', data: 'x' })
  })

  test('unnamed events: per broker and per publish', async () => {
    const named = await setup()
    const unnamed = await setup({ defaultEventName: 'none' })
    const a = await named.connect('t')
    const b = await unnamed.connect('t')
    await named.broker.publish('t', 'default')
    await named.broker.publish('t', 'override', { defaultEventName: 'none' })
    await named.broker.publish('t', { event: 'explicit', data: 'own name wins' })
    await unnamed.broker.publish('t', 'plain')
    await unnamed.broker.publish('t', 'named', { defaultEventName: 'topic' })
    await a.take(3)
    await b.take(2)
    expect(a.events.map((e) => e.event)).toEqual(['t', undefined, 'explicit'])
    expect(b.events.map((e) => e.event)).toEqual([undefined, 't'])
  })

  test('one stream carries several topics; a multi-topic publish arrives once', async () => {
    const { broker, connect } = await setup()
    const both = await connect('a,b')
    const onlyB = await connect('b')
    await broker.publish('a', 'to a')
    await broker.publish('b', 'to b')
    await broker.publish(['a', 'b'], 'to both')
    await both.take(3)
    await onlyB.take(2)
    expect(both.events.map((e) => `${e.event}:${e.data}`)).toEqual([
      'a:to a',
      'b:to b',
      'a:to both',
    ])
    expect(onlyB.events.map((e) => `${e.event}:${e.data}`)).toEqual(['b:to b', 'b:to both'])
  })

  test('publishing to a topic without subscribers is cheap and returns an id', async () => {
    const { broker } = await setup({ historySize: 0 })
    for (let i = 0; i < 10_000; i++) broker.publish('nobody', 'x')
    expect(broker.stats().published).toBe(10_000)
    expect(broker.stats().delivered).toBe(0)
  })

  test('an event that cannot be serialized throws to the publisher and reaches nobody', async () => {
    const { broker, connect } = await setup()
    const client = await connect('t')
    expect(codeOf(() => broker.publish('t', { id: 'a\nb', data: 'x' }))).toBe('INVALID_EVENT_ID')
    expect(codeOf(() => broker.publish('t', { event: 'x\ry', data: 'x' }))).toBe(
      'INVALID_EVENT_NAME',
    )
    expect(codeOf(() => broker.publish('bad\ntopic', 'x'))).toBe('INVALID_TOPIC')
    expect(codeOf(() => broker.publish('', 'x'))).toBe('INVALID_TOPIC')
    expect(codeOf(() => broker.publish([], 'x'))).toBe('INVALID_TOPIC')
    await broker.publish('t', 'fine')
    await client.take(1)
    expect(client.events.map((e) => e.data)).toEqual(['fine'])
    expect(broker.stats().published).toBe(1)
  })

  test('invalid broker options throw a coded error naming the key', () => {
    expect(() => createBroker({ historySize: -1 })).toThrow(
      '@sse/core: option "historySize" must be >= 0, got -1',
    )
    expect(() => createBroker({ defaultEventName: 'topics' as 'topic' })).toThrow(
      '@sse/core: option "defaultEventName" must be one of "topic", "none", got "topics"',
    )
    expect(() => createBroker({ authorize: 'yes' as never })).toThrow(
      '@sse/core: option "authorize" must be a function, got "yes"',
    )
    expect(codeOf(() => createBroker({ histroySize: 5 } as never))).toBe('INVALID_OPTION')
    expect(() => createBroker({ transport: new MemoryTransport(), historySize: 5 })).toThrow(
      '@sse/core: option "historySize" configures the in-memory transport; with "transport", give history options to the transport',
    )
  })
})

describe('replay after reconnect', () => {
  test('an EventSource that is cut off repeatedly misses nothing and gets nothing twice while publishing continues', async () => {
    const { broker, url } = await setup({ retry: 1 })
    const server = await listen((req, res) =>
      broker.stream(req, res, { topics: ['feed', 'side'], retry: 1 }),
    )
    cleanups.push(() => server.close())
    const source = new EventSource(server.url)
    cleanups.push(() => source.close())
    const received: string[] = []
    let opens = 0
    source.addEventListener('feed', (e) => received.push((e as MessageEvent).data))
    source.addEventListener('side', (e) => received.push((e as MessageEvent).data))
    source.addEventListener('open', () => opens++)
    await new Promise((r) => source.addEventListener('open', r, { once: true }))
    const total = 600
    for (let i = 0; i < total; i++) {
      broker.publish(i % 3 === 0 ? 'side' : 'feed', String(i))
      // Every 100 events the server cuts every stream; the client comes back with Last-Event-ID.
      if (i % 100 === 50) server.server.closeAllConnections()
      await new Promise((r) => setImmediate(r))
    }
    await waitFor(() => received.length >= total)
    expect(received).toEqual(Array.from({ length: total }, (_, i) => String(i)))
    expect(opens).toBeGreaterThan(1)
    expect(broker.stats().replayed).toBeGreaterThan(0)
    expect(url).toBeTruthy()
  })

  test('the lastEventId query parameter replays too (a fresh EventSource cannot send the header)', async () => {
    const { broker, connect } = await setup()
    const first = await broker.publish('t', 'one')
    await broker.publish('other', 'not mine')
    const second = await broker.publish('t', 'two')
    const third = await broker.publish('t', 'three')
    const client = await connect('t', {}, `&lastEventId=${encodeURIComponent(first)}`)
    await broker.publish('t', 'four')
    await client.take(3)
    expect(client.events.map((e) => [e.id, e.data])).toEqual([
      [second, 'two'],
      [third, 'three'],
      [expect.any(String), 'four'],
    ])
  })

  test('replay merges several topics in id order', async () => {
    const { broker, connect } = await setup()
    const start = await broker.publish('a', 'a0')
    const order = ['b', 'a', 'c', 'b', 'a']
    for (const [i, topic] of order.entries()) await broker.publish(topic, `${topic}${i + 1}`)
    const client = await connect('a,b', { 'last-event-id': start })
    await client.take(4)
    expect(client.events.map((e) => e.data)).toEqual(['b1', 'a2', 'b4', 'a5'])
  })

  test('live events published while an asynchronous replay is written are queued: no gap, no duplicate', async () => {
    // A real transport whose replay answers only after more events were published.
    class SlowReplay implements Transport {
      readonly inner = new MemoryTransport()
      release: () => void = () => {}
      start(sink: TransportSink) {
        this.inner.start(sink)
      }
      publish(message: OutgoingMessage) {
        return this.inner.publish(message)
      }
      replay(topics: readonly string[], lastEventId: string): Promise<ReplayResult> {
        return new Promise((resolve) => {
          this.release = () => resolve(this.inner.replay(topics, lastEventId))
        })
      }
      cursor() {
        return this.inner.cursor()
      }
      close() {}
    }
    const transport = new SlowReplay()
    const { broker, connect } = await setup({ transport })
    const start = await broker.publish('t', '0')
    await broker.publish('t', '1')
    const client = await connect('t', { 'last-event-id': start })
    await waitFor(() => broker.subscribers('t') === 1)
    await broker.publish('t', '2')
    await broker.publish('t', '3')
    transport.release() // the replay now contains 1, 2 and 3; live 2 and 3 were queued meanwhile
    await broker.publish('t', '4')
    await client.waitFor((c) => c.events.length >= 4)
    await broker.publish('t', '5')
    await client.waitFor((c) => c.events.length >= 5)
    expect(client.events.map((e) => e.data)).toEqual(['1', '2', '3', '4', '5'])
  })

  test("on an instance that delivers later, live events up to the client's own last id are not sent twice", async () => {
    // A transport that, like a second instance reading a shared log, has not delivered the
    // client's last event yet when the client arrives, and answers the replay once it has.
    const log: OutgoingMessage[] = []
    class Lagging implements Transport {
      readonly inner = new MemoryTransport()
      sink: TransportSink | undefined
      start(sink: TransportSink) {
        this.sink = sink
        this.inner.start({ deliver: () => {}, error: () => {} })
      }
      publish(message: OutgoingMessage) {
        log.push(message)
        return this.inner.publish(message)
      }
      /** Delivers the n-th published event to the broker, as a lagging reader finally would. */
      deliver(n: number) {
        const id = `${this.ids[n]}`
        const message = log[n]!
        this.sink!.deliver({
          id,
          topics: message.topics,
          frames: [Buffer.from(`id: ${id}\n${message.bodies[0]}`)],
        })
      }
      ids: string[] = []
      release: () => void = () => {}
      replay(topics: readonly string[], lastEventId: string): Promise<ReplayResult> {
        return new Promise((resolve) => {
          this.release = () => resolve(this.inner.replay(topics, lastEventId))
        })
      }
      cursor() {
        return this.inner.cursor()
      }
      close() {}
    }
    const transport = new Lagging()
    const { broker, connect } = await setup({ transport })
    for (let i = 0; i < 3; i++) transport.ids.push(await broker.publish('t', String(i)))
    // The client saw events 0 and 1 elsewhere; here nothing was delivered yet.
    const client = await connect('t', { 'last-event-id': transport.ids[1]! })
    await waitFor(() => broker.subscribers('t') === 1)
    transport.deliver(0)
    transport.deliver(1)
    transport.deliver(2)
    transport.release() // replays event 2, which was also queued live
    await client.waitFor((c) => c.events.length >= 1)
    transport.ids.push(await broker.publish('t', '3'))
    transport.deliver(3)
    await client.waitFor((c) => c.events.length >= 2)
    expect(client.events.map((e) => e.data)).toEqual(['2', '3'])
  })

  test('an id older than the history gets an explicit reset event that moves the client past the gap', async () => {
    const { broker, connect } = await setup({ historySize: 3 })
    const old = await broker.publish('t', 'evicted soon')
    let head = ''
    for (let i = 0; i < 5; i++) head = await broker.publish('t', `n${i}`)
    const client = await connect('t', { 'last-event-id': old })
    await client.take(1)
    expect(client.events[0]).toEqual({ id: head, event: 'sse-reset', data: '' })
    // The reset carried the newest id: reconnecting with it replays nothing and resets nothing.
    const again = await connect('t', { 'last-event-id': head })
    await broker.publish('t', 'live')
    await again.take(1)
    expect(again.events.map((e) => e.data)).toEqual(['live'])
  })

  test('an unknown or garbage id gets the reset event, with a configurable name', async () => {
    const { broker, connect } = await setup({ resetEvent: 'refetch' })
    await broker.publish('t', 'x')
    for (const id of ['garbage', '0-1', 'zzzz-99999999999999999999', '-']) {
      const client = await connect('t', { 'last-event-id': id })
      await client.take(1)
      expect(client.events[0]?.event).toBe('refetch')
    }
  })

  test('history can be bounded by age', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { broker, connect } = await setup({ historyMaxAge: 60_000 })
    const first = await broker.publish('t', 'old')
    await broker.publish('t', 'kept?')
    vi.setSystemTime(Date.now() + 30_000)
    const second = await broker.publish('t', 'recent')
    const fresh = await connect('t', { 'last-event-id': second })
    vi.setSystemTime(Date.now() + 45_000)
    const late = await connect('t', { 'last-event-id': first })
    await late.take(1)
    expect(late.events[0]?.event).toBe('sse-reset')
    await broker.publish('t', 'after')
    await fresh.take(1)
    expect(fresh.events.map((e) => e.data)).toEqual(['after'])
  })
})

describe('authorization and limits', () => {
  test('a refusal answers 403 before any SSE byte and subscribes nothing', async () => {
    const seen: Array<readonly string[]> = []
    const { broker, connect } = await setup({
      authorize: (req, topics) => {
        seen.push(topics)
        return req.headers.authorization === 'Bearer ok'
      },
    })
    const refused = await connect('secret')
    await refused.ended()
    expect(refused.status).toBe(403)
    expect(refused.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(broker.stats().topics).toBe(0)
    const admitted = await connect('secret', { authorization: 'Bearer ok' })
    expect(admitted.status).toBe(200)
    expect(seen).toEqual([['secret'], ['secret']])
    expect(broker.stats().refused).toBe(1)
  })

  test('an async hook may refuse with its own status, and one that throws answers 500', async () => {
    const errors: SSEError[] = []
    const { connect } = await setup({
      onError: (error) => errors.push(error),
      authorize: async (_req, topics) => {
        await new Promise((r) => setImmediate(r))
        if (topics.includes('boom')) throw new Error('db down')
        return topics.includes('ok') ? true : { status: 401, message: 'Log in first.' }
      },
    })
    const unauthorized = await connect('private')
    await unauthorized.ended()
    expect([unauthorized.status, unauthorized.text()]).toEqual([401, 'Log in first.'])
    const failing = await connect('boom')
    await failing.ended()
    expect(failing.status).toBe(500)
    expect(errors.map((e) => e.code)).toEqual(['AUTHORIZE_FAILED'])
    const ok = await connect('ok')
    expect(ok.status).toBe(200)
  })

  test('past maxConnections new streams get 503 with Retry-After, and a slot frees when one leaves', async () => {
    const { broker, connect } = await setup({ maxConnections: 3 })
    const open = await Promise.all([connect('t'), connect('t'), connect('t')])
    const fourth = await connect('t')
    await fourth.ended()
    expect(fourth.status).toBe(503)
    expect(fourth.headers['retry-after']).toBe('5')
    expect(fourth.headers['content-type']).toBe('text/plain; charset=utf-8')
    open[0]!.close()
    await waitFor(() => broker.stats().streams === 2)
    const fifth = await connect('t')
    expect(fifth.status).toBe(200)
  })
})

describe('slow clients', () => {
  async function stallOne(policy: 'disconnect' | 'drop') {
    const { broker, url } = await setup({ maxBufferedBytes: 256 * 1024, onOverflow: policy })
    const healthy: TestStream[] = []
    for (let i = 0; i < 100; i++)
      healthy.push(await openStream(`${url}/?topics=t`, { record: false, timeout: 30_000 }))
    const stalled = await openStream(`${url}/?topics=t`)
    cleanups.push(() =>
      [...healthy, stalled].forEach((c) => {
        c.close()
      }),
    )
    stalled.pause()
    // 10,000 events of 1 KB: more than the kernel's socket buffers hold, so our bound is what's tested.
    const payload = 'z'.repeat(1000)
    const total = 10_000
    for (let i = 0; i < total; i++) {
      broker.publish('t', { data: `${i} ${payload}` })
      if (i % 100 === 99) await new Promise((r) => setImmediate(r))
    }
    await Promise.all(healthy.map((c) => c.waitFor((x) => x.received === total)))
    for (const client of healthy) {
      expect(client.text().endsWith(`data: ${total - 1} ${payload}\n\n`)).toBe(true)
    }
    return { broker, stalled }
  }

  test('a paused client is disconnected past its bound while 100 others receive everything', async () => {
    const { broker, stalled } = await stallOne('disconnect')
    expect(broker.stats().slowDisconnects).toBe(1)
    expect(broker.stats().streams).toBe(100)
    // Once it reads again it finds its stream cut: it would reconnect with Last-Event-ID.
    stalled.resume()
    await stalled.ended()
  })

  test('under the drop policy the paused client stays and its dropped frames are counted', async () => {
    const { broker } = await stallOne('drop')
    expect(broker.stats().dropped).toBeGreaterThan(0)
    expect(broker.stats().slowDisconnects).toBe(0)
    expect(broker.stats().streams).toBe(101)
  })
})

describe('closing the broker', () => {
  test('close() ends 1,000 open streams with a final event and the server then closes promptly', async () => {
    const broker = createBroker({ keepAlive: 0 })
    const server = await listen((req, res) => broker.stream(req, res, { topics: ['t'] }))
    const clients: TestStream[] = []
    for (let i = 0; i < 10; i++) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () => openStream(server.url, { timeout: 30_000 })),
        )),
      )
    }
    expect(broker.stats().streams).toBe(1000)
    await broker.close({ event: { event: 'bye', data: 'restarting' } })
    expect(broker.stats().streams).toBe(0)
    await Promise.all(clients.map((c) => c.ended()))
    expect(clients.every((c) => c.events.at(-1)?.event === 'bye')).toBe(true)
    // Nothing holds the server open: server.close() alone resolves, without closeAllConnections().
    await new Promise<void>((resolve) => server.server.close(() => resolve()))
  })

  test('publishing after close throws BROKER_CLOSED; new streams get 503', async () => {
    const { broker, connect } = await setup()
    await broker.close()
    expect(codeOf(() => broker.publish('t', 'late'))).toBe('BROKER_CLOSED')
    const client = await connect('t')
    await client.ended()
    expect(client.status).toBe(503)
    expect(broker.isClosed).toBe(true)
    await broker.close()
  })

  test('a group ends only its own streams and leaves the broker open', async () => {
    const broker = createBroker({ keepAlive: 0 })
    const group = broker.group()
    const { url, close } = await listen((req, res) =>
      req.url === '/group'
        ? group.stream(req, res, { topics: ['t'] })
        : broker.stream(req, res, { topics: ['t'] }),
    )
    cleanups.push(close, () => broker.close())
    const inGroup = await openStream(`${url}/group`)
    const outside = await openStream(`${url}/`)
    expect(group.size).toBe(1)
    group.close()
    await inGroup.ended()
    expect(group.size).toBe(0)
    await broker.publish('t', 'still here')
    await outside.take(1)
    const late = await openStream(`${url}/group`)
    await late.ended()
    expect([late.status, late.headers['retry-after'], group.isClosed]).toEqual([503, '5', true])
  })

  test('a stream waiting for its verdict when its group closes gets 503 and Connection: close', async () => {
    let arrived!: () => void
    const waiting = new Promise<void>((resolve) => (arrived = resolve))
    const broker = createBroker({
      keepAlive: 0,
      // A verdict that never comes: the stream is still pending when the group closes.
      authorize: () => {
        arrived()
        return new Promise<boolean>(() => {})
      },
    })
    const group = broker.group()
    const { url, close } = await listen((req, res) => group.stream(req, res, { topics: ['t'] }))
    cleanups.push(close, () => broker.close())
    const pending = openStream(`${url}/`)
    await waiting
    group.close()
    const refused = await pending
    await refused.ended()
    expect([refused.status, refused.headers.connection, refused.headers['retry-after']]).toEqual([
      503,
      'close',
      '5',
    ])
  })
})

describe('visibility', () => {
  test('stats() counts streams, topics, published, delivered and replayed', async () => {
    const { broker, connect } = await setup()
    const a = await connect('x,y')
    await connect('y')
    const id = await broker.publish('y', '1')
    await broker.publish('x', '2')
    await a.take(2)
    await connect('y', { 'last-event-id': id })
    expect(broker.stats()).toEqual({
      streams: 3,
      topics: 2,
      published: 2,
      publishFailures: 0,
      delivered: 3,
      dropped: 0,
      slowDisconnects: 0,
      conflated: 0,
      replayed: 0,
      resets: 0,
      snapshots: 0,
      replaysCapped: 0,
      replaysCut: 0,
      refused: 0,
      revoked: 0,
      rotated: 0,
      disconnectFailures: 0,
      bufferedBytes: 0,
      history: { topics: 2, events: 2, bytes: expect.any(Number) },
    })
  })

  test('the same events go out on node:diagnostics_channel', async () => {
    const messages: Array<[string, unknown]> = []
    const names = ['sse:open', 'sse:publish', 'sse:close', 'sse:refuse', 'sse:replay']
    const listeners = names.map((name) => {
      const listener = (message: unknown) => messages.push([name, message])
      subscribe(name, listener)
      return () => unsubscribe(name, listener)
    })
    cleanups.push(() =>
      listeners.forEach((off) => {
        off()
      }),
    )
    const { broker, connect } = await setup({ maxConnections: 1 })
    const client = await connect('t')
    const id = await broker.publish('t', 'x')
    const refused = await connect('t')
    await refused.ended()
    client.close()
    await waitFor(() => messages.some(([name]) => name === 'sse:close'))
    expect(messages.map(([name]) => name)).toEqual([
      'sse:open',
      'sse:publish',
      'sse:refuse',
      'sse:close',
    ])
    expect(messages[1]![1]).toMatchObject({ broker, id, topics: ['t'] })
  })

  test('a transport failure after accepting an event rejects the publish and reaches onError', async () => {
    const errors: SSEError[] = []
    const failing: Transport = {
      start() {},
      publish: () => Promise.reject(new Error('connection reset')),
      replay: (): ReplayResult => ({ reset: true, headId: '' }),
      cursor: () => undefined,
      close() {},
    }
    const broker: Broker = createBroker({ transport: failing, onError: (e) => errors.push(e) })
    const result = broker.publish('t', 'x')
    await expect(result).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' })
    expect(errors.map((e) => e.code)).toEqual(['TRANSPORT_ERROR'])
    await broker.close()
  })

  test('a transport that knows it cannot deliver makes the publish reject, not throw, and onError hears it once per outage', async () => {
    let up = false
    const errors: SSEError[] = []
    const flaky: Transport = {
      start() {},
      publish: (): string => {
        if (!up) throw new SSEError('TRANSPORT_UNAVAILABLE', 'down')
        return '1'
      },
      replay: (): ReplayResult => ({ reset: false, deliveries: [] as Delivery[] }),
      cursor: () => undefined,
      close() {},
    }
    const broker = createBroker({ transport: flaky, onError: (error) => errors.push(error) })
    const first = broker.publish('t', 'x')
    broker.publish('t', 'ignored, and safe to ignore')
    await expect(first).rejects.toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' })
    expect(errors.map((error) => error.code)).toEqual(['TRANSPORT_UNAVAILABLE'])
    up = true
    await expect(broker.publish('t', 'x')).resolves.toBe('1')
    up = false
    await expect(broker.publish('t', 'x')).rejects.toBeInstanceOf(SSEError)
    expect(errors).toHaveLength(2)
    expect(broker.stats()).toMatchObject({ published: 1, publishFailures: 3 })
    await broker.close()
  })
})

describe('batching', () => {
  test("a tick's events for one subscriber go out in one write", async () => {
    const writes: number[] = []
    const { broker, url } = await serveBroker(cleanups, {}, (broker, req, res) => {
      const write = res.write.bind(res) as (chunk: Buffer) => boolean
      res.write = ((chunk: Buffer) => {
        writes.push(chunk.length)
        return write(chunk)
      }) as typeof res.write
      broker.stream(req, res, { topics: ['a', 'b'] })
    })
    const client = await openStream(url)
    for (let i = 0; i < 50; i++) broker.publish(i % 2 ? 'a' : 'b', `event ${i}`)
    await client.take(50)
    expect(writes).toHaveLength(1)
    expect(client.events.map((e) => e.data)).toEqual(
      Array.from({ length: 50 }, (_, i) => `event ${i}`),
    )
  })

  test('subscribers holding the same frames in a tick get one shared chunk; the others their own', async () => {
    const chunks = new Map<string, Buffer[]>()
    const { broker, server } = await serveBroker(cleanups, {}, (broker, req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const name = url.searchParams.get('name')!
      const written: Buffer[] = []
      chunks.set(name, written)
      const write = res.write.bind(res) as (chunk: Buffer) => boolean
      res.write = ((chunk: Buffer) => {
        written.push(chunk)
        return write(chunk)
      }) as typeof res.write
      broker.stream(req, res, { topics: url.searchParams.get('topics')!.split(',') })
    })
    const open = (name: string, topics: string) =>
      openStream(`${server.url}/?name=${name}&topics=${topics}`)
    const a = await open('a', 'x')
    const b = await open('b', 'x,y')
    const c = await open('c', 'x')
    const d = await open('d', 'y')
    broker.publish('x', 'one')
    broker.publish('y', 'two')
    broker.publish('x', 'three')
    for (const client of [a, b, c])
      await client.waitFor((cl) => cl.events.some((e) => e.data === 'three'))
    await d.take(1)
    expect(a.events.map((e) => e.data)).toEqual(['one', 'three'])
    expect(c.events.map((e) => e.data)).toEqual(['one', 'three'])
    expect(b.events.map((e) => e.data)).toEqual(['one', 'two', 'three'])
    expect(d.events.map((e) => e.data)).toEqual(['two'])
    const [ca, cb, cc] = ['a', 'b', 'c'].map((name) => chunks.get(name)!.at(-1)!)
    expect(ca).toBe(cc)
    expect(cb).not.toBe(ca)
    expect(cb!.toString()).toContain('data: two')
    expect(ca!.toString()).not.toContain('data: two')
  })
})
