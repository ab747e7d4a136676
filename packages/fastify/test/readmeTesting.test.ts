import ssePlugin from '@sse/fastify'
import { closeStreams, openStream } from '@sse/testing'
import Fastify from 'fastify'
import { afterEach, expect, onTestFinished, test } from 'vitest'

afterEach(closeStreams)

test('a note reaches the stream, and a reconnect resumes after it', async () => {
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(ssePlugin)
  app.get('/events', (_request, reply) => reply.sse({ topics: ['notes'] }))

  const stream = await openStream(app, '/events') // listens on 127.0.0.1:0 for the test
  expect(stream.status).toBe(200)
  expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')

  const first = await app.broker.publish('notes', 'first')
  expect(await stream.take(1)).toEqual([{ id: first, event: 'notes', data: 'first' }])

  await stream.close()
  await app.broker.publish('notes', 'second') // while the client is away
  const again = await stream.reconnect() // sends Last-Event-ID: <first>
  const [missed] = await again.take(1)
  expect(missed?.data).toBe('second')
})
