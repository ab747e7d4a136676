import { request } from 'node:http'
import { connect, constants } from 'node:http2'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createBroker } from '@sse/core'
import { listen, listenH2, waitFor } from '@sse/testkit'
import { expect, test } from 'vitest'
import { keepAlive } from '../src/stream/keepAlive.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

test('after 100,000 connect/disconnect cycles no stream, topic, timer or listener remains and the heap returns near baseline', async () => {
  const broker = createBroker({ keepAlive: 30_000 })
  const server = await listenH2((req, res) => {
    const user = new URL(req.url, 'http://x').searchParams.get('u')
    broker.stream(req, res, { topics: ['cycle', `user:${user}`] })
  })
  // Node's HTTP/2 rapid-reset protection allows about 1,000 client resets per session: rotate.
  let session = connect(server.url)
  let resets = 0
  const cycle = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': `/?u=${i % 1000}` })
      stream.on('response', () => stream.close(constants.NGHTTP2_CANCEL))
      stream.on('close', resolve)
      stream.on('error', reject)
    })
  async function run(from: number, to: number) {
    for (let i = from; i < to; i += 100) {
      resets += 100
      if (resets > 900) {
        session.close()
        session = connect(server.url)
        resets = 100
      }
      await Promise.all(Array.from({ length: 100 }, (_, k) => cycle(i + k)))
    }
    await waitFor(() => broker.stats().streams === 0, 'every stream to be closed', {
      intervalMs: 2,
    })
  }
  await run(0, 2000) // warm up before taking the baseline
  const baseline = heapAfterGc()
  await run(2000, 100_000)
  const stats = broker.stats()
  expect(stats.streams).toBe(0)
  expect(stats.topics).toBe(0)
  expect(broker.subscribers('cycle')).toBe(0)
  expect(keepAlive.timers()).toBe(0)
  expect(session.listenerCount('stream')).toBe(0)
  const growth = heapAfterGc() - baseline
  expect(growth).toBeLessThan(4 * 1024 * 1024)
  session.close()
  await broker.close()
  await server.close()
}, 180_000)

test('HTTP/1.1 clients that leave are unsubscribed as well', async () => {
  const broker = createBroker()
  const server = await listen((req, res) =>
    broker.stream(req, res, { topics: ['t', `c:${req.url}`] }),
  )
  for (let i = 0; i < 2000; i += 50) {
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, k) =>
          new Promise<void>((resolve) => {
            const req = request(`${server.url}/${i + k}`, { agent: false })
            req.on('response', () => req.destroy())
            req.on('close', resolve)
            req.on('error', () => {})
            req.end()
          }),
      ),
    )
  }
  await waitFor(() => broker.stats().streams === 0, 'every stream to be closed', { intervalMs: 2 })
  expect(broker.stats()).toMatchObject({ streams: 0, topics: 0 })
  expect(keepAlive.timers()).toBe(0)
  await broker.close()
  await server.close()
})
