import { closeStreams, openStream } from '@sse/core/testing'
import ssePlugin, { SSEError } from '@sse/fastify'
import { useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { afterEach, expect, test } from 'vitest'

const cleanups = useCleanups()
afterEach(closeStreams)

test('request.broker publishes with a conflation key end to end: live, then a log-compacted replay, and a bad key answers with its code', async () => {
  const app = Fastify()
  await app.register(ssePlugin, { keepAlive: 0 })
  app.get('/events', (_request, reply) => reply.sse({ topics: ['system'] }))
  app.post<{ Body: { key: string; value: number } }>('/metrics', async (request, reply) => {
    const { key, value } = request.body
    try {
      const id = await request.broker.publish('system', { data: `${key}=${value}` }, { key })
      return { id }
    } catch (error) {
      if (error instanceof SSEError) return reply.code(400).send({ code: error.code })
      throw error
    }
  })
  cleanups.push(() => app.close())
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  const post = async (key: string, value: number) => {
    const response = await fetch(`${origin}/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key, value }),
    })
    return {
      status: response.status,
      body: (await response.json()) as { id?: string; code?: string },
    }
  }

  const live = await openStream(app, '/events')
  const { body: first } = await post('cpu', 1)
  for (let value = 2; value <= 5; value++) {
    await post('cpu', value)
    await post('memory', value)
  }
  const [firstEvent] = await live.take(9)
  expect(firstEvent).toMatchObject({ id: first.id, event: 'system', data: 'cpu=1' })

  const resumed = await openStream(app, '/events', { lastEventId: first.id! })
  await resumed.take(2)
  expect(resumed.events.map((event) => event.data)).toEqual(['cpu=5', 'memory=5'])

  expect(await post('a\u0000b', 1)).toEqual({ status: 400, body: { code: 'INVALID_OPTION' } })
  expect(await post('k'.repeat(300), 1)).toEqual({ status: 400, body: { code: 'INVALID_OPTION' } })
  expect(app.broker.stats()).toMatchObject({ published: 9, replayed: 2 })
})
