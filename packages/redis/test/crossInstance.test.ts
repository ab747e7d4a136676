import type { BrokerOptions } from '@sse/core'
import type { RedisTransportOptions } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import { useCleanups, waitFor } from '@sse/testkit'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, test } from 'vitest'
import {
  allRead,
  frame,
  hasRedis,
  type Instance,
  startInstance,
  uniquePrefix,
  useRedis,
} from './helpers.js'

afterEach(closeStreams)

describe.runIf(hasRedis)('several instances sharing one Redis', () => {
  const redis = useRedis()
  const cleanups = useCleanups()

  /** `count` instances on one fresh key prefix. */
  function cluster(
    count: number,
    transport: RedisTransportOptions = {},
    broker: BrokerOptions = {},
  ): Promise<Instance[]> {
    const keyPrefix = uniquePrefix()
    return Promise.all(
      Array.from({ length: count }, () =>
        startInstance(cleanups, { url: redis.url, keyPrefix, ...transport }, broker),
      ),
    )
  }

  test('an event published on any instance reaches every subscriber of its topic on every instance, same bytes, in order', async () => {
    const [a, b, c] = (await cluster(3)) as [Instance, Instance, Instance]
    const clients = await Promise.all(
      [a, b, c, a].map((instance) => openStream(`${instance.url}/events?topics=news`)),
    )
    const sports = await openStream(`${b.url}/events?topics=sports`)
    const browserLike = new EventSource(`${c.url}/events?topics=news`)
    cleanups.push(() => browserLike.close())
    const received: Array<{ id: string; data: string }> = []
    browserLike.addEventListener('news', (event) =>
      received.push({ id: event.lastEventId, data: event.data }),
    )
    await new Promise((resolve) => browserLike.addEventListener('open', resolve, { once: true }))

    const ids: string[] = []
    const publishers = [a, b, c]
    for (let i = 0; i < 9; i++) {
      ids.push(await publishers[i % 3]!.broker.publish('news', `<p>${i}</p>`))
    }
    const last = await b.broker.publish('sports', 'goal')

    const expected = ids.map((id, i) => frame(id, 'news', `<p>${i}</p>`)).join('')
    for (const client of clients) {
      await client.take(9)
      expect(client.text()).toBe(expected)
    }
    await sports.take(1)
    expect(sports.text()).toBe(frame(last, 'sports', 'goal'))
    await waitFor(() => received.length === 9, 'the EventSource to get 9 events')
    expect(received).toEqual(ids.map((id, i) => ({ id, data: `<p>${i}</p>` })))
    expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true)
  })

  test('a publish to several topics reaches each subscriber once, with the frame of its topic', async () => {
    const [a, b, c] = (await cluster(3)) as [Instance, Instance, Instance]
    const both = await openStream(`${c.url}/events?topics=a,b`)
    const onlyB = await openStream(`${a.url}/events?topics=b`)
    const named = await a.broker.publish(['a', 'b'], 'per topic')
    const shared = await b.broker.publish(['a', 'b'], { event: 'shared', data: 'one frame' })
    const expectedShared = `id: ${shared}\nevent: shared\ndata: one frame\n\n`
    await both.take(2)
    await onlyB.take(2)
    expect(both.text()).toBe(frame(named, 'a', 'per topic') + expectedShared)
    expect(onlyB.text()).toBe(frame(named, 'b', 'per topic') + expectedShared)
  })

  test.each([
    ['the Last-Event-ID header', (id: string) => ({ headers: { 'last-event-id': id }, query: '' })],
    [
      'the lastEventId query parameter',
      (id: string) => ({ headers: {}, query: `&lastEventId=${encodeURIComponent(id)}` }),
    ],
  ])(
    'a client that reconnects to another instance with %s gets exactly what it missed, in order, then live events',
    async (_, resume) => {
      const [a, b, c] = (await cluster(3)) as [Instance, Instance, Instance]
      const first = await openStream(`${a.url}/events?topics=news,sports`)
      const sent: Array<{ id: string; topic: string; data: string }> = []
      const publish = async (instance: Instance, topic: string, data: string) => {
        sent.push({ id: await instance.broker.publish(topic, data), topic, data })
      }
      await publish(a, 'news', 'n1')
      await publish(b, 'sports', 's1')
      await first.take(2)
      first.close()
      const lastSeen = sent[1]!.id

      await publish(b, 'news', 'n2')
      await publish(c, 'weather', 'w1')
      await publish(c, 'sports', 's2')
      await publish(a, 'news', 'n3\nsecond line')
      await allRead([a, b, c], sent[sent.length - 1]!.id)

      const { headers, query } = resume(lastSeen)
      const second = await openStream(`${b.url}/events?topics=news,sports${query}`, { headers })
      await second.take(3)
      await publish(c, 'news', 'n4')
      await second.take(1)

      const missed = sent.slice(2).filter((event) => event.topic !== 'weather')
      const text = missed
        .map(({ id, topic, data }) => frame(id, topic, data.replace('\n', '\ndata: ')))
        .join('')
      expect(second.text()).toBe(text)
      expect(b.broker.stats().replayed).toBe(3)
    },
  )

  test('when an instance dies, its EventSource clients reconnect to another one and replay from Redis', async () => {
    const [a, b, c] = (await cluster(3, {}, { retry: 20 })) as [Instance, Instance, Instance]
    // A load balancer in miniature: each (re)connection goes to the instance `target` names, once
    // `gate` lets it through.
    let target = a
    let gate: Promise<void> = Promise.resolve()
    const client = new EventSource(`${a.url}/events?topics=news`, {
      fetch: async (input, init) => {
        await gate
        const url = new URL(String(input))
        url.host = new URL(target.url).host
        return fetch(url, init)
      },
    })
    cleanups.push(() => client.close())
    const received: Array<{ id: string; data: string }> = []
    client.addEventListener('news', (event) =>
      received.push({ id: event.lastEventId, data: event.data }),
    )
    await new Promise((resolve) => client.addEventListener('open', resolve, { once: true }))

    const sent: Array<{ id: string; data: string }> = []
    const publish = async (instance: Instance, data: string) => {
      sent.push({ id: await instance.broker.publish('news', data), data })
    }
    await publish(b, 'before 1')
    await publish(c, 'before 2')
    await waitFor(() => received.length === 2, 'the first two events')

    let open!: () => void
    gate = new Promise((resolve) => {
      open = resolve
    })
    target = b
    await a.close()
    await publish(c, 'while away 1')
    await publish(b, 'while away 2')
    await publish(c, 'while away 3')
    await allRead([b, c], sent[sent.length - 1]!.id)
    open()

    await waitFor(() => received.length === 5, 'the missed events')
    expect(b.broker.stats().replayed).toBe(3)
    await publish(c, 'after')
    await waitFor(() => received.length === 6, 'the live event')
    expect(received).toEqual(sent)
  })
})
