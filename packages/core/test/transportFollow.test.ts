import { request } from 'node:http'
import { createBroker, MemoryTransport, type SSEError } from '@sse/core'
import type { OutgoingMessage, TransportSink } from '@sse/core/kit'
import { closeStreams, openStream } from '@sse/testing'
import { listen, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

/**
 * The in-memory transport, made to read only what streams want, as a partitioned Redis does: each
 * `follow` waits for the test to let it through (or fail it), and every call is recorded.
 */
class FollowingTransport extends MemoryTransport {
  readonly follows: { topics: readonly string[]; lastEventId: string | undefined }[] = []
  readonly unfollows: (readonly string[])[] = []
  #gates: { resolve: () => void; reject: (error: Error) => void }[] = []
  /** `'wait'`: follow returns a promise the test settles; `'sync'`: returns nothing; `'throw'`. */
  mode: 'wait' | 'sync' | 'throw' = 'wait'

  follow(topics: readonly string[], lastEventId: string | undefined): void | Promise<void> {
    this.follows.push({ topics, lastEventId })
    if (this.mode === 'sync') return
    if (this.mode === 'throw') throw new Error('cannot follow')
    return new Promise((resolve, reject) => this.#gates.push({ resolve, reject }))
  }

  unfollow(topics: readonly string[]): void {
    this.unfollows.push(topics)
  }

  /** Settles the oldest pending follow. */
  release(error?: Error): void {
    const gate = this.#gates.shift()
    if (gate === undefined) throw new Error('no follow is pending')
    if (error === undefined) gate.resolve()
    else gate.reject(error)
  }
}

async function serve(transport: MemoryTransport) {
  const errors: SSEError[] = []
  const broker = createBroker({ transport, keepAlive: 0, onError: (error) => errors.push(error) })
  const server = await listen((req, res) => {
    const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics') ?? 'a'
    broker.stream(req, res, { topics: topics.split(',') })
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  return { broker, server, url: server.url, errors }
}

/** A raw GET: resolves its status once the head arrives; `abort()` leaves. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  let abort!: () => void
  const head = new Promise<{ status: number; retryAfter: string | undefined }>(
    (resolve, reject) => {
      const req = request(url, { method, headers }, (res) => {
        res.resume()
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] as string | undefined,
        })
      })
      req.on('error', reject)
      req.end()
      abort = () => req.destroy()
    },
  )
  head.catch(() => {})
  return { head, abort: () => abort() }
}

describe('Transport.follow: a transport that reads only the topics streams want', () => {
  test('the head waits for follow to settle, then the stream opens, replays and gets live events', async () => {
    const transport = new FollowingTransport()
    const { broker, url } = await serve(transport)
    const before = await broker.publish('a', 'before')
    const pending = get(`${url}/?topics=a,b`, { 'last-event-id': 'nope' })
    await waitFor(() => transport.follows.length === 1)
    expect(transport.follows[0]).toEqual({ topics: ['a', 'b'], lastEventId: 'nope' })
    let opened = false
    pending.head.then(() => {
      opened = true
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(opened).toBe(false)
    expect(broker.stats().streams).toBe(1)
    transport.release()
    expect((await pending.head).status).toBe(200)
    pending.abort()
    const opening = openStream(`${url}/?topics=a`, { lastEventId: before })
    await waitFor(() => transport.follows.length === 2)
    transport.release()
    const stream = await opening
    await broker.publish('a', 'live')
    const [live] = await stream.take(1)
    expect(live?.data).toBe('live')
  })

  test('a follow that rejects, or throws, refuses the stream with 503 and Retry-After, reports it, and is still matched by one unfollow', async () => {
    const transport = new FollowingTransport()
    const { broker, url, errors } = await serve(transport)
    const rejected = get(`${url}/?topics=a`)
    await waitFor(() => transport.follows.length === 1)
    transport.release(new Error('Redis is away'))
    expect(await rejected.head).toMatchObject({ status: 503, retryAfter: expect.any(String) })
    transport.mode = 'throw'
    expect(await get(`${url}/?topics=b`).head).toMatchObject({ status: 503 })
    await waitFor(() => transport.unfollows.length === 2)
    expect(transport.unfollows).toEqual([['a'], ['b']])
    expect(errors.map((error) => error.code)).toEqual(['TRANSPORT_ERROR', 'TRANSPORT_ERROR'])
    expect(broker.stats()).toMatchObject({ streams: 0, refused: 2 })
  })

  test('every follow is matched by exactly one unfollow: streams that end, that leave while follow is pending, and HEAD requests, which never follow', async () => {
    const transport = new FollowingTransport()
    transport.mode = 'sync'
    const { broker, url } = await serve(transport)
    const streams = await Promise.all([1, 2, 3].map(() => openStream(`${url}/?topics=a,b`)))
    expect((await get(url, {}, 'HEAD').head).status).toBe(200)
    transport.mode = 'wait'
    const leaving = get(`${url}/?topics=c`)
    await waitFor(() => transport.follows.length === 4)
    leaving.abort()
    await waitFor(() => broker.stats().streams === 3)
    transport.release()
    for (const stream of streams) await stream.close()
    await waitFor(() => transport.unfollows.length === 4)
    expect(transport.follows.map((call) => call.topics)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
      ['c'],
    ])
    expect([...transport.unfollows].sort()).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['c']])
    expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  })
})

/** Delivers each multi-topic event as one copy per topic, each carrying its topic only. */
class SplittingTransport extends MemoryTransport {
  #sink: TransportSink | undefined
  #n = 0

  override start(sink: TransportSink): void {
    this.#sink = sink
  }

  override publish(message: OutgoingMessage): string {
    const id = String(++this.#n)
    const { topics, bodies } = message
    for (let copy = 0; copy < topics.length; copy++) {
      this.#sink!.deliver({
        id,
        topics,
        frames: topics.map((_, i) =>
          Buffer.from(i === copy ? `id: ${id}\n${bodies[i] ?? bodies[0]}` : ''),
        ),
        carries: topics.map((_, i) => i === copy),
      })
    }
    return id
  }
}

test('Delivery.carries: an event delivered as one copy per topic reaches each subscriber once, with the frame of the first of its topics', async () => {
  const { broker, url } = await serve(new SplittingTransport())
  const both = await openStream(`${url}/?topics=b,a`)
  const onlyB = await openStream(`${url}/?topics=b`)
  await broker.publish(['a', 'b'], 'one event')
  await broker.publish('b', 'fence')
  const events = await both.take(2)
  expect(events.map((event) => [event.event, event.data])).toEqual([
    ['a', 'one event'],
    ['b', 'fence'],
  ])
  const own = await onlyB.take(2)
  expect(own.map((event) => [event.event, event.data])).toEqual([
    ['b', 'one event'],
    ['b', 'fence'],
  ])
})
