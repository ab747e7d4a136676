import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net'
import type { RedisTransportOptions } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { type Cleanups, useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'
import { hasRedis, startInstance, uniquePrefix, useRedis } from '../helpers.js'

afterEach(closeStreams)

/** A TCP proxy in front of Redis that counts the bytes Redis sends back through it. */
async function countingProxy(cleanups: Cleanups, port: number) {
  const sockets = new Set<Socket>()
  const counter = { bytes: 0 }
  const server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    upstream.on('data', (chunk: Buffer) => {
      counter.bytes += chunk.length
    })
    upstream.pipe(client)
    client.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`, counter }
}

describe.runIf(hasRedis)('read traffic per instance', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** Bytes Redis sent to an instance whose one client wants 1 topic of 10, while 1,000 events go to all 10. */
  async function bytesRead(layout: RedisTransportOptions) {
    const keyPrefix = uniquePrefix()
    const publisher = await startInstance(cleanups, { url: redis.url, keyPrefix, ...layout })
    const proxy = await countingProxy(cleanups, Number(new URL(redis.url).port))
    const reader = await startInstance(cleanups, { url: proxy.url, keyPrefix, ...layout })
    const client = await openStream(`${reader.url}/events?topics=topic-0`)
    const start = proxy.counter.bytes
    const data = 'x'.repeat(512)
    for (let i = 0; i < 1000; i++) await publisher.broker.publish(`topic-${i % 10}`, data)
    await client.take(100)
    const bytes = proxy.counter.bytes - start
    const delivered = reader.transport.stats().delivered
    await client.close()
    return { bytes, delivered }
  }

  test('an instance whose clients want one topic in ten reads about a tenth of what is published in the partitioned layout, all of it in the single stream', async () => {
    const single = await bytesRead({})
    const partitioned = await bytesRead({ partitions: 3 })
    console.log(
      `read traffic, 1,000 × 512 B events on 10 topics, one wanted: single stream ${(single.bytes / 1024).toFixed(0)} KiB (${single.delivered} entries), partitioned ${(partitioned.bytes / 1024).toFixed(0)} KiB (${partitioned.delivered} entries), ${(partitioned.bytes / single.bytes).toFixed(3)}×`,
    )
    expect(single.delivered).toBeGreaterThanOrEqual(990)
    expect(partitioned.delivered).toBe(100)
    expect(partitioned.bytes).toBeLessThan(single.bytes * 0.2)
  })
})
