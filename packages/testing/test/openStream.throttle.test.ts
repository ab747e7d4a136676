import { SSEError } from '@sse/core'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import { errorOf, listen, listenH2, useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

const KiB = 1024
/** 256 events of about 4 KiB, numbered: 1 MiB. */
const EVENTS = 256
const body = Array.from({ length: EVENTS }, (_, i) => `data: ${i} ${'x'.repeat(4080)}\n\n`).join('')

/**
 * A server, over HTTP/1.1 or HTTP/2, whose one stream sends its head at once and `body` (then
 * ends) when the test calls `send()`.
 */
async function serve(protocol: 'HTTP/1.1' | 'HTTP/2') {
  let response: { write(chunk: string): unknown; end(): unknown } | undefined
  const head = { 'content-type': 'text/event-stream' }
  const server =
    protocol === 'HTTP/1.1'
      ? await listen((_req, res) => {
          res.writeHead(200, head).flushHeaders()
          response = res
        })
      : // An HTTP/2 response sends its head with writeHead().
        await listenH2((_req, res) => {
          res.writeHead(200, head)
          response = res
        })
  cleanups.push(() => server.close())
  const stream = await openStream(server.server, '/', { timeout: 20_000 })
  return {
    stream,
    send: () => {
      response!.write(body)
      response!.end()
    },
  }
}

/** Every event of `body`, in order, and the clean end. */
async function expectWholeBody(stream: TestStream) {
  expect(await stream.ended()).toBe('ended')
  expect(stream.text()).toBe(body)
  expect(stream.events.map((event) => Number(event.data.split(' ')[0]))).toEqual(
    Array.from({ length: EVENTS }, (_, i) => i),
  )
}

describe.each(['HTTP/1.1', 'HTTP/2'] as const)('throttle() over %s', (protocol) => {
  test('reads no faster than its pace, and on its own gets every byte, in order, and the end', async () => {
    const { stream, send } = await serve(protocol)
    const rate = 512 * KiB
    const started = performance.now()
    stream.throttle(rate)
    send()
    await expectWholeBody(stream)
    // The pace lets through at most one chunk ahead (64 KiB at most from a socket): 1 MiB less
    // that takes at least 1.875 s at 512 KiB/s, however fast the server wrote.
    expect(performance.now() - started).toBeGreaterThanOrEqual(
      ((body.length - 64 * KiB) / rate) * 1000 - 5,
    )
  })

  test('resume() ends it: a stream throttled to 1 byte a second then gets everything at once, whether it was waiting on its pace or not', async () => {
    const waiting = await serve(protocol)
    waiting.stream.throttle(1)
    waiting.send()
    await waiting.stream.waitFor((s) => s.bytes().length > 0)
    waiting.stream.resume()
    await expectWholeBody(waiting.stream)

    const early = await serve(protocol)
    early.stream.throttle(1)
    early.stream.resume()
    early.send()
    await expectWholeBody(early.stream)
  })

  test('it reads a paused stream again', async () => {
    const { stream, send } = await serve(protocol)
    stream.pause()
    stream.throttle(10_000 * KiB)
    send()
    await expectWholeBody(stream)
  })
})

describe('a careless test', () => {
  test.each([
    [0, '0'],
    [-1, '-1'],
    [0.5, '0.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['10', '"10"'],
    [undefined, 'undefined'],
    [{ rate: 10 }, '{"rate":10}'],
  ])('throttle(%o) is INVALID_OPTION, and the stream reads on as before', async (rate, shown) => {
    const { stream, send } = await serve('HTTP/1.1')
    const error = errorOf(() => stream.throttle(rate as number), SSEError)
    expect(error?.code).toBe('INVALID_OPTION')
    expect(error?.message).toBe(
      `@sse/testing: throttle() takes bytes per second, a finite number >= 1, got ${shown}`,
    )
    send()
    await expectWholeBody(stream)
  })

  test('a stream throttled to 1 byte a second, waiting on its pace, closes at once and leaves no timer behind', async () => {
    const { stream, send } = await serve('HTTP/2')
    stream.throttle(1)
    send()
    await stream.waitFor((s) => s.bytes().length > 0)
    const timers = () =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
    const waiting = timers()
    await stream.close()
    expect(stream.state).toBe('closed')
    expect(timers()).toBe(waiting - 1)
  })
})
