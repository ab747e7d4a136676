import type { ServerResponse } from 'node:http'
import { type Broker, createBroker } from '@sse/core'
import {
  fastReaderMatrix,
  httpRequests,
  listen,
  openSocket,
  publishPaced,
  recordUnhandledRejections,
  sequencedData,
  useCleanups,
  useFastReader,
  waitFor,
} from '@sse/testkit'
import { describe, expect, test } from 'vitest'

const cleanups = useCleanups()
const unhandled = recordUnhandledRejections()

/** A broker with every option at its default, streaming topic `t` to each request on node:http. */
async function serveDefaults(): Promise<{ broker: Broker; url: string }> {
  const broker = createBroker()
  const server = await listen((req, res) => broker.stream(req, res, { topics: ['t'] }))
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  return { broker, url: server.url }
}

fastReaderMatrix('core', cleanups, serveDefaults)

test('200 × 64 KiB published four per turn reach a reader in another process whole, while 20 paused clients stay bounded', async () => {
  const { broker, url } = await serveDefaults()
  const paused = Array.from({ length: 20 }, () =>
    openSocket(cleanups, url, httpRequests(1), { read: false }),
  )
  const reader = useFastReader(cleanups, url)
  expect(await reader.head).toBe(200)
  await waitFor(
    () => broker.stats().streams === 21,
    'the reader and the paused clients to subscribe',
  )
  const eventBytes = 64 * 1024
  // 512 KiB, the default; a frame is its data plus a few header bytes.
  const bound = 20 * (512 * 1024 + eventBytes + 64)
  let mostBuffered = 0
  const publishing = await publishPaced(
    (data) => {
      const published = broker.publish('t', data)
      mostBuffered = Math.max(mostBuffered, broker.stats().bufferedBytes)
      return published
    },
    { count: 200, eventBytes, megabytesPerSecond: Number.POSITIVE_INFINITY, perTurn: 4 },
  )
  const report = await reader.report
  console.log(
    `core 200 × 64 KiB four per turn: reader ${report.events} events, ${(report.bytes / 1e6).toFixed(1)} MB, ${report.ending}; most buffered ${(mostBuffered / 1e6).toFixed(1)} MB; ${paused.length} paused, ${broker.stats().slowDisconnects} cut`,
  )
  expect({
    ending: report.ending,
    events: report.events,
    inOrder: report.inOrder,
  }).toEqual({ ending: 'end-event', events: 200, inOrder: true })
  expect(report.bytes).toBeGreaterThan(200 * eventBytes)
  expect(publishing.errors).toEqual([])
  expect(mostBuffered).toBeLessThanOrEqual(bound)
  expect(broker.stats().bufferedBytes).toBeLessThanOrEqual(bound)
})

describe('the reader harness itself', () => {
  /** A server that writes `body` as an event stream, then does what `after` says. */
  async function serve(body: string, after: (res: ServerResponse) => void) {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(body, () => setTimeout(() => after(res), 20))
    })
    cleanups.push(() => server.close())
    return server.url
  }

  test('a reader whose connection is cut mid-stream reports it cut, with what it got', async () => {
    const body = [0, 1, 2].map((i) => `id: ${i}\ndata: ${sequencedData(i, 100)}\n\n`).join('')
    const url = await serve(body, (res) => res.socket?.destroy())
    const report = await useFastReader(cleanups, url).report
    expect(report).toMatchObject({ ending: 'cut', events: 3, inOrder: true, lastSequence: 2 })
    expect(report.bytes).toBe(Buffer.byteLength(body))
  })

  test('a gap in the sequence is reported where it is, and a clean end without the end event is not complete', async () => {
    const body = [0, 1, 3, 4].map((i) => `data: ${sequencedData(i, 50)}\n\n`).join('')
    const url = await serve(`: a comment\n\n${body}data: no blank line after me\n`, (res) =>
      res.end(),
    )
    const report = await useFastReader(cleanups, url).report
    expect(report).toMatchObject({
      ending: 'server-ended',
      events: 4,
      inOrder: false,
      firstGap: { expected: 2, got: 3 },
    })
    expect(report.announced).toBeUndefined()
  })

  test('data split at every byte across writes still parses, and the end event announces the count', async () => {
    const body = `${[0, 1].map((i) => `data: ${sequencedData(i, 30)}\n\n`).join('')}data: end 2\n\n`
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
      let at = 0
      const next = () => {
        if (at >= body.length || res.destroyed) return
        res.write(body[at++])
        setTimeout(next, 1)
      }
      next()
    })
    cleanups.push(() => server.close())
    const report = await useFastReader(cleanups, server.url).report
    expect(report).toMatchObject({ ending: 'end-event', events: 2, inOrder: true, announced: 2 })
  })

  test('a server that never answers: the reader gives up by itself at its timeout', async () => {
    const server = await listen(() => {})
    cleanups.push(() => server.close())
    const reader = useFastReader(cleanups, server.url, { timeoutMs: 300 })
    expect(await reader.report).toMatchObject({ ending: 'timeout', status: 0, events: 0 })
  })

  test('nothing listening: the reader reports the request failed', async () => {
    const server = await listen(() => {})
    const { url } = server
    await server.close()
    expect(await useFastReader(cleanups, url).report).toMatchObject({
      ending: 'request-failed',
      status: 0,
    })
  })

  test('kill() ends a reader still reading, and its report then rejects', async () => {
    const { broker, url } = await serveDefaults()
    const reader = useFastReader(cleanups, url)
    await reader.head
    reader.kill()
    await expect(reader.report).rejects.toThrow('the fast reader exited (SIGKILL) without a report')
    await waitFor(() => broker.stats().streams === 0, 'the server to see the reader gone')
    expect(() => process.kill(reader.pid, 0)).toThrow()
    reader.kill()
  })

  test('publishes that throw or reject are collected, none left unhandled, and publishing still ends', async () => {
    let calls = 0
    const result = await publishPaced(
      (data) => {
        calls++
        if (data.startsWith('1 ')) throw new Error('thrown')
        return Promise.reject(new Error(`rejected ${calls}`))
      },
      { count: 3, eventBytes: 32, megabytesPerSecond: 1 },
    )
    expect(calls).toBe(4)
    expect(result.published).toBe(3)
    expect(result.errors.map((error) => (error as Error).message).sort()).toEqual([
      'rejected 1',
      'rejected 3',
      'rejected 4',
      'thrown',
    ])
  })

  test('a publisher that can never finish stops at maxMs, busy spells included', async () => {
    const result = await publishPaced(() => {}, {
      count: 1_000_000,
      eventBytes: 1024,
      megabytesPerSecond: 0.1,
      busy: true,
      maxMs: 300,
    })
    expect(result.stoppedEarly).toBe(true)
    expect(result.published).toBeLessThan(1_000_000)
    expect(result.busyMs).toBeGreaterThan(0)
  })
})

test('nothing above left a rejection unhandled', () => {
  expect(unhandled).toEqual([])
})
