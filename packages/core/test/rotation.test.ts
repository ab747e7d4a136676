import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type BrokerOptions,
  type BrokerStreamOptions,
  createBroker,
  SSEError,
  type SSEStream,
} from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { errorOf, useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const cleanups = useCleanups()
afterEach(closeStreams)

/** The code of the SSEError `fn` throws (anything else fails the test), or `undefined`. */
const codeOf = (fn: () => unknown) => errorOf(fn, SSEError)?.code

interface Rotated {
  stream: SSEStream
  duration: number
}

/** Collects `sse:rotate` messages of `broker` while a test runs. */
function recordRotations(broker: object): Rotated[] {
  const rotated: Rotated[] = []
  const listener = (message: unknown) => {
    const { broker: from, stream, duration } = message as Rotated & { broker: object }
    if (from === broker) rotated.push({ stream, duration })
  }
  subscribe('sse:rotate', listener)
  cleanups.push(() => unsubscribe('sse:rotate', listener))
  return rotated
}

describe('maxDuration ends streams so that clients reconnect', () => {
  test('a stream ends after the lifetime drawn for it, gracefully, counted in stats().rotated and on sse:rotate', async () => {
    const { broker, url } = await serveBroker(cleanups, {
      maxDuration: 300,
      maxDurationJitter: 100,
    })
    const rotated = recordRotations(broker)
    const client = await openStream(url)
    const opened = Date.now()
    await waitFor(() => broker.subscribers('t') === 1)
    await broker.publish('t', 'queued before the end')
    expect(await client.ended()).toBe('ended')
    const lived = Date.now() - opened
    expect(client.events.map((event) => event.data)).toEqual(['queued before the end'])
    expect(rotated).toHaveLength(1)
    const { duration } = rotated[0]!
    expect(duration).toBeGreaterThanOrEqual(200)
    expect(duration).toBeLessThanOrEqual(400)
    // Never before its time (the client saw the head after the server wrote it).
    expect(lived).toBeGreaterThanOrEqual(duration - 5)
    expect(broker.stats()).toMatchObject({ rotated: 1, streams: 0, topics: 0 })
  })

  test('an npm EventSource client resumes across rotations while events are published: none lost, none twice', async () => {
    const authorized: string[] = []
    const { broker, url } = await serveBroker(cleanups, {
      maxDuration: 150,
      maxDurationJitter: 50,
      retry: 5,
      authorize: (req) => {
        authorized.push(String(req.headers['last-event-id'] ?? 'none'))
        return true
      },
    })
    const source = new EventSource(url)
    cleanups.push(() => source.close())
    const received: string[] = []
    source.addEventListener('t', (event) => received.push(event.data))
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    const total = 400
    for (let i = 0; i < total; i++) {
      broker.publish('t', String(i))
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await waitFor(() => received.length >= total, `all ${total} events`, { timeoutMs: 20_000 })
    expect(received).toEqual(Array.from({ length: total }, (_, i) => String(i)))
    const { rotated } = broker.stats()
    expect(rotated).toBeGreaterThanOrEqual(3)
    // Every reconnect went through authorize again, carrying the id it resumed from (the last
    // rotation's reconnect may still be on its way: rotations go on after the last event).
    await waitFor(
      () => authorized.length >= rotated + 1,
      'every rotation’s reconnect to be authorized',
    )
    expect(authorized[0]).toBe('none')
    expect(authorized.slice(1).every((id) => id !== 'none')).toBe(true)
  })

  test('authorize runs again at rotation: a credential that expired meanwhile gets 403 and the EventSource stops', async () => {
    let expired = false
    const { broker, url } = await serveBroker(cleanups, {
      maxDuration: 200,
      maxDurationJitter: 0,
      retry: 5,
      authorize: () => (expired ? { status: 403, message: 'Session expired.' } : true),
    })
    const source = new EventSource(url)
    cleanups.push(() => source.close())
    await new Promise((resolve) => source.addEventListener('open', resolve, { once: true }))
    expired = true
    await waitFor(() => source.readyState === EventSource.CLOSED, 'the EventSource to give up')
    expect(broker.stats()).toMatchObject({ rotated: 1, refused: 1, streams: 0 })
  })

  test('a stream option overrides the broker: its own maxDuration, or 0 for none', async () => {
    const rotatedOf = new Map<string, number>()
    const { broker, url } = await serveBroker(
      cleanups,
      { maxDuration: 60_000, maxDurationJitter: 5000 },
      (broker, req, res) => {
        const own = new URL(req.url ?? '/', 'http://x').searchParams.get('max')
        const options: BrokerStreamOptions = { topics: ['t'] }
        if (own !== null) options.maxDuration = Number(own)
        broker.stream(req, res, options)
      },
    )
    const rotated = recordRotations(broker)
    const short = await openStream(url, '/?max=100')
    const never = await openStream(url, '/?max=0')
    await short.ended()
    for (const { stream, duration } of rotated) rotatedOf.set(stream.request.url ?? '', duration)
    // Its own jitter defaults to a tenth of its own maxDuration, not to the broker's 5 s.
    expect(rotatedOf.get('/?max=100')).toBeGreaterThanOrEqual(90)
    expect(rotatedOf.get('/?max=100')).toBeLessThanOrEqual(110)
    expect(never.state).toBe('open')
    expect(broker.stats()).toMatchObject({ rotated: 1, streams: 1 })
  })

  test('1,000 streams that open together end spread across the jitter window, not together', async () => {
    const count = 1000
    const { broker, url } = await serveBroker(
      cleanups,
      { maxDuration: 2000, maxDurationJitter: 1000 },
      (broker, req, res) => broker.stream(req, res, { topics: ['t'] }),
    )
    const rotated = recordRotations(broker)
    // When the server opened each stream (its lifetime starts then), by request path.
    const openedAt = new Map<string, number>()
    const onOpen = (message: unknown) => {
      const { broker: from, stream } = message as { broker: object; stream: SSEStream }
      if (from === broker) openedAt.set(stream.request.url!, Date.now())
    }
    subscribe('sse:open', onOpen)
    cleanups.push(() => unsubscribe('sse:open', onOpen))
    const clients: Array<{ path: string; ended: Promise<number> }> = []
    for (let batch = 0; batch < count; batch += 100) {
      const opening = Array.from({ length: 100 }, async (_, k) => {
        const path = `/?i=${batch + k}`
        // Lifetimes reach 3 s, plus what a loaded machine adds: more than the default 5 s wait.
        const stream = await openStream(url, path, { record: false, timeout: 20_000 })
        expect(stream.status).toBe(200)
        // When the client saw the end of the response, taken as it happens.
        return { path, ended: stream.ended().then(() => Date.now()) }
      })
      clients.push(...(await Promise.all(opening)))
    }
    const ends = await Promise.all(clients.map((client) => client.ended))
    expect(broker.stats()).toMatchObject({ rotated: count, streams: 0 })

    // What the server drew: uniform over [1000, 3000] ms.
    const drawn = new Map(rotated.map(({ stream, duration }) => [stream.request.url!, duration]))
    const durations = [...drawn.values()]
    expect(durations).toHaveLength(count)
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(1000)
    expect(Math.max(...durations)).toBeLessThanOrEqual(3000)
    expect(Math.min(...durations)).toBeLessThan(1100)
    expect(Math.max(...durations)).toBeGreaterThan(2900)
    const quarters = histogram(durations, 1000, 3000, 4)
    for (const share of quarters) expect(share).toBeGreaterThan(150) // 250 expected each
    const buckets = histogram(durations, 1000, 3000, 20)
    expect(Math.max(...buckets)).toBeLessThan(100) // 50 expected in each 100 ms
    console.log(`lifetimes drawn, per 500 ms of the window: ${quarters.join(', ')}`)

    // When the clients saw their stream end (the moment each reconnects), from when the server
    // opened it: never before its drawn lifetime, in the same order, with the same spread, whatever
    // the machine's load adds on top.
    const planned = clients.map((client) => drawn.get(client.path)!)
    const lived = clients.map((client, i) => ends[i]! - openedAt.get(client.path)!)
    const early = lived.flatMap((ms, i) => (ms < planned[i]! ? [`${ms} < ${planned[i]}`] : []))
    expect(early).toEqual([])
    const livedQuarters = histogram(lived, 1000, 3000, 4)
    console.log(`lifetimes seen by the clients, per 500 ms: ${livedQuarters.join(', ')}`)
    for (const share of livedQuarters) expect(share).toBeGreaterThan(100)
    expect(rankCorrelation(planned, lived)).toBeGreaterThan(0.8)
  }, 60_000)
})

describe('maxDuration and maxDurationJitter are checked', () => {
  test.each([
    [{ maxDuration: -1 }, 'option "maxDuration" must be >= 0, got -1'],
    [{ maxDuration: 1.5 }, 'option "maxDuration" must be of type integer, got 1.5'],
    [{ maxDuration: 2 ** 31 }, 'option "maxDuration" must be <= 2147483647, got 2147483648'],
    [{ maxDuration: '1h' }, 'option "maxDuration" must be of type integer, got "1h"'],
    [{ maxDurationJitter: -5 }, 'option "maxDurationJitter" must be >= 0, got -5'],
    [
      { maxDuration: 1000, maxDurationJitter: 1000 },
      'option "maxDurationJitter" must be less than "maxDuration" (1000), got 1000',
    ],
  ])('createBroker(%o) throws INVALID_OPTION: %s', (options, message) => {
    const error = errorOf(() => createBroker(options as BrokerOptions), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toBe(`@sse/core: ${message}`)
  })

  test('a jitter without maxDuration is ignored; 0 jitter is kept', async () => {
    expect(codeOf(() => createBroker({ maxDurationJitter: 500 }).close())).toBeUndefined()
    const { broker, url } = await serveBroker(cleanups, { maxDuration: 100, maxDurationJitter: 0 })
    const rotated = recordRotations(broker)
    const client = await openStream(url)
    await client.ended()
    expect(rotated.map(({ duration }) => duration)).toEqual([100])
  })

  test.each([
    [{ maxDuration: -1 }, 'option "maxDuration" must be >= 0'],
    [{ maxDuration: 100, maxDurationJitter: 100 }, 'option "maxDurationJitter" must be less than'],
    [
      { maxDurationJitter: 7000 },
      'option "maxDurationJitter" must be less than "maxDuration" (5000)',
    ],
  ])('stream options %o answer 500 and reach onError as INVALID_OPTION', async (own, message) => {
    const errors: SSEError[] = []
    const { broker, url } = await serveBroker(
      cleanups,
      { maxDuration: 5000, onError: (error) => errors.push(error) },
      (broker, req, res) => broker.stream(req, res, { topics: ['t'], ...own }),
    )
    const client = await openStream(url)
    await client.ended()
    expect(client.status).toBe(500)
    expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
    expect(errors[0]!.message).toContain(`@sse/core: ${message}`)
    expect(broker.stats()).toMatchObject({ streams: 0, refused: 1 })
  })

  test('a group takes rotation defaults, checked like the broker’s', async () => {
    const broker = createBroker({ keepAlive: 0 })
    cleanups.push(() => broker.close())
    expect(codeOf(() => broker.group({ maxDuration: 10, maxDurationJitter: 10 }))).toBe(
      'INVALID_OPTION',
    )
    const group = broker.group({ maxDuration: 100 })
    const { url } = await serveBroker(cleanups, {}, (_, req, res) =>
      group.stream(req, res, { topics: ['t'] }),
    )
    const client = await openStream(url)
    await client.ended()
    expect(broker.stats().rotated).toBe(1)
  })
})

/** Counts of `values` in `parts` equal slices of [from, to]; values outside count in the edge slices. */
function histogram(values: readonly number[], from: number, to: number, parts: number): number[] {
  const counts = new Array<number>(parts).fill(0)
  const width = (to - from) / parts
  for (const value of values) {
    const part = Math.min(parts - 1, Math.max(0, Math.floor((value - from) / width)))
    counts[part]!++
  }
  return counts
}

/** Spearman's rank correlation of two equally long lists (ties broken by position). */
function rankCorrelation(a: readonly number[], b: readonly number[]): number {
  const ranks = (values: readonly number[]) => {
    const order = values.map((value, i) => [value, i] as const).sort((x, y) => x[0] - y[0])
    const rank = new Array<number>(values.length)
    order.forEach(([, i], r) => {
      rank[i] = r
    })
    return rank
  }
  const ra = ranks(a)
  const rb = ranks(b)
  const n = a.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += (ra[i]! - rb[i]!) ** 2
  return 1 - (6 * sum) / (n * (n * n - 1))
}
