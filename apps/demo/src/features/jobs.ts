import { setTimeout as sleep } from 'node:timers/promises'
import { html, type SafeHtml, type SSEEvent } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { eventsPath, page, sendHtml, toasts } from '../layout.js'
import { ID_PATTERN } from '../topics.js'
import { PendingStore } from './pendingStore.js'

/** A long job: a title and its steps. */
export interface Job {
  title: string
  steps: readonly string[]
}

const JOBS: readonly Job[] = [
  {
    title: 'Rebuild the search index',
    steps: [
      'Fetching sources',
      'Parsing 1,204 documents',
      'Tokenizing',
      'Building the inverted index',
      'Compressing postings',
      'Writing shards',
      'Verifying checksums',
      'Swapping the live index',
    ],
  },
  {
    title: 'Export the monthly report',
    steps: [
      'Querying orders',
      'Aggregating by region',
      'Rendering charts',
      'Laying out 14 pages',
      'Writing the PDF',
      'Uploading',
    ],
  },
]

function renderProgress(done: number, total: number, label: string): SafeHtml {
  const percent = Math.round((done / total) * 100)
  return html`<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${percent}"><div class="progress-bar" style="width: ${percent}%"></div></div>
  <p class="progress-label"><strong>${percent}%</strong> · ${label}</p>`
}

/**
 * The job itself, as an async generator: each step yields a `progress` fragment, and the end
 * yields `done`. `reply.sse()` pipes it into the stream; when the tab closes, the stream calls the
 * generator's `return()` and the work stops.
 */
export async function* runJob(job: Job, stepMs: number): AsyncGenerator<SSEEvent> {
  const started = Date.now()
  const total = job.steps.length
  for (let i = 0; i < total; i++) {
    yield { event: 'progress', data: renderProgress(i, total, `${job.steps[i]}…`) }
    await sleep(stepMs)
  }
  yield { event: 'progress', data: renderProgress(total, total, 'All steps complete') }
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  yield {
    event: 'done',
    data: html`<span class="ok">✓ Done in ${seconds} s</span> · stream closed`,
  }
}

async function* missingJob(): AsyncGenerator<SSEEvent> {
  // Answer with a stream, not a 404: htmx-ext-sse would retry a failed EventSource forever, while
  // `done` reaches sse-close and ends it.
  yield { event: 'done', data: html`<span class="warn">This job is unknown or already ran.</span>` }
}

function jobCard(id: string, job: Job): SafeHtml {
  // The card opens its own short-lived stream (a per-request generator, not a topic) and
  // sse-close="done" shuts it when the job reports the end.
  return html`<article class="card job" id="job-${id}" sse-connect="/jobs/${id}/stream" sse-close="done">
    <header class="job-head"><h3>${job.title}</h3><code class="muted">#${id}</code></header>
    <div class="job-progress" sse-swap="progress">${renderProgress(0, job.steps.length, 'Starting…')}</div>
    <p class="job-status" sse-swap="done"><span class="spinner" aria-hidden="true"></span> Running</p>
  </article>`
}

/** `/jobs`: start a job, watch its progress stream in, then the stream closes. */
export async function jobs(app: FastifyInstance, options: { stepMs: number }): Promise<void> {
  const pending = new PendingStore<Job>()
  let started = 0

  app.get('/jobs', async (request, reply) => {
    const stream = { topics: ['notifications'], cursor: request.broker.cursor() }
    const body = html`<section class="intro">
        <h1>Progress of a long job</h1>
        <p>Start a job: the server runs it as an async generator and pipes each progress fragment into an SSE stream of its own (<code>reply.sse(generator)</code>). A final <code>done</code> event meets <code>sse-close="done"</code>, and the browser closes the stream.</p>
      </section>
      <section class="card buttons">
        <button hx-post="/jobs" hx-target="#jobs" hx-swap="afterbegin">Start a job</button>
        <span class="muted small">Each running job holds one connection until it is done.</span>
      </section>
      <div id="jobs" class="jobs"></div>
      ${toasts()}`
    const footer = html`This page's own SSE connection: <code>${eventsPath(stream.topics)}</code>. Each running job opens one more, which closes when the job is done.`
    return sendHtml(reply, page({ title: 'Jobs', section: 'jobs', stream, body, footer }))
  })

  app.post('/jobs', async (_request, reply) => {
    const job = JOBS[started++ % JOBS.length]!
    const id = pending.add(job)
    return sendHtml(reply, jobCard(id, job))
  })

  app.get<{ Params: { id: string } }>('/jobs/:id/stream', (request, reply) => {
    const { id } = request.params
    const job = ID_PATTERN.test(id) ? pending.take(id) : undefined
    reply.sse(job === undefined ? missingJob() : runJob(job, options.stepMs))
  })
}
