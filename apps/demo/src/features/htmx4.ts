import { html } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { eventsPath, page, sendHtml } from '../layout.js'
import type { PageSnapshots } from '../pageSnapshots.js'
import type { NoteStore } from './noteStore.js'
import { MAX_NOTE_LENGTH, renderNoteItemsOob, renderNoteList } from './notifications.js'

const TOPICS = ['htmx4:notifications']

/**
 * `/htmx4/notifications`: the notifications feature on htmx 4. Its `hx-sse` extension swaps only
 * unnamed events (named ones become DOM events), so this page subscribes to
 * `htmx4:notifications`, where every note is also published with `{ defaultEventName: 'none' }`,
 * and its snapshot is an unnamed event too: the list's items, out of band.
 */
export async function htmx4(
  app: FastifyInstance,
  options: { notes: NoteStore; snapshots: PageSnapshots },
): Promise<void> {
  const { notes } = options
  options.snapshots.add('htmx4:notifications', () => [
    { data: renderNoteItemsOob('notes', notes.latest()) },
  ])

  app.get('/htmx4/notifications', async (request, reply) => {
    // The cursor and the notes in the same tick: the stream starts right after these notes.
    const cursor = request.broker.cursor()
    const list = renderNoteList(notes.latest(), { id: 'notes', swap: 'beforeend', sseSwap: false })
    const body = html`<section class="intro">
        <h1>Notifications on htmx 4</h1>
        <p>The same live notes as the <a href="/notifications">Notifications</a> page, built with htmx 4 instead of htmx 2. Post a note: it appears in the list below, and in every other open tab that shows notes.</p>
        <p>Try it: open the <a href="/notifications">htmx 2 page</a> in a second tab and post from either one. The pill in the top bar shows the connection: if it drops, the pill turns orange, and once it is back the list catches up by itself, without a reload.</p>
        <p class="muted small">Under the hood: htmx 4's <code>hx-sse:connect</code> swaps only events without a name, so every note is also published, unnamed, to <code>htmx4:notifications</code>.</p>
      </section>
      <div class="grid two">
        <section class="card">
          <h2>Post</h2>
          <form class="note-form" hx-post="/notes" hx-swap="none" hx-on::after:request="this.reset()">
            <label for="note-text">Your note</label>
            <div class="row">
              <input id="note-text" name="text" maxlength="${MAX_NOTE_LENGTH}" required autocomplete="off" placeholder="Shipped on htmx 4">
              <button type="submit">Publish</button>
            </div>
          </form>
        </section>
        <section class="card">
          <h2>Live notes</h2>
          ${list}
        </section>
      </div>`
    return sendHtml(
      reply,
      page({
        title: 'htmx 4',
        section: 'htmx4',
        body,
        stream: { topics: TOPICS, cursor },
        htmx4: { target: '#notes', swap: 'beforeend' },
        footer: html`One SSE connection for this page, opened by <code>hx-sse:connect</code>: <code>${eventsPath(TOPICS)}</code>`,
      }),
    )
  })
}
