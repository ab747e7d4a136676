import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createBroker, type SSEError } from '@sse/core'
import { redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups, waitFor } from '@sse/testkit'
import { startRedis } from '@sse/testkit/redisServer'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { PUBLISH_SCRIPT } from '../src/publishScript.js'
import { frame, hasRedis, publishError, startInstance, uniquePrefix } from './helpers.js'

afterEach(closeStreams)

describe.runIf(hasRedis)('faults', () => {
  const cleanups = useCleanups()

  async function ownRedis() {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    return redis
  }

  test('while Redis is down publishers get TRANSPORT_UNAVAILABLE and streams stay open; after it restarts every new event reaches every instance', async () => {
    const redis = await ownRedis()
    const keyPrefix = uniquePrefix()
    const a = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const b = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const onA = await openStream(`${a.url}/events?topics=news`)
    const onB = await openStream(`${b.url}/events?topics=news`)
    const before = await a.broker.publish('news', 'before')
    await onA.take(1)
    await onB.take(1)

    await redis.kill()
    // Whether the socket has noticed yet or not, the publish rejects: it never throws.
    expect(await publishError(() => a.broker.publish('news', 'lost'))).toBe('TRANSPORT_UNAVAILABLE')
    await waitFor(
      () => !a.transport.stats().connected && !b.transport.stats().connected,
      'both instances to notice the outage',
    )
    const lostToo = b.broker.publish('news', 'lost too')
    await expect(lostToo).rejects.toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' })
    expect(b.broker.stats().publishFailures).toBe(1)
    expect(a.broker.stats().streams).toBe(1)
    expect(b.broker.stats().streams).toBe(1)
    // A client that comes back up to date is let in during the outage too: it has nothing to replay.
    const upToDate = await openStream(`${b.url}/events?topics=news`, {
      headers: {
        'last-event-id': before,
      },
    })
    expect(upToDate.status).toBe(200)
    expect(b.broker.stats().streams).toBe(2)

    await redis.restart()
    await waitFor(
      () => a.transport.stats().connected && b.transport.stats().connected,
      'both instances to reconnect',
    )
    const after: string[] = []
    for (let i = 0; i < 4; i++)
      after.push(await [a, b][i % 2]!.broker.publish('news', `after ${i}`))
    const expected =
      frame(before, 'news', 'before') +
      after.map((id, i) => frame(id, 'news', `after ${i}`)).join('')
    for (const client of [onA, onB]) {
      await client.waitFor((x) => x.events.length === 5)
      expect(client.text()).toBe(expected)
    }
    await upToDate.take(4)
    expect(upToDate.text()).toBe(expected.slice(frame(before, 'news', 'before').length))
    for (const instance of [a, b]) {
      const codes = instance.errors.map((error) => error.code)
      expect(codes).toContain('TRANSPORT_UNAVAILABLE')
      // The stream came back empty (no persistence): the reader says so.
      expect(codes).toContain('TRANSPORT_ERROR')
      expect(instance.transport.stats().resets).toBe(1)
    }

    // An id from before the restart is not in the stream any more: the client is told to refetch.
    const late = await openStream(`${b.url}/events?topics=news`, {
      headers: {
        'last-event-id': before,
      },
    })
    await late.take(1)
    expect(late.text()).toBe(`id: ${after[3]}\nevent: sse-reset\ndata: \n\n`)
  })

  test('a broker started while Redis is unreachable reports it, refuses publishes, and works once Redis is up', async () => {
    const redis = await ownRedis()
    await redis.kill()
    const errors: SSEError[] = []
    const broker = createBroker({
      keepAlive: 0,
      onError: (error) => errors.push(error),
      transport: redisTransport({ url: redis.url, keyPrefix: uniquePrefix() }),
    })
    cleanups.push(() => broker.close())
    await expect(broker.ready).rejects.toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' })
    expect(errors.map((error) => error.code)).toContain('TRANSPORT_UNAVAILABLE')
    await expect(broker.publish('news', 'too early')).rejects.toMatchObject({
      code: 'TRANSPORT_UNAVAILABLE',
    })

    await redis.restart()
    // Publishing is refused until the transport has reconnected: try again until it is accepted.
    let id: string | undefined
    await waitFor(
      async () => {
        try {
          id = await broker.publish('news', 'on time')
          return true
        } catch {
          return false
        }
      },
      'a publish to be accepted',
      { intervalMs: 10 },
    )
    expect(id).toMatch(/^\d+-\d+$/)
  })

  test('after Redis lost its data, new ids still come after what the readers had read, even with the clock behind', async () => {
    const redis = await ownRedis()
    const keyPrefix = uniquePrefix()
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix })
    const client = await openStream(`${instance.url}/events?topics=news`)
    const admin = new Redis(redis.url)
    cleanups.push(() => admin.quit())
    // An entry an hour ahead of the server clock moves the reader there (it is skipped as foreign).
    const ahead = `${Date.now() + 3_600_000}-0`
    await admin.xadd(`${keyPrefix}:events`, ahead, 'not', 'ours')
    await waitFor(() => instance.transport.stats().position === ahead, 'the reader to pass it')
    await admin.flushall()

    const id = await instance.broker.publish('news', 'after the loss')
    expect(id).toBe(`${ahead.slice(0, -2)}-1`)
    await client.take(1)
    expect(client.text()).toBe(frame(id, 'news', 'after the loss'))
  })

  test('a broker closes promptly while Redis is down, ending its streams', async () => {
    const redis = await ownRedis()
    const instance = await startInstance(cleanups, { url: redis.url, keyPrefix: uniquePrefix() })
    const client = await openStream(`${instance.url}/events?topics=news`)
    await redis.kill()
    await waitFor(() => !instance.transport.stats().connected, 'the outage to be noticed')
    await instance.close()
    await client.ended()
    expect(instance.broker.stats().streams).toBe(0)
  })

  test('an instance whose reader falls behind the trimming counts and reports the events it missed, and goes on', async () => {
    const redis = await ownRedis()
    const keyPrefix = uniquePrefix()
    const instance = await startInstance(cleanups, {
      url: redis.url,
      keyPrefix,
      historySize: 10,
      maxReaderLag: 0,
    })
    const client = await openStream(`${instance.url}/events?topics=news`)
    await instance.broker.publish('news', 'first')
    await client.waitFor((x) => x.events.length === 1)

    // Another process publishes a burst while this process cannot read (spawnSync blocks it), so
    // the stream is trimmed past events this instance has not read yet.
    const burst = 300
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Redis } from 'ioredis'
        const [url, prefix, count, script] = process.argv.slice(1)
        const redis = new Redis(url)
        for (let i = 0; i < Number(count); i++) {
          await redis.eval(script, 3, prefix + ':events', prefix + ':head', prefix + ':pub:burst',
            '10', 'news', '', '0-0', '', String(i + 1), 'event: news\\ndata: burst ' + i + '\\n\\n')
        }
        redis.disconnect()`,
        redis.url,
        keyPrefix,
        String(burst),
        PUBLISH_SCRIPT,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
    )
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)

    await waitFor(
      () => instance.transport.stats().missed + client.events.length === 1 + burst,
      'the reader to read what is left of the burst',
    )
    const stats = instance.transport.stats()
    expect(stats.missed).toBeGreaterThan(0)
    expect(stats.skipped).toBe(0)
    expect(client.events.at(-1)?.data).toBe(`burst ${burst - 1}`)
    expect(
      instance.errors.some((error) => /trimmed before this instance read/.test(error.message)),
    ).toBe(true)

    const id = await instance.broker.publish('news', 'still going')
    await client.waitFor((x) => x.events.at(-1)?.id === id)
  })
})
