import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  closeStreams,
  EventStreamParser,
  openStream,
  type ServerSentEvent,
  SSETestError,
} from '@sse/testing'
import { heldAfterGc, listen, recordUnhandledRejections, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'

const MiB = 1024 * 1024
const cleanups = useCleanups()
afterEach(closeStreams)
const unhandled = recordUnhandledRejections()

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = await listen(handler)
  cleanups.push(() => server.close())
  return server.url
}

const eventStreamHead = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.flushHeaders()
}

/**
 * A server that sends `data: ` and then `total` bytes of `x`, never a newline, 64 KiB a write,
 * as fast as the client takes them, until the client leaves; `sent()` says how far it got.
 */
async function endlessLine(total: number) {
  let sent = 0
  const piece = 'x'.repeat(64 * 1024)
  const url = await serve((_req, res) => {
    eventStreamHead(res)
    res.write('data: ')
    const pump = () => {
      while (sent < total && !res.destroyed) {
        sent += piece.length
        if (!res.write(piece)) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
  })
  return { url, sent: () => sent }
}

/** Opens `url` and samples what this process holds (after gc) every 8th chunk until the stream fails. */
async function heldWhileReading(
  url: string,
  options: { maxLineLength?: number; timeout?: number },
) {
  const baseline = heldAfterGc()
  const stream = await openStream(url, { record: false, timeout: 2000, ...options })
  let chunks = 0
  let most = 0
  const failure = await stream
    .waitFor(() => {
      if (chunks++ % 8 === 0) most = Math.max(most, heldAfterGc() - baseline)
      return false
    })
    .catch((error: unknown) => error)
  return { stream, failure, most }
}

describe('a server that sends "data: " and then 100 MB with no newline', () => {
  test('record: false: the stream fails with TEST_LINE_TOO_LONG at 1 MiB, holding a few MB at most', async () => {
    const server = await endlessLine(100e6)
    const { stream, failure, most } = await heldWhileReading(server.url, {})
    console.log(
      `an endless line: at most ${(most / MiB).toFixed(1)} MiB held, ${(server.sent() / 1e6).toFixed(1)} MB sent`,
    )
    expect(failure).toBeInstanceOf(SSETestError)
    expect(failure).toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    expect((failure as Error).message).toContain(
      '@sse/testing: a line of the event stream grew past 1048576 characters (option "maxLineLength")',
    )
    expect(stream.state).toBe('closed')
    await expect(stream.ended()).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    expect(most).toBeLessThan(4 * MiB)
    expect(stream.text().length).toBeLessThanOrEqual(4096)
    expect(server.sent()).toBeLessThan(50e6)
  })

  test('raising maxLineLength to 8 MiB lets the line build up to it: the bound is what caps memory', async () => {
    const server = await endlessLine(100e6)
    const { failure, most } = await heldWhileReading(server.url, {
      maxLineLength: 8 * MiB,
      timeout: 20_000,
    })
    console.log(`an endless line under an 8 MiB bound: at most ${(most / MiB).toFixed(1)} MiB held`)
    expect(failure).toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    expect((failure as Error).message).toContain('grew past 8388608 characters')
    expect(most).toBeGreaterThan(4 * MiB)
  })
})

describe('maxLineLength', () => {
  test('the default is 1 MiB: a line of exactly 1,048,576 characters is an event, one more is refused', async () => {
    const payload = 'y'.repeat(MiB - 'data: '.length)
    const url = await serve((req, res) => {
      eventStreamHead(res)
      res.end(`data: ${payload}${req.url === '/over' ? 'y' : ''}\n\ndata: after\n\n`)
    })
    const fits = await openStream(url, '/fits')
    const [event] = await fits.take(1)
    expect(event!.data === payload).toBe(true)
    expect((await fits.take(1))[0]!.data).toBe('after')
    const over = await openStream(url, '/over')
    await expect(over.take(1)).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
  })

  test('the events before an over-long line arrive; waits pending then reject, and so does every later one', async () => {
    const url = await serve((_req, res) => {
      eventStreamHead(res)
      res.write('data: first\n\n', () =>
        setTimeout(() => res.write(`data: ${'z'.repeat(200)}\n\n`), 50),
      )
    })
    const stream = await openStream(url, { maxLineLength: 100 })
    expect((await stream.take(1))[0]!.data).toBe('first')
    const taking = stream.take(1)
    const iterating = stream[Symbol.asyncIterator]().next()
    await expect(taking).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    await expect(iterating).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    await expect(taking).rejects.toThrow('grew past 100 characters')
    await expect(taking).rejects.toThrow('1 event(s) received, 1 read')
    expect(stream.state).toBe('closed')
    await expect(stream.until(() => true)).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    await expect(stream.waitFor(() => true)).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
    expect(stream.received).toBe(1)
  })

  test('with no wait pending, the failure rejects nothing unhandled, and the next wait hears it', async () => {
    const url = await serve((_req, res) => {
      eventStreamHead(res)
      res.write(`data: ${'q'.repeat(5000)}`)
    })
    const stream = await openStream(url, { maxLineLength: 1000 })
    await waitFor(() => stream.state === 'closed', 'the kit to close the stream')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(unhandled).toEqual([])
    await expect(stream.take(1)).rejects.toMatchObject({ code: 'TEST_LINE_TOO_LONG' })
  })

  test('raw: true parses no lines, so no line is too long', async () => {
    const url = await serve((_req, res) => {
      eventStreamHead(res)
      res.end(`data: ${'r'.repeat(5000)}`)
    })
    const stream = await openStream(url, { raw: true, maxLineLength: 10 })
    expect(await stream.ended()).toBe('ended')
    expect(stream.text()).toHaveLength(5006)
  })

  test.each([0, -1, 1.5, '1024', Number.POSITIVE_INFINITY])(
    'maxLineLength: %o is refused with INVALID_OPTION',
    async (maxLineLength) => {
      const opening = openStream('http://127.0.0.1:9/', { maxLineLength } as never)
      await expect(opening).rejects.toMatchObject({ code: 'INVALID_OPTION' })
      await expect(opening).rejects.toThrow('@sse/testing: option "maxLineLength" must be')
    },
  )
})

describe('EventStreamParser with maxLineLength', () => {
  function parse(pieces: string[], maxLineLength?: number) {
    const events: ServerSentEvent[] = []
    const errors: unknown[] = []
    const parser = new EventStreamParser(
      { onEvent: (event) => events.push(event) },
      '',
      maxLineLength === undefined ? {} : { maxLineLength },
    )
    for (const piece of pieces) {
      try {
        parser.feed(piece)
      } catch (error) {
        errors.push(error)
      }
    }
    return { events, errors }
  }

  test('an over-long line cut across pieces is dropped once, and the events around it parse', () => {
    const { events, errors } = parse(
      ['data: a\n\ndata: 0123', '456789abcdef', 'ghij\r', '\ndata: b\n\n'],
      12,
    )
    expect(events.map((event) => event.data)).toEqual(['a', 'b'])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ name: 'SSETestError', code: 'TEST_LINE_TOO_LONG' })
  })

  test('feed() throws after the whole piece is read: events after the long line in it are dispatched', () => {
    const { events, errors } = parse(['data: 0123456789\ndata: c\n\ndata: d\n\n'], 10)
    expect(events.map((event) => event.data)).toEqual(['c', 'd'])
    expect(errors).toHaveLength(1)
  })

  test('a line of exactly maxLineLength is kept, whole or in pieces', () => {
    expect(parse(['data: 1234\n\n'], 10).events).toEqual([
      { event: undefined, data: '1234', id: undefined },
    ])
    expect(parse(['da', 'ta: 12', '34', '\n', '\n'], 10)).toEqual({
      events: [{ event: undefined, data: '1234', id: undefined }],
      errors: [],
    })
  })

  test('without the option there is no bound, as in the spec', () => {
    const line = 'w'.repeat(3 * MiB)
    expect(parse([`data: ${line}`, '\n\n']).events[0]!.data === line).toBe(true)
    expect(parse([`data: ${line}`, '\n\n'], Number.POSITIVE_INFINITY).errors).toEqual([])
  })

  test.each([0, 2.5, Number.NaN, -3])('maxLineLength: %o is refused with INVALID_OPTION', (bad) => {
    expect(() => new EventStreamParser({ onEvent: () => {} }, '', { maxLineLength: bad })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    )
  })
})

test('nothing above left a rejection unhandled', () => {
  expect(unhandled).toEqual([])
})
