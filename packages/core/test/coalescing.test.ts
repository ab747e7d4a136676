import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createBroker, SSEError, SSEStream } from '@sse/core'
import { closeStreams, openStream } from '@sse/testing'
import { listen, useCleanups } from '@sse/testkit'
import { afterEach, describe, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A broker serving `/` on one topic, counting the writes its streams make to their sockets. */
async function serveCounted(coalesceWindow: number) {
  const broker = createBroker({ coalesceWindow, keepAlive: 0 })
  const writes = { count: 0 }
  const server = await listen((req, res: ServerResponse) => {
    const socket = res.socket!
    const write = socket.write
    socket.write = function (this: Socket, ...args: Parameters<typeof write>) {
      writes.count++
      return write.apply(this, args)
    } as typeof write
    broker.stream(req, res, { topics: ['t'] })
  })
  cleanups.push(() => server.close())
  cleanups.push(() => broker.close())
  return { broker, writes, url: server.url }
}

describe('adaptive write coalescing', () => {
  test('an idle stream writes a frame in the turn it is published, whatever the window', async () => {
    const { broker, writes, url } = await serveCounted(1000)
    const client = await openStream(url)
    for (const data of ['first', 'after a pause']) {
      // Idle: the last write ended longer ago than the last flush took.
      await new Promise((resolve) => setTimeout(resolve, 30))
      const before = writes.count
      void broker.publish('t', data)
      for (let i = 0; i < 10; i++) await Promise.resolve()
      // Written before the turn ends: no timer was involved.
      expect(writes.count).toBe(before + 1)
      expect((await client.take(1))[0]!.data).toBe(data)
    }
  })

  test('events published one per turn to a busy stream are gathered into far fewer writes, in order, none lost', async () => {
    const { broker, writes, url } = await serveCounted(1000)
    const client = await openStream(url)
    await broker.publish('t', 'warm-up')
    await client.take(1)
    const before = writes.count
    const count = 2000
    for (let i = 0; i < count; i++) {
      broker.publish('t', String(i))
      await nextTurn()
    }
    const events = await client.take(count)
    expect(events.map((event) => event.data)).toEqual(
      Array.from({ length: count }, (_, i) => String(i)),
    )
    // One write each without coalescing; a busy stream waits at least 1 ms between writes, and 2,000
    // turns that publish take far more than a millisecond each only on a machine that is stalled.
    expect(writes.count - before).toBeLessThan(count / 2)
  })

  test('a frame of 16 KiB or more is never held: a busy stream writes it in the turn it is published', async () => {
    const { broker, writes, url } = await serveCounted(1000)
    const client = await openStream(url)
    await broker.publish('t', 'warm-up')
    const large = 'x'.repeat(16 * 1024)
    const small = 'y'.repeat(100)
    let writtenInTurn = 0
    let smallHeld = 0
    for (let i = 0; i < 30; i++) {
      // One per turn, right after the previous write: the stream is busy, so a small frame is held.
      await nextTurn()
      let before = writes.count
      void broker.publish('t', small)
      for (let j = 0; j < 10; j++) await Promise.resolve()
      if (writes.count === before) smallHeld++
      await nextTurn()
      before = writes.count
      void broker.publish('t', large)
      for (let j = 0; j < 10; j++) await Promise.resolve()
      if (writes.count > before) writtenInTurn++
    }
    const events = await client.take(61)
    expect(events.filter((event) => event.data === large)).toHaveLength(30)
    // The control: small frames in the same place were held (not every time on a stalled machine).
    expect(smallHeld).toBeGreaterThan(0)
    expect(writtenInTurn).toBe(30)
  })

  test('coalesceWindow 0 writes each turn’s frames at once: one write per turn', async () => {
    const { broker, writes, url } = await serveCounted(0)
    const client = await openStream(url)
    await broker.publish('t', 'warm-up')
    await client.take(1)
    const before = writes.count
    for (let i = 0; i < 50; i++) {
      broker.publish('t', String(i))
      await nextTurn()
    }
    await client.take(50)
    expect(writes.count - before).toBe(50)
  })

  test('frames sent in one turn still go out in one write', async () => {
    const { broker, writes, url } = await serveCounted(0)
    const client = await openStream(url)
    await broker.publish('t', 'warm-up')
    await client.take(1)
    const before = writes.count
    for (let i = 0; i < 100; i++) broker.publish('t', String(i))
    await client.take(100)
    expect(writes.count - before).toBe(1)
  })

  test('a stream closed while its frames are held writes them before it ends', async () => {
    let stream: SSEStream | undefined
    const server = await listen((req, res) => {
      stream = new SSEStream(req, res, { coalesceWindow: 1000, keepAlive: 0 })
    })
    cleanups.push(() => server.close())
    const client = await openStream(server.url)
    stream!.send({ data: 'a' })
    await client.take(1)
    for (let i = 0; i < 20; i++) {
      stream!.send({ data: String(i) })
      await nextTurn()
    }
    stream!.close()
    const events = await client.take(20)
    expect(events.at(-1)!.data).toBe('19')
    expect(await client.ended()).toBeDefined()
  })

  test.each([-1, 1.5, 1001, '10', null])(
    'coalesceWindow %j is refused, naming the key',
    (value) => {
      let error: unknown
      try {
        createBroker({ coalesceWindow: value as number })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(SSEError)
      expect((error as SSEError).code).toBe('INVALID_OPTION')
      expect((error as SSEError).message).toContain('"coalesceWindow"')
    },
  )
})
