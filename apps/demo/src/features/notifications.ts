import { type Broker, html, type SafeHtml } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { page, sendHtml } from '../layout.js'
import { createNote, type Note, type NoteStore } from './noteStore.js'

/** Longest note accepted. */
export const MAX_NOTE_LENGTH = 280

/** One note as a list item. The text is escaped by `html`, so markup in it stays text. */
export function renderNote(note: Note): SafeHtml {
  const at = new Date(note.at)
  return html`<li class="note" data-note-id="${note.id}"><time datetime="${at.toISOString()}">${at.toISOString().slice(11, 19)}</time><span class="note-text">${note.text}</span></li>`
}

export interface NoteListOptions {
  id: string
  /** How live notes are added: `beforeend` (oldest first) or `afterbegin` (newest first). */
  swap: 'beforeend' | 'afterbegin'
  newestFirst?: boolean
  /** `false` for htmx 4, which swaps unnamed events into the `hx-sse:connect` element itself. */
  sseSwap?: boolean
}

/** The list of notes; with `sseSwap`, htmx-ext-sse adds each `notifications` event to it. */
export function renderNoteList(notes: readonly Note[], options: NoteListOptions): SafeHtml {
  const ordered = options.newestFirst ? [...notes].reverse() : notes
  const items = ordered.map(renderNote)
  return options.sseSwap === false
    ? html`<ul id="${options.id}" class="notes">${items}</ul>`
    : html`<ul id="${options.id}" class="notes" sse-swap="notifications" hx-swap="${options.swap}">${items}</ul>`
}

/** The dashboard's feed: the last five notes, newest first. */
export function renderFeed(notes: NoteStore): SafeHtml {
  return renderNoteList(notes.latest(5), { id: 'feed', swap: 'afterbegin', newestFirst: true })
}

/**
 * Publishes a note to every open page. The fragment is rendered once and published twice:
 * to `notifications` named after its topic (htmx 2: `sse-swap="notifications"`), and to
 * `htmx4:notifications` as an unnamed event (htmx 4's `hx-sse` swaps only unnamed events).
 */
export async function publishNote(broker: Broker, text: string, store?: NoteStore): Promise<Note> {
  const note = createNote(text)
  store?.add(note)
  const data = renderNote(note)
  await Promise.all([
    broker.publish('notifications', { data }),
    broker.publish('htmx4:notifications', { data }, { defaultEventName: 'none' }),
  ])
  return note
}

/** Reads and checks the posted text; `undefined` when it is empty or too long. */
export function noteText(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | null | undefined)?.text
  if (typeof text !== 'string') return undefined
  const trimmed = text.trim()
  return trimmed.length === 0 || trimmed.length > MAX_NOTE_LENGTH ? undefined : trimmed
}

export function noteForm(): SafeHtml {
  return html`<form class="note-form" hx-post="/notes" hx-swap="none" hx-on::after-request="if (event.detail.successful) this.reset()">
    <label for="note-text">Your note</label>
    <div class="row">
      <input id="note-text" name="text" maxlength="${MAX_NOTE_LENGTH}" required autocomplete="off" placeholder="Deployed v2.4 to production">
      <button type="submit">Publish</button>
    </div>
  </form>`
}

/** `/notifications`: post a note, every open tab appends it. */
export async function notifications(
  app: FastifyInstance,
  options: { notes: NoteStore },
): Promise<void> {
  const { notes } = options

  app.post('/notes', async (request, reply) => {
    const text = noteText(request.body)
    if (text === undefined) {
      return reply.code(400).send(`A note needs 1 to ${MAX_NOTE_LENGTH} characters.`)
    }
    await publishNote(request.broker, text, notes)
    // No body: the SSE event appends the note, in this tab and every other one.
    return reply.code(204).send()
  })

  // The whole list, refetched when the stream says `sse-reset` (our Last-Event-ID was too old);
  // `?view=feed` is the dashboard's short, newest-first variant.
  app.get<{ Querystring: { view?: string } }>('/notes', async (request, reply) =>
    sendHtml(
      reply,
      request.query.view === 'feed'
        ? renderFeed(notes)
        : renderNoteList(notes.latest(), { id: 'notes', swap: 'beforeend' }),
    ),
  )

  app.get('/notifications', async (_request, reply) => {
    const body = html`<section class="intro">
        <h1>Notifications</h1>
        <p>Post a note: the handler publishes it once and every open tab appends it (<code>hx-swap="beforeend"</code>). User text is escaped: <code>&lt;img src=x onerror=alert(1)&gt;</code> shows up as text and runs nothing.</p>
      </section>
      <div class="grid two">
        <section class="card">
          <h2>Post</h2>
          ${noteForm()}
          <p class="muted small">Open this page in two tabs, or the <a href="/htmx4/notifications">htmx 4 version</a> next to it.</p>
        </section>
        <section class="card" hx-get="/notes" hx-trigger="sse:sse-reset" hx-target="#notes" hx-swap="outerHTML">
          <h2>Live notes</h2>
          ${renderNoteList(notes.latest(), { id: 'notes', swap: 'beforeend' })}
        </section>
      </div>`
    return sendHtml(
      reply,
      page({ title: 'Notifications', section: 'notifications', topics: ['notifications'], body }),
    )
  })
}
