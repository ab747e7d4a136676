import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { createBroker, type SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { listenH2, useCleanups } from '@sse/testkit'
import { afterEach, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

const KiB = 1024
const SECONDS = 30
/** One event every 20 ms, of about 1 KiB: about 50 KiB/s. */
const EVENT_MS = 20
const EVENTS = (SECONDS * 1000) / EVENT_MS
const KEYS = 20
/** The clients read at about 10 KiB/s. */
const READ_RATE = 10 * KiB
const MAX_BUFFERED = 128 * KiB

function dataOf(key: string, value: number): string {
  return JSON.stringify({ key, value, pad: '.'.repeat(960) })
}

function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1))
}

test(`a client reading ~10 KiB/s a topic published at ~50 KiB/s with ${KEYS} keys stays connected for ${SECONDS} s, within maxBufferedBytes, and then has every key's newest value; unkeyed, the same client is cut`, {
  timeout: (SECONDS + 30) * 1000,
}, async () => {
  // The default keep-alive (30 s): a client reading 10 KiB/s empties Node's buffer only every few seconds.
  const broker = createBroker({ maxBufferedBytes: MAX_BUFFERED })
  const streams = new Map<string, SSEStream>()
  const server = await listenH2((req: Http2ServerRequest, res: Http2ServerResponse) => {
    const topic = req.url.slice(1)
    streams.set(topic, broker.stream(req, res, { topics: [topic] }))
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  // Over HTTP/2, whose flow control makes a client that does not read push back on the server after
  // one window (64 KiB), where a loopback TCP socket would first soak up megabytes in kernel buffers.
  const keyed = await openStream(server.server, '/metrics', { timeout: 20_000 })
  const plain = await openStream(server.server, '/plain')
  const stream = streams.get('metrics')!
  const h2 = (stream.response as Http2ServerResponse).stream
  keyed.throttle(READ_RATE)
  plain.throttle(READ_RATE)

  // What the server holds for the keyed client, sampled: our queue plus what Node holds unsent.
  let maxBuffered = 0
  let maxNodeHeld = 0
  const sampler = setInterval(() => {
    maxBuffered = Math.max(maxBuffered, stream.bufferedBytes)
    maxNodeHeld = Math.max(maxNodeHeld, h2.writableLength)
  }, 25)
  cleanups.push(() => clearInterval(sampler))

  const newest = new Map<string, number>()
  let published = 0
  let publishedBytes = 0
  const started = performance.now()
  await new Promise<void>((resolve) => {
    // Paced by the clock, not by the timer's own count, so a late tick catches up.
    const publisher = setInterval(() => {
      const due = Math.min(EVENTS, Math.floor((performance.now() - started) / EVENT_MS) + 1)
      for (; published < due; published++) {
        const key = `k${published % KEYS}`
        const data = dataOf(key, published)
        broker.publish('metrics', { data }, { key })
        broker.publish('plain', { data })
        newest.set(key, published)
        publishedBytes += data.length
      }
      if (published === EVENTS) {
        clearInterval(publisher)
        resolve()
      }
    }, EVENT_MS)
    cleanups.push(() => clearInterval(publisher))
  })
  const publishing = (performance.now() - started) / 1000
  const readWhilePublishing = keyed.bytes().length
  const heldAtEnd = stream.bufferedBytes + h2.writableLength
  const stats = broker.stats()

  // The pressure was real: the clients read a fifth of what was published, and the unkeyed one was cut.
  expect(publishedBytes / publishing).toBeGreaterThan(45 * KiB)
  expect(readWhilePublishing / publishing).toBeLessThan(15 * KiB)
  // (Its state reads 'ended': Node's HTTP/2 client takes the RST_STREAM(NO_ERROR) of a destroyed
  // stream for an end.)
  expect(plain.state).not.toBe('open')
  expect(stats.slowDisconnects).toBe(1)
  // The keyed client was never cut: its pending frames were replaced instead.
  expect(stream.isClosed).toBe(false)
  expect(keyed.state).toBe('open')
  expect(stats.conflated).toBeGreaterThan(EVENTS / 2)
  expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED)
  expect(maxNodeHeld).toBeLessThanOrEqual(MAX_BUFFERED)
  expect(heldAtEnd).toBeLessThanOrEqual(MAX_BUFFERED)

  // Reading at full speed, it is current after at most what the server held plus HTTP/2 windows.
  const caughtUp = performance.now()
  keyed.resume()
  const current = () =>
    [...newest].every(([key, value]) =>
      keyed.events.some((event) => event.data === dataOf(key, value)),
    )
  await keyed.waitFor(current)
  const catchUpMs = performance.now() - caughtUp
  const readAfter = keyed.bytes().length - readWhilePublishing
  expect(readAfter).toBeLessThanOrEqual(heldAtEnd + 2 * 64 * KiB + 16 * KiB)
  expect(stream.isClosed).toBe(false)

  // Conflation never reorders: ids increase, and each key's values only go up.
  const ids = keyed.events.map((event) => seqOf(event.id!))
  expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true)
  const seen = new Map<string, number>()
  for (const event of keyed.events) {
    const { key, value } = JSON.parse(event.data) as { key: string; value: number }
    expect(value).toBeGreaterThan(seen.get(key) ?? -1)
    seen.set(key, value)
  }
  console.info(
    `conflation: ${published} events in ${publishing.toFixed(1)} s (${(publishedBytes / publishing / KiB).toFixed(1)} KiB/s), ` +
      `read ${(readWhilePublishing / publishing / KiB).toFixed(1)} KiB/s, ${keyed.events.length} events received, ` +
      `${stats.conflated} conflated, max held ${(maxBuffered / KiB).toFixed(1)} KiB (Node ${(maxNodeHeld / KiB).toFixed(1)} KiB) of ${MAX_BUFFERED / KiB} KiB, ` +
      `current ${catchUpMs.toFixed(0)} ms after publishing ended, ${(readAfter / KiB).toFixed(1)} KiB read meanwhile`,
  )
})
