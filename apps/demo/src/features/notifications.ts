import { type Broker, html, type SafeHtml, type SSEEvent } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { page, sendHtml } from '../layout.js'
import type { PageSnapshots } from '../pageSnapshots.js'
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

/** How many notes the dashboard's feed shows. */
const FEED_LENGTH = 5

/** The dashboard's feed: the last five notes, newest first. */
export function renderFeed(notes: NoteStore): SafeHtml {
  return renderNoteList(notes.latest(FEED_LENGTH), {
    id: 'feed',
    swap: 'afterbegin',
    newestFirst: true,
  })
}

/**
 * A list's items, to be swapped into the page's list of the same id out of band. `innerHTML`
 * replaces the items and keeps the list element, with the `sse-swap` listener htmx gave it, so
 * the live notes that follow the snapshot land in it at once.
 */
export function renderNoteItemsOob(id: string, notes: readonly Note[]): SafeHtml {
  return html`<ul id="${id}" hx-swap-oob="innerHTML">${notes.map(renderNote)}</ul>`
}

/**
 * The notes for a page that could not resume: one event per view of the `notifications` topic.
 * `notes` is received by the notifications page, `feed` by the dashboard (`sse-swap` with
 * `hx-swap="none"` on the list's card: the event is all out-of-band content); pages that show
 * notes only as toasts listen to neither.
 */
export function notesSnapshot(notes: NoteStore): SSEEvent[] {
  return [
    { event: 'notes', data: renderNoteItemsOob('notes', notes.latest()) },
    { event: 'feed', data: renderNoteItemsOob('feed', notes.latest(FEED_LENGTH).reverse()) },
  ]
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
  options: { notes: NoteStore; snapshots: PageSnapshots },
): Promise<void> {
  const { notes } = options
  options.snapshots.add('notifications', () => notesSnapshot(notes))

  app.post('/notes', async (request, reply) => {
    const text = noteText(request.body)
    if (text === undefined) {
      return reply.code(400).send(`A note needs 1 to ${MAX_NOTE_LENGTH} characters.`)
    }
    await publishNote(request.broker, text, notes)
    // No body: the SSE event appends the note, in this tab and every other one.
    return reply.code(204).send()
  })

  // The list as a fragment, for clients other than these pages (the pages get theirs on their
  // stream); `?view=feed` is the dashboard's short, newest-first variant.
  app.get<{ Querystring: { view?: string } }>('/notes', async (request, reply) =>
    sendHtml(
      reply,
      request.query.view === 'feed'
        ? renderFeed(notes)
        : renderNoteList(notes.latest(), { id: 'notes', swap: 'beforeend' }),
    ),
  )

  app.get('/notifications', async (request, reply) => {
    // The cursor and the notes in the same tick: the stream starts right after these notes.
    const cursor = request.broker.cursor()
    const list = renderNoteList(notes.latest(), { id: 'notes', swap: 'beforeend' })
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
        <section class="card" sse-swap="notes" hx-swap="none">
          <h2>Live notes</h2>
          ${list}
        </section>
      </div>`
    return sendHtml(
      reply,
      page({
        title: 'Notifications',
        section: 'notifications',
        stream: { topics: ['notifications'], cursor },
        body,
      }),
    )
  })
}
