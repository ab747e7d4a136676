import ssePlugin, { escapeHtml, ssePlugin as namedPlugin, type SSEEvent } from '@sse/fastify'
import { closeStreams, openStream } from '@sse/testing'
import { once, useCleanups } from '@sse/testkit'
import { EventSource } from 'eventsource'
import Fastify from 'fastify'
import { afterEach, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'
import { listenApp } from './helpers.js'

failOnFastifyWarnings()

const cleanups = useCleanups()
afterEach(closeStreams)

async function* progressOf(id: string): AsyncGenerator<SSEEvent> {
  for (const percent of [0, 50, 100]) yield { event: 'progress', data: `${id}: ${percent}%` }
  yield { event: 'done', data: id }
}

test('the plugin is the default export and is also exported by name', () => {
  expect(namedPlugin).toBe(ssePlugin)
})

// The app of docs/fastify.md ("A complete app"), as written.
test('the guide usage works as written, against a real server and real clients', async () => {
  const app = Fastify()
  await app.register(ssePlugin, {
    /* options, all optional */
  })

  app.get('/events', (_request, reply) => reply.sse({ topics: ['notifications'] }))
  app.get<{ Params: { id: string } }>('/projects/:id/events', (request, reply) =>
    reply.sse({ topics: [`project:${request.params.id}`] }),
  )
  app.post<{ Body: { title: string } }>('/notes', async (request) => {
    request.broker.publish('notifications', { data: `<li>${escapeHtml(request.body.title)}</li>` })
    return { ok: true }
  })
  app.get<{ Params: { id: string } }>('/jobs/:id/progress', (request, reply) =>
    reply.sse(progressOf(request.params.id)),
  )
  const { origin, connect } = await listenApp(cleanups, app)

  // A browser-style EventSource receives a note posted by another request, HTML-escaped.
  const source = new EventSource(`${origin}/events`)
  cleanups.push(() => source.close())
  await once(source, 'open')
  const note = once<MessageEvent>(source, 'notifications')
  const posted = await fetch(`${origin}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: '<script>x</script> & co' }),
  })
  expect(await posted.json()).toEqual({ ok: true })
  expect((await note).data).toBe('<li>&lt;script&gt;x&lt;/script&gt; &amp; co</li>')

  // A background job reaches the same broker through app.broker.
  const project = await connect('/projects/42/events')
  const other = await connect('/projects/43/events')
  const id = await app.broker.publish('project:42', { event: 'deployed', data: 'v2' })
  await project.take(1)
  expect(project.text()).toBe(`id: ${id}\nevent: deployed\ndata: v2\n\n`)
  expect(other.text()).toBe('')

  // An async iterable is streamed value by value, and the response ends with it.
  const job = await openStream(`${origin}/jobs/7/progress`)
  await job.ended()
  expect(job.status).toBe(200)
  expect(job.text()).toBe(
    'event: progress\ndata: 7: 0%\n\n' +
      'event: progress\ndata: 7: 50%\n\n' +
      'event: progress\ndata: 7: 100%\n\n' +
      'event: done\ndata: 7\n\n',
  )
})
