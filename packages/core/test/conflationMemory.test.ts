import { createBroker, type SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { heldAfterGc, listenH2, useCleanups } from '@sse/testkit'
import { afterEach, expect, test } from 'vitest'

const KiB = 1024
/** Room for what the test itself, V8 and Node allocate around the measured workload. */
const SLACK = 512 * KiB

const cleanups = useCleanups()
afterEach(closeStreams)
const tick = () => new Promise((resolve) => setImmediate(resolve))

test('200,000 updates of 20 keys to a client that stopped reading hold no more than maxBufferedBytes: replaced frames and their slots are let go', async () => {
  const maxBufferedBytes = 64 * KiB
  const broker = createBroker({ keepAlive: 0, historySize: 0, maxBufferedBytes })
  const streams: SSEStream[] = []
  const server = await listenH2((req, res) => {
    streams.push(broker.stream(req, res, { topics: ['t'] }))
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  // Over HTTP/2, a client that stops reading pushes back after one flow-control window; it keeps
  // nothing (record: false), so what grows is the server's.
  const reader = await openStream(server.server, '/t', { record: false })
  reader.pause()
  // Behind: the flow-control window and Node's buffer are full, and keyed frames start replacing.
  for (let i = 0; broker.stats().conflated === 0; i++) {
    if (i === 1000) throw new Error('the stream never fell behind')
    broker.publish('t', { data: `filler ${i} ${'.'.repeat(1000)}` }, { key: 'filler' })
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const baseline = heldAfterGc()
  for (let round = 0; round < 10_000; round++) {
    for (let k = 0; k < 20; k++) {
      broker.publish('t', { data: `k${k} = ${round} ${'.'.repeat(80)}` }, { key: `k${k}` })
    }
    if (round % 10 === 9) await tick()
  }
  await tick()
  const growth = heldAfterGc() - baseline
  const stats = broker.stats()
  expect(streams[0]!.isClosed).toBe(false)
  expect(stats.conflated).toBeGreaterThan(199_000)
  expect(stats.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes)
  expect(growth).toBeLessThan(maxBufferedBytes + SLACK)
  console.info(
    `conflation memory: ${stats.conflated} frames replaced, ${(stats.bufferedBytes / KiB).toFixed(1)} KiB buffered, ${(growth / KiB).toFixed(0)} KiB heap growth`,
  )
})
