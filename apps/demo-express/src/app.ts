import { randomUUID } from 'node:crypto'
import { type Broker, html, type SafeHtml, type SSEEvent } from '@sse/core'
import { type SSEMiddleware, sseMiddleware } from '@sse/express'
import express, { type Express } from 'express'
import { assetDirs } from './assets.js'

interface Note {
  id: string
  text: string
  at: number
}

const MAX_NOTE_LENGTH = 280

/** One note as a list item; `html` escapes the user's text. */
export function renderNote(note: Note): SafeHtml {
  const at = new Date(note.at).toISOString()
  return html`<li class="note" data-note-id="${note.id}"><time datetime="${at}">${at.slice(11, 19)}</time><span class="note-text">${note.text}</span></li>`
}

function renderList(notes: readonly Note[]): SafeHtml {
  return html`<ul id="notes" class="notes" sse-swap="notifications" hx-swap="beforeend">${notes.map(renderNote)}</ul>`
}

/**
 * The page's whole state, for a stream whose id the broker cannot resume from (a restart, history
 * evicted, more missed events than one replay carries): the list's items, swapped in out of band
 * (`innerHTML` keeps the list and its `sse-swap` listener, so the live notes right behind land in
 * it), then `snapshot`, which carries the cursor as its id and which the stream element listens
 * to, so that `sse-resume.js` records it.
 */
function snapshot(notes: readonly Note[]): SSEEvent[] {
  return [
    {
      event: 'notes',
      data: html`<ul id="notes" hx-swap-oob="innerHTML">${notes.map(renderNote)}</ul>`,
    },
    { event: 'snapshot', data: 'complete' },
  ]
}

/** The stream's URL: it starts right after `cursor`, the broker's id of the state rendered. */
function streamUrl(cursor: string | undefined): string {
  const topics = '/events?topics=notifications'
  return cursor === undefined ? topics : `${topics}&lastEventId=${encodeURIComponent(cursor)}`
}

function page(notes: readonly Note[], cursor: string | undefined): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Notifications · Express · SSE suite demo</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/style.css">
  <script src="/vendor/htmx/htmx.min.js" defer></script>
  <script src="/vendor/htmx-ext-sse/sse.min.js" defer></script>
  <script src="/vendor/sse/sse-resume.js" defer></script>
  <script src="/static/app.js" defer></script>
</head>
<body>
  <div class="shell" hx-ext="sse" sse-connect="${streamUrl(cursor)}" data-resume hx-trigger="sse:snapshot, sse:sse-reset" data-sse-state="connecting">
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>SSE suite · Express</a>
      <nav class="nav"><a href="/notifications" aria-current="page">Notifications</a></nav>
      <span class="live"><span class="dot"></span><span class="live-label"></span></span>
    </header>
    <main class="main">
      <section class="intro">
        <h1>Notifications on Express</h1>
        <p>The same feature as the Fastify demo, on Express 5 with <code>@sse/express</code>: <code>app.use(sseMiddleware())</code>, <code>res.sse({ topics, snapshot })</code> and <code>req.broker.publish()</code>. The page is rendered with <code>req.broker.cursor()</code>, so it misses nothing published before its stream connects, and a stream that cannot resume gets the list whole instead of a reload.</p>
      </section>
      <div class="grid two">
        <section class="card">
          <h2>Post</h2>
          <form class="note-form" hx-post="/notes" hx-swap="none" hx-on::after-request="if (event.detail.successful) this.reset()">
            <label for="note-text">Your note</label>
            <div class="row">
              <input id="note-text" name="text" maxlength="${MAX_NOTE_LENGTH}" required autocomplete="off" placeholder="Hello from Express">
              <button type="submit">Publish</button>
            </div>
          </form>
        </section>
        <section class="card" sse-swap="notes" hx-swap="none">
          <h2>Live notes</h2>
          ${renderList(notes)}
        </section>
      </div>
    </main>
    <footer class="footer">One SSE connection for this page: <code>/events?topics=notifications</code></footer>
  </div>
</body>
</html>`
}

export interface ExpressDemoOptions {
  /** A broker to share (it stays open on `close()`); without it the middleware creates one. */
  broker?: Broker
  /** `retry:` hint of the page's stream: how soon the browser reconnects after a drop. @default 1000 */
  retryMs?: number
}

/** The notifications feature on Express: the app, and `sse` to close its streams on shutdown. */
export function buildApp(options: ExpressDemoOptions = {}): { app: Express; sse: SSEMiddleware } {
  const sse = sseMiddleware(options.broker === undefined ? {} : { broker: options.broker })
  const notes: Note[] = []
  const app = express()

  app.use('/static', express.static(assetDirs.public))
  app.use('/vendor/htmx', express.static(assetDirs.htmx))
  app.use('/vendor/htmx-ext-sse', express.static(assetDirs.htmxExtSse))
  app.use('/vendor/sse', express.static(assetDirs.sseResume))
  app.use(express.urlencoded({ extended: false, limit: '16kb' }))
  app.use(sse)

  app.get('/', (_req, res) => res.redirect('/notifications'))
  app.get('/notifications', (req, res) => {
    // The cursor and the notes in the same tick: the stream starts right after these notes.
    const cursor = req.broker.cursor()
    res.type('html').send(page(notes, cursor).toString())
  })
  app.get('/notes', (_req, res) => {
    res.type('html').send(renderList(notes).toString())
  })
  // Resumes from the `Last-Event-ID` header, else from the URL's `lastEventId` (the page's cursor,
  // kept current by `sse-resume.js`); when the broker cannot, the snapshot replaces `sse-reset`.
  app.get('/events', (_req, res) => {
    res.sse({
      topics: ['notifications'],
      retry: options.retryMs ?? 1000,
      // For `broker.disconnect({ tag: 'topic:notifications' })`: the pages reconnect and resume.
      tags: ['topic:notifications'],
      snapshot: () => snapshot(notes),
    })
  })
  app.post('/notes', async (req, res) => {
    const text = typeof req.body?.text === 'string' ? req.body.text.trim() : ''
    if (text.length === 0 || text.length > MAX_NOTE_LENGTH) {
      res.status(400).type('text').send(`A note needs 1 to ${MAX_NOTE_LENGTH} characters.`)
      return
    }
    const note: Note = { id: randomUUID().slice(0, 8), text, at: Date.now() }
    notes.push(note)
    if (notes.length > 50) notes.shift()
    // Named after its topic: `sse-swap="notifications"` appends it in every open tab.
    await req.broker.publish('notifications', { data: renderNote(note) })
    res.status(204).end()
  })

  return { app, sse }
}
