import { closeStreams, openStream } from '@sse/testing'
import { afterEach, describe, expect, test } from 'vitest'
import { authorizeVerdicts as verdicts } from './authorizeVerdicts.js'
import { httpRequests, openSocket } from './rawSocket.js'
import { recordUnhandledRejections } from './recordUnhandledRejections.js'
import { type Cleanups, useCleanups } from './useCleanups.js'
import { waitFor } from './waitFor.js'

// The options every adapter refuses or accepts: asserted by each adapter, whose messages differ.
export { invalidAdapterOptions, largestAdapterOptions } from './adapterOptionCases.js'

/** What the suite reads of an `onError` report (an `SSEError`). */
export interface ReportedError {
  name: string
  code: string
  cause?: unknown
}

/** What the suite reads of the adapter's broker. */
export interface BrokerUnderTest {
  publish(topic: string, data: string): Promise<unknown>
  subscribers(topic: string): number
  stats(): { streams: number; topics: number; refused: number }
}

/** The options each test starts the adapter with: the adapter passes them on as they are. */
export interface AdapterTestOptions {
  /** No heartbeat comments: the tests compare whole bodies. */
  keepAlive: 0
  /** Collects the reports for the test to assert on. */
  onError(error: ReportedError): void
  /** Called with the adapter's usual arguments, which the suite's hooks ignore. */
  authorize?: () => unknown
  maxConnections?: number
  maxTopicsPerStream?: number
}

/** A running app with the adapter, as {@link AdapterUnderTest.start} returns it. */
export interface AppUnderTest {
  /** `http://127.0.0.1:<port>` */
  origin: string
  broker: BrokerUnderTest
  /** Every stream the `/events` route opened, in order. */
  streams: readonly { close(): void }[]
  /** How many requests reached the `/events` route. */
  handled(): number
}

/** How {@link describeAdapterConformance} runs one adapter. */
export interface AdapterUnderTest {
  /**
   * Starts a real app with the adapter set up with `options`, listening on 127.0.0.1 (port 0) and
   * closed by `cleanups` after the test. Its `/events` route, for GET and HEAD, opens a stream on
   * the query's comma-separated `topics` (`['t']` when absent) and, when the query has a `name`,
   * sends it back as the `x-name` response header, as a careless app would.
   */
  start(options: AdapterTestOptions, cleanups: Cleanups): Promise<AppUnderTest>
  /**
   * How the server hands the adapter pipelined requests: `'queued'` (Node's own, the default), each
   * once the response in front of it has ended; `'concurrent'` (a Fetch handler on a server that
   * dispatches them all at once), each a stream of its own, counted and released like any other.
   */
  pipelining?: 'queued' | 'concurrent'
}

type Hook = (verdict: () => unknown) => () => unknown

const admit = (): boolean => true
const admitLater = async (): Promise<boolean> => true

/** `count` copies of one HTTP/1.1 request to `/events`, to be sent back to back on one connection. */
const requests = (count: number, method = 'GET') => httpRequests(count, method, '/events')

/**
 * Registers, in a `describe(name)`, the behaviour every HTTP adapter owes its users whatever a
 * client sends: `authorize` verdicts sync and async, header values taken from the query,
 * pipelined and HEAD requests, topic limits, and never an unhandled rejection. Each adapter's tests
 * call it once per framework version they support.
 *
 * @example
 * describeAdapterConformance('@sse/fastify', { start: async (options, cleanups) => { … } })
 */
export function describeAdapterConformance(name: string, adapter: AdapterUnderTest): void {
  describe(name, () => {
    const cleanups = useCleanups()
    afterEach(closeStreams)

    /** Rejections nobody handled while this suite runs: a hostile request must never cause one. */
    const unhandled = recordUnhandledRejections()

    async function setup(options: Partial<AdapterTestOptions> = {}) {
      const errors: ReportedError[] = []
      const app = await adapter.start(
        { keepAlive: 0, onError: (error) => errors.push(error), ...options },
        cleanups,
      )
      const connect = (path = '/events', method = 'GET') =>
        openStream(`${app.origin}${path}`, { method })
      return { ...app, errors, connect }
    }

    /** A raw TCP client that sends `payload` in one write and keeps everything it receives. */
    const pipeline = (origin: string, payload: string) => openSocket(cleanups, origin, payload)

    // The async hook comes first: an async `null` verdict used to crash the process.
    describe.each([
      ['an async authorize hook', ((verdict) => async () => verdict()) as Hook],
      ['a sync authorize hook', ((verdict) => () => verdict()) as Hook],
    ])('%s', (_, hook) => {
      test.each(verdicts.map((c) => [c.name, c.status, c] as const))(
        '%s: the client gets %i in plain text and no stream stays counted',
        async (_name, status, { verdict, body, code }) => {
          const { broker, errors, connect } = await setup({ authorize: hook(verdict) })
          const client = await connect()
          await client.ended()
          expect(client.status).toBe(status)
          expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
          expect(client.text()).toBe(body)
          expect(errors.map((error) => error.code)).toEqual(code === undefined ? [] : [code])
          await waitFor(() => broker.stats().streams === 0)
          expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
          expect(unhandled).toEqual([])
        },
      )

      test('answering true admits the stream, and it receives events', async () => {
        const { broker, connect } = await setup({ authorize: hook(() => true) })
        const client = await connect()
        expect(client.status).toBe(200)
        expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
        await waitFor(() => broker.subscribers('t') === 1)
        await broker.publish('t', 'in')
        await client.take(1)
        expect(broker.stats().streams).toBe(1)
      })

      test('after a run of refusals of every kind, the server still admits a stream', async () => {
        let next = 0
        const { broker, errors, connect } = await setup({
          authorize: hook(() => (next < verdicts.length ? verdicts[next++]!.verdict() : true)),
        })
        const statuses: number[] = []
        for (let i = 0; i < verdicts.length; i++) {
          const client = await connect()
          await client.ended()
          statuses.push(client.status)
        }
        expect(statuses).toEqual(verdicts.map(({ status }) => status))
        expect(errors.map((error) => error.code)).toEqual(
          verdicts.flatMap(({ code }) => (code === undefined ? [] : [code])),
        )
        expect(broker.stats()).toMatchObject({ streams: 0, refused: verdicts.length })
        const admitted = await connect()
        expect(admitted.status).toBe(200)
        await waitFor(() => broker.subscribers('t') === 1)
        expect(unhandled).toEqual([])
      })
    })

    test('an authorize hook that rejects answers 500 and reports AUTHORIZE_FAILED with the cause', async () => {
      const cause = new Error('token store down')
      const { broker, errors, connect } = await setup({ authorize: () => Promise.reject(cause) })
      const client = await connect()
      await client.ended()
      expect(client.status).toBe(500)
      expect(client.text()).toBe('Authorization failed.')
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ name: 'SSEError', code: 'AUTHORIZE_FAILED', cause })
      expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
      expect(unhandled).toEqual([])
    })

    describe('a response header the stream head cannot carry', () => {
      test.each([
        ['without an authorize hook', undefined],
        ['with a sync authorize hook', admit],
        ['with an async authorize hook', admitLater],
      ] as const)(
        'a non-Latin-1 header value from the query, %s, answers 500, reports INVALID_OPTION and counts nothing',
        async (_, authorize) => {
          const { broker, errors, connect } = await setup(
            authorize === undefined ? {} : { authorize },
          )
          const client = await connect(`/events?name=${encodeURIComponent('✓ done')}`)
          await client.ended()
          expect(client.status).toBe(500)
          expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
          expect(client.text()).toBe('The event stream could not be opened.')
          expect(errors.map((error) => error.code)).toEqual(['INVALID_OPTION'])
          await waitFor(() => broker.stats().streams === 0)
          expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
          expect(broker.subscribers('t')).toBe(0)
          expect(unhandled).toEqual([])
        },
      )

      test('after a non-Latin-1 value, the next request with a harmless one gets its stream and the header', async () => {
        const { connect } = await setup({ authorize: admitLater })
        const bad = await connect(`/events?name=${encodeURIComponent('✓')}`)
        await bad.ended()
        const good = await connect('/events?name=done')
        expect(good.status).toBe(200)
        expect(good.headers['x-name']).toBe('done')
      })
    })

    describe('pipelined requests', () => {
      const concurrent = adapter.pipelining === 'concurrent'

      test.runIf(!concurrent)(
        '20 pipelined GETs hold one stream; when the client leaves, nothing stays counted or subscribed',
        async () => {
          const { broker, origin, handled } = await setup()
          const client = pipeline(origin, requests(20))
          await waitFor(() => handled() === 20 && client.statuses().length === 1)
          expect(client.statuses()).toEqual(['HTTP/1.1 200'])
          expect(broker.stats().streams).toBe(1)
          expect(broker.subscribers('t')).toBe(1)

          client.destroy()
          await waitFor(() => broker.stats().streams === 0)
          expect(broker.subscribers('t')).toBe(0)
          expect(broker.stats().topics).toBe(0)
        },
      )

      test.runIf(!concurrent)(
        '60 pipelined GETs on a connection that stays open take one slot of maxConnections: 50, and new clients get 200',
        async () => {
          const { broker, origin, handled, connect } = await setup({ maxConnections: 50 })
          const hog = pipeline(origin, requests(60))
          await waitFor(() => handled() === 60 && hog.statuses().length === 1)
          expect(broker.stats().streams).toBe(1)

          const clients = await Promise.all(Array.from({ length: 5 }, () => connect()))
          expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
          expect(broker.stats().streams).toBe(6)
          expect(broker.subscribers('t')).toBe(6)

          hog.destroy()
          await waitFor(() => broker.stats().streams === 5)
          expect(broker.subscribers('t')).toBe(5)
        },
      )

      test.runIf(concurrent)(
        '60 pipelined GETs take at most maxConnections: 50 slots; when the client leaves, every one is released and new clients get 200',
        async () => {
          const { broker, origin, handled, connect } = await setup({ maxConnections: 50 })
          const hog = pipeline(origin, requests(60))
          await waitFor(() => handled() === 60 && hog.statuses().length === 1)
          expect(broker.stats().streams).toBe(50)
          expect(broker.stats().refused).toBe(10)

          hog.destroy()
          await waitFor(() => broker.stats().streams === 0)
          expect(broker.subscribers('t')).toBe(0)
          expect(broker.stats().topics).toBe(0)
          const clients = await Promise.all(Array.from({ length: 5 }, () => connect()))
          expect(clients.map((client) => client.status)).toEqual([200, 200, 200, 200, 200])
          expect(broker.subscribers('t')).toBe(5)
        },
      )

      test('a request queued behind a stream gets its own once the stream in front of it ends', async () => {
        const { broker, origin, streams, handled } = await setup()
        const client = pipeline(origin, requests(2))
        await waitFor(() => handled() === 2 && client.statuses().length === 1)
        expect(broker.stats().streams).toBe(concurrent ? 2 : 1)
        streams[0]!.close()
        await waitFor(() => client.statuses().length === 2 && broker.subscribers('t') === 1)
        expect(broker.stats().streams).toBe(1)
        await broker.publish('t', 'to the second')
        await waitFor(() => client.text().includes('data: to the second'))
      })
    })

    describe('HEAD requests', () => {
      test('get 200 with the SSE headers and an ended body, and hold no subscription or stream', async () => {
        const { broker, connect } = await setup()
        const client = await connect('/events', 'HEAD')
        await client.ended()
        expect(client.status).toBe(200)
        expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
        expect(client.state).toBe('ended')
        expect(client.text()).toBe('')
        expect(broker.subscribers('t')).toBe(0)
        expect(broker.stats().streams).toBe(0)
      })

      test('after an async authorize hook admits them, still hold nothing', async () => {
        const { broker, connect } = await setup({ authorize: admitLater })
        const client = await connect('/events', 'HEAD')
        await client.ended()
        expect(client.status).toBe(200)
        expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
        expect(client.state).toBe('ended')
        expect(broker.subscribers('t')).toBe(0)
        expect(broker.stats().streams).toBe(0)
      })

      test('take no maxConnections slot: with the only slot taken, a HEAD still gets 200', async () => {
        const { broker, connect } = await setup({ maxConnections: 1 })
        const open = await connect()
        expect(open.status).toBe(200)
        for (let i = 0; i < 3; i++) {
          const head = await connect('/events', 'HEAD')
          await head.ended()
          expect(head.status).toBe(200)
        }
        expect(broker.stats().streams).toBe(1)
        expect(broker.subscribers('t')).toBe(1)
      })

      test('a GET pipelined after a HEAD on the same connection gets its own 200 stream', async () => {
        const { broker, origin } = await setup()
        const client = pipeline(origin, requests(1, 'HEAD') + requests(1, 'GET'))
        await waitFor(() => client.statuses().length === 2 && broker.subscribers('t') === 1)
        expect(client.statuses()).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200'])
        expect(client.text()).toMatch(/content-type: text\/event-stream; charset=utf-8/i)
        expect(broker.stats().streams).toBe(1)
        await broker.publish('t', 'after the head')
        await waitFor(() => client.text().includes('data: after the head'))
      })
    })

    describe('topics from the request', () => {
      test('more distinct topics than maxTopicsPerStream are answered 400 before any SSE byte', async () => {
        const { broker, errors, connect } = await setup({ maxTopicsPerStream: 3 })
        const client = await connect('/events?topics=a,b,c,d')
        await client.ended()
        expect(client.status).toBe(400)
        expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
        expect(client.text()).toBe('Too many topics.')
        expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
        expect(broker.subscribers('a')).toBe(0)
        expect(errors).toEqual([])
      })

      test('repeated topics count once against maxTopicsPerStream', async () => {
        const { broker, connect } = await setup({ maxTopicsPerStream: 3 })
        const client = await connect('/events?topics=a,a,b,b,c,c,a')
        expect(client.status).toBe(200)
        await waitFor(() => broker.subscribers('c') === 1)
        expect(broker.stats().topics).toBe(3)
      })

      test('by default, 65 distinct topics are answered 400 and 64 are admitted', async () => {
        const { broker, connect } = await setup()
        const names = (count: number) => Array.from({ length: count }, (_, i) => `t${i}`).join(',')
        const refused = await connect(`/events?topics=${names(65)}`)
        await refused.ended()
        expect([refused.status, refused.text()]).toEqual([400, 'Too many topics.'])
        const admitted = await connect(`/events?topics=${names(64)}`)
        expect(admitted.status).toBe(200)
        await waitFor(() => broker.stats().topics === 64)
      })

      test.each([
        ['an empty topic', ''],
        ['a topic with a line feed', 'a\nb'],
        ['a topic with a carriage return', 'a\rb'],
        ['a topic with a NUL', 'a\0b'],
        ['a topic of 257 characters', 'x'.repeat(257)],
      ])('%s is answered 400 Invalid topic.', async (_, topic) => {
        const { broker, connect } = await setup()
        const client = await connect(`/events?topics=ok,${encodeURIComponent(topic)}`)
        await client.ended()
        expect(client.status).toBe(400)
        expect(client.headers['content-type']).toBe('text/plain; charset=utf-8')
        expect(client.text()).toBe('Invalid topic.')
        expect(broker.stats()).toMatchObject({ streams: 0, topics: 0, refused: 1 })
        expect(broker.subscribers('ok')).toBe(0)
      })
    })
  })
}
