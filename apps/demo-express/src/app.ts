import { randomUUID } from 'node:crypto'
import { type Broker, html, type SafeHtml } from '@sse/core'
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

function page(notes: readonly Note[]): SafeHtml {
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
  <div class="shell" hx-ext="sse" sse-connect="/events?topics=notifications" data-resume hx-trigger="sse:sse-reset" data-sse-state="connecting">
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>SSE suite · Express</a>
      <nav class="nav"><a href="/notifications" aria-current="page">Notifications</a></nav>
      <span class="live"><span class="dot"></span><span class="live-label"></span></span>
    </header>
    <main class="main">
      <section class="intro">
        <h1>Notifications on Express</h1>
        <p>The same feature as the Fastify demo, on Express 5 with <code>@sse/express</code>: <code>app.use(sseMiddleware())</code>, <code>res.sse({ topics })</code> and <code>req.broker.publish()</code>.</p>
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
        <section class="card" hx-get="/notes" hx-trigger="sse:sse-reset" hx-target="#notes" hx-swap="outerHTML">
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
  app.get('/notifications', (_req, res) => {
    res.type('html').send(page(notes).toString())
  })
  app.get('/notes', (_req, res) => {
    res.type('html').send(renderList(notes).toString())
  })
  app.get('/events', (_req, res) => {
    res.sse({ topics: ['notifications'], retry: 1000 })
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
