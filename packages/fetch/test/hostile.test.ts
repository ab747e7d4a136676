import { createBroker, type SSEError } from '@sse/core'
import { createSSE, type FetchSSE, webRequestOf } from '@sse/fetch'
import { recordUnhandledRejections, waitFor } from '@sse/testkit'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterEach, describe, expect, test } from 'vitest'

// In process: a `Request` in, a `Response` out, and its body read (or not) as a runtime would.
const opened: FetchSSE[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((sse) => sse.close()))
})
function adapter(options: Parameters<typeof createSSE>[0] = {}): FetchSSE {
  const sse = createSSE({ keepAlive: 0, ...options })
  opened.push(sse)
  return sse
}
const request = (path = '/events', init: RequestInit = {}) =>
  new Request(`http://127.0.0.1${path}`, init)

/** Reads a body as a client at full speed would, parsing its events. */
function readEvents(response: Response): { events: EventSourceMessage[]; done: Promise<void> } {
  const events: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (event) => events.push(event) })
  const done = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }))
  })()
  return { events, done }
}

describe('@sse/fetch, used carelessly or against it', () => {
  const unhandled = recordUnhandledRejections()

  test.each([null, undefined, 'http://127.0.0.1/events', { url: '/events' }, 42])(
    'response(%o) throws INVALID_OPTION naming what it takes',
    (value) => {
      const sse = adapter()
      expect(() => sse.response(value as unknown as Request)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: expect.stringMatching(/^@sse\/fetch: response\(\) takes the Request first/),
        }),
      )
    },
  )

  test('options of the wrong kind throw INVALID_OPTION, and open nothing', () => {
    const sse = adapter()
    expect(() => sse.response(request(), 42 as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    )
    expect(sse.broker.stats().streams).toBe(0)
  })

  test('a client that leaves while authorize hangs gets an answer, and nothing stays counted', async () => {
    let asked: Request | undefined
    const sse = adapter({
      authorize: (req) => {
        asked = req
        return new Promise<boolean>(() => {})
      },
    })
    const leave = new AbortController()
    const response = sse.response(request('/events', { signal: leave.signal }), { topics: ['t'] })
    await waitFor(() => asked !== undefined)
    expect(asked!.url).toBe('http://127.0.0.1/events')
    leave.abort()
    expect((await response).status).toBe(499)
    await waitFor(() => sse.broker.stats().streams === 0)
    expect(sse.broker.subscribers('t')).toBe(0)
  })

  test('a body the runtime cancels, with the request signal never aborting, releases its stream', async () => {
    const sse = adapter()
    const response = await sse.response(request(), { topics: ['t'] })
    await waitFor(() => sse.broker.subscribers('t') === 1)
    await response.body!.cancel()
    await waitFor(() => sse.broker.stats().streams === 0)
    expect(sse.broker.subscribers('t')).toBe(0)
    await sse.broker.publish('t', 'after')
    expect(unhandled).toEqual([])
  })

  test('a request already aborted is answered, and holds nothing', async () => {
    const sse = adapter()
    const response = await sse.response(request('/events', { signal: AbortSignal.abort() }), {
      topics: ['t'],
    })
    expect(response.status).toBe(499)
    await waitFor(() => sse.broker.stats().streams === 0)
  })

  test('a source that throws ends the stream and reaches onError, with no unhandled rejection', async () => {
    const errors: SSEError[] = []
    const sse = adapter({ onError: (error) => errors.push(error) })
    async function* failing() {
      yield 'one'
      throw new Error('boom')
    }
    const { events, done } = readEvents(await sse.response(request(), failing()))
    await done
    expect(events.map((event) => event.data)).toEqual(['one'])
    await waitFor(() => errors.length === 1)
    expect(errors[0]).toMatchObject({ code: 'SOURCE_FAILED', cause: { message: 'boom' } })
    expect(unhandled).toEqual([])
  })

  test('a body nobody reads holds at most the bound, then the stream is cut and released', async () => {
    const maxBufferedBytes = 64 * 1024
    const sse = adapter({ maxBufferedBytes })
    const response = await sse.response(request(), { topics: ['t'] })
    expect(response.status).toBe(200)
    const frame = { data: 'x'.repeat(1000) }
    let most = 0
    for (let i = 0; i < 1000 && sse.broker.stats().slowDisconnects === 0; i++) {
      await sse.broker.publish('t', frame)
      most = Math.max(most, sse.broker.stats().bufferedBytes)
    }
    expect(sse.broker.stats().slowDisconnects).toBe(1)
    // What the body's queue holds (64 KiB) plus the bound, and one frame over it.
    expect(most).toBeLessThanOrEqual(64 * 1024 + maxBufferedBytes + 1100)
    await waitFor(() => sse.broker.stats().streams === 0)
    await expect(response.body!.getReader().read()).rejects.toThrow()
  })

  test('a reader at full speed gets 20 MB of events published 50 per turn, in order, and is never cut', async () => {
    const sse = adapter()
    const { events, done } = readEvents(await sse.response(request(), { topics: ['t'] }))
    const data = 'y'.repeat(16 * 1024)
    for (let i = 0; i < 1280; i += 50) {
      for (let j = i; j < i + 50 && j < 1280; j++) void sse.broker.publish('t', `${j} ${data}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => events.length === 1280, 'all 1280 events', { timeoutMs: 20_000 })
    expect(events.map((event) => Number.parseInt(event.data, 10))).toEqual([...Array(1280).keys()])
    expect(sse.broker.stats().slowDisconnects).toBe(0)
    await sse.close()
    await done
  })

  test('on a broker shared with Node adapters, hooks see a view of the Request, and close() leaves the broker open', async () => {
    const seen: (Request | undefined)[] = []
    const broker = createBroker({
      keepAlive: 0,
      authorize: (req) => {
        seen.push(webRequestOf(req))
        return true
      },
    })
    const sse = createSSE({ broker, retry: 500 })
    const response = await sse.response(request('/events?x=1'), { topics: ['t'] })
    expect(seen[0]?.url).toBe('http://127.0.0.1/events?x=1')
    const { events } = readEvents(response)
    await sse.close()
    expect(broker.stats().streams).toBe(0)
    await broker.publish('t', 'still open')
    expect(events).toEqual([])
    await broker.close()
  })
})
