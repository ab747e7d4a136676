import { html } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { page, sendHtml } from '../layout.js'
import type { NoteStore } from './noteStore.js'
import { MAX_NOTE_LENGTH, renderNoteList } from './notifications.js'

/**
 * `/htmx4/notifications`: the notifications feature on htmx 4. Its `hx-sse` extension swaps only
 * unnamed events (named ones become DOM events), so this page subscribes to
 * `htmx4:notifications`, where every note is also published with `{ defaultEventName: 'none' }`.
 */
export async function htmx4(app: FastifyInstance, options: { notes: NoteStore }): Promise<void> {
  app.get('/htmx4/notifications', async (_request, reply) => {
    const connect = '/events?topics=htmx4:notifications'
    const body = html`<section class="intro">
        <h1>Notifications on htmx 4</h1>
        <p>htmx 4 (<code>htmx.org@4</code> with <code>dist/ext/hx-sse.js</code>) opens the stream with <code>hx-sse:connect</code> and swaps only <em>unnamed</em> events; named ones become DOM events. So each note is also published to <code>htmx4:notifications</code> with <code>{ defaultEventName: 'none' }</code>: the same fragment, without an <code>event:</code> line. Notes posted here show up on the <a href="/notifications">htmx 2 page</a> too.</p>
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
        <section class="card" hx-sse:connect="${connect}" hx-target="#notes" hx-swap="beforeend" id="notes-stream">
          <h2>Live notes</h2>
          ${renderNoteList(options.notes.latest(), { id: 'notes', swap: 'beforeend', sseSwap: false })}
        </section>
      </div>`
    return sendHtml(
      reply,
      page({
        title: 'htmx 4',
        section: 'htmx4',
        body,
        htmx4: true,
        footer: html`One SSE connection for this page: <code>hx-sse:connect="${connect}"</code>`,
      }),
    )
  })
}
