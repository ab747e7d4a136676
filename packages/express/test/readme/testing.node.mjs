import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { sseMiddleware } from '@sse/express'
import { closeStreams, openStream } from '@sse/testing'
import express from 'express'

const sse = sseMiddleware({ authorize: (req) => req.headers.authorization === 'Bearer ok' })
const app = express()
app.use(sse)
app.get('/jobs/:id/events', (req, res) => res.sse({ topics: [`job:${req.params.id}`] }))

after(async () => {
  await closeStreams()
  await sse.close()
})

test('a stream without credentials is refused before any event', async () => {
  const refused = await openStream(app, '/jobs/7/events')
  assert.equal(refused.status, 403)
  assert.deepEqual(refused.events, [])
})

test('a job streams its progress until done', async () => {
  const stream = await openStream(app, '/jobs/7/events', {
    headers: { authorization: 'Bearer ok' },
  })
  for (const step of ['25%', '50%', '100%']) {
    await sse.broker.publish('job:7', { event: 'progress', data: step })
  }
  await sse.broker.publish('job:7', { event: 'done', data: '' })
  const events = await stream.until((event) => event.event === 'done')
  assert.deepEqual(
    events.map((event) => event.data),
    ['25%', '50%', '100%', ''],
  )
})
