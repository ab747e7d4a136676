import { type BrokerOptions, REPLAY_PAGE_BYTES, type SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { heldAfterGc, httpRequests, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { afterEach, expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

const MiB = 1024 * 1024
const KiB = 1024
/** Room for what the test itself, V8 and Node allocate around the measured workload. */
const SLACK = 4 * MiB

const cleanups = useCleanups()
afterEach(closeStreams)

/** Waits up to 20 s: thousands of connections open here. */
const until = (predicate: () => boolean, what?: string) =>
  waitFor(predicate, what, { timeoutMs: 20_000 })

/** With `keepStreams`, the server's streams are kept in `streams` (held here, they would count as memory otherwise). */
async function setup(options: BrokerOptions, { keepStreams = false } = {}) {
  const streams: SSEStream[] = []
  const { broker, url } = await serveBroker(cleanups, options, (broker, req, res) => {
    const stream = broker.stream(req, res, { topics: ['t'] })
    if (keepStreams) streams.push(stream)
  })
  /** A client that sends its request and never reads a byte. */
  const silent = (headers = '') =>
    openSocket(cleanups, url, httpRequests(1, 'GET', '/', headers), { read: false })
  return { broker, url, streams, silent }
}

test('20 clients that replay 12 MB each and never read hold at most maxBufferedBytes plus one page each', async () => {
  const maxBufferedBytes = 512 * KiB
  const { broker, streams, silent } = await setup(
    { maxBufferedBytes, historySize: 3000, maxReplayEvents: 10_000, maxReplayBytes: 64 * MiB },
    { keepStreams: true },
  )
  // More than the kernel takes for a client that never reads (~4 MB on loopback here): the
  // replay must stop at the socket, not in the kernel.
  const payload = 'x'.repeat(4000)
  const first = await broker.publish('t', payload)
  for (let i = 1; i < 3000; i++) await broker.publish('t', payload)
  const baseline = heldAfterGc()
  for (let i = 0; i < 20; i++) silent(`Last-Event-ID: ${first}\r\n`)
  await until(() => broker.stats().streams === 20)
  // Each replay goes as far as the socket takes it, then waits for 'drain' that never comes.
  await until(() => broker.stats().bufferedBytes >= 20 * 1024)
  await until(
    () => streams.every((stream) => stream.bufferedBytes > 0),
    'every replay to hold a page the socket has not taken',
  )
  const growth = heldAfterGc() - baseline
  const bound = 20 * (maxBufferedBytes + REPLAY_PAGE_BYTES)
  console.log(
    `replaying clients: ${(growth / 20 / KiB).toFixed(1)} KiB held per client (bound ${(bound / 20 / KiB).toFixed(0)} KiB)`,
  )
  expect(growth).toBeLessThan(bound + SLACK)
  expect(broker.stats().bufferedBytes).toBeLessThanOrEqual(20 * REPLAY_PAGE_BYTES)
})

test('a client that stops reading during its replay is cut at the bound and resumes from where it got to', async () => {
  const { broker, url } = await setup({
    historySize: 100_000,
    maxBufferedBytes: 64 * KiB,
    maxReplayEvents: 100_000,
    maxReplayBytes: 64 * MiB,
  })
  const payload = 'y'.repeat(2000)
  const ids: string[] = []
  ids.push(await broker.publish('t', `0 ${payload}`))
  for (let i = 1; i < 2000; i++) ids.push(await broker.publish('t', `${i} ${payload}`))
  const client = await openStream(url, { headers: { 'last-event-id': ids[0]! }, timeout: 20_000 })
  client.pause()
  // Live events keep coming; held behind the unread replay, they pass the bound.
  let n = 2000
  while (broker.stats().slowDisconnects === 0 && n < 20_000) {
    ids.push(await broker.publish('t', `${n++} ${payload}`))
  }
  expect(broker.stats().slowDisconnects).toBe(1)
  expect(broker.stats().streams).toBe(0)
  client.resume()
  await client.ended()
  const got = client.events.map((event) => event.id)
  expect(got.length).toBeGreaterThan(0)
  expect(got).toEqual(ids.slice(1, 1 + got.length))
  // Reconnecting from the last event it received brings the rest: no gap, no duplicate.
  const rest = await openStream(url, {
    headers: { 'last-event-id': got[got.length - 1]! },
    record: false,
    timeout: 20_000,
  })
  const missing = ids.length - 1 - got.length
  await rest.waitFor((c) => c.received === missing)
  expect(rest.text().endsWith(`${n - 1} ${payload}\n\n`)).toBe(true)
})

test('20 live clients that never read hold at most maxBufferedBytes each, and nothing once cut', async () => {
  const maxBufferedBytes = 256 * KiB
  // No history: what stays afterwards would be the history, not the clients.
  const { broker, silent } = await setup({ maxBufferedBytes, historySize: 0 })
  const payload = 'z'.repeat(1000)
  /** Opens 20 clients that never read and publishes until every one is cut; the peak buffered. */
  async function round(): Promise<number> {
    const before = broker.stats().slowDisconnects
    for (let i = 0; i < 20; i++) silent()
    await until(() => broker.stats().streams === 20)
    let peak = 0
    for (let i = 0; i < 40_000 && broker.stats().streams > 0; i++) {
      await broker.publish('t', payload)
      peak = Math.max(peak, broker.stats().bufferedBytes)
      if (i % 100 === 0) await new Promise((r) => setImmediate(r))
    }
    expect(broker.stats().slowDisconnects - before).toBe(20)
    return peak
  }
  await round() // warm-up: compiled code and Node's pools are not what this measures
  const baseline = heldAfterGc()
  const peak = await round()
  expect(broker.stats().streams).toBe(0)
  expect(peak).toBeLessThanOrEqual(20 * maxBufferedBytes)
  const growth = heldAfterGc() - baseline
  console.log(
    `slow clients: peak ${(peak / 20 / KiB).toFixed(0)} KiB buffered per client; ${(growth / KiB).toFixed(0)} KiB held after all were cut`,
  )
  expect(growth).toBeLessThan(SLACK)
})

test('an idle connection costs a few KiB of server memory', async () => {
  const { broker, silent } = await setup({})
  for (let i = 0; i < 50; i++) silent()
  await until(() => broker.stats().streams === 50)
  const baseline = heldAfterGc()
  for (let i = 0; i < 2000; i++) silent()
  await until(() => broker.stats().streams === 2050)
  const perConnection = (heldAfterGc() - baseline) / 2000
  console.log(
    `idle connections: ${(perConnection / KiB).toFixed(2)} KiB per connection (Node's socket, parser, request and response included)`,
  )
  expect(perConnection).toBeLessThan(8 * KiB)
})
