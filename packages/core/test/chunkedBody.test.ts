import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { SSEStream } from '@sse/core'
import { listen, openSocket, useCleanups, waitFor } from '@sse/testkit'
import { expect, test } from 'vitest'
import { serveBroker } from './helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const cleanups = useCleanups()

/** Buffer memory after full collections. */
function buffersAfterGc(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().arrayBuffers
}

test('an HTTP/1.0 client, which gets no chunked encoding, receives the frames as they are and sees the stream end with the connection', async () => {
  const { broker, url } = await serveBroker(cleanups)
  const client = openSocket(cleanups, url, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n')
  await waitFor(() => broker.subscribers('t') === 1)
  const id = await broker.publish('t', 'plain bytes')
  const frame = `id: ${id}\nevent: t\ndata: plain bytes\n\n`
  await waitFor(() => client.text().endsWith(frame))
  expect(client.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
  expect(client.text()).not.toMatch(/transfer-encoding/i)
  expect(client.text().slice(client.text().indexOf('\r\n\r\n') + 4)).toBe(frame)
  await broker.close()
  await client.closed()
})

test('what a flush pass framed for the sockets is let go when the pass ends: a 4 MiB frame sent to four streams leaves no copy behind', async () => {
  const streams: SSEStream[] = []
  const server = await listen((req, res) => {
    streams.push(new SSEStream(req, res, { keepAlive: 0 }))
  })
  cleanups.push(() => server.close())
  const clients = Array.from({ length: 4 }, () =>
    openSocket(cleanups, server.url, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  )
  await waitFor(() => clients.every((client) => client.text().includes('\r\n\r\n')))
  const size = 4 * 1024 * 1024
  const before = buffersAfterGc()
  // In a function of its own, so that no suspended frame of this test holds the frame.
  const sendToAll = () => {
    const frame = Buffer.alloc(size, 'x')
    for (const stream of streams) stream.sendFrame(frame)
  }
  sendToAll()
  await waitFor(
    () => clients.every((client) => client.text().length > size),
    'every client to read the frame',
  )
  await new Promise((resolve) => setImmediate(resolve))
  expect(buffersAfterGc() - before).toBeLessThan(1024 * 1024)
  expect(streams.every((stream) => stream.isOpen && stream.bufferedBytes === 0)).toBe(true)
})
