import { setTimeout as sleep } from 'node:timers/promises'
import { html, type SafeHtml, type SSEEvent } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { eventsPath, page, sendHtml, toasts } from '../layout.js'
import { ID_PATTERN } from '../topics.js'
import { PendingStore } from './pendingStore.js'

/** Longest prompt accepted. */
export const MAX_PROMPT_LENGTH = 500

interface ToolCall {
  name: string
  input: Record<string, unknown>
  output: string
}

/** The simulated reply: text, a tool call, more text. Deterministic; no model, no network. */
export function assistantReply(prompt: string): { intro: string; tool: ToolCall; answer: string } {
  return {
    intro: `Let me look “${prompt}” up in the docs.`,
    tool: {
      name: 'search_docs',
      input: { query: prompt, limit: 3 },
      output:
        '3 pages: One connection per page · Publishing from a handler · Reconnects and Last-Event-ID',
    },
    answer: [
      'Here is the short version:',
      '',
      '1. Each page opens one SSE connection and names every topic it needs.',
      '2. A handler publishes with request.broker.publish(): the event is serialized once, and the same bytes go to every subscriber.',
      '3. When a stream drops, the browser reconnects with Last-Event-ID and the broker replays what was missed.',
      '',
      'This reply was generated on the server, token by token, from a script.',
    ].join('\n'),
  }
}

/** Splits text into word tokens that keep their leading whitespace (newlines included). */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

function toolCard(tool: ToolCall): SafeHtml {
  return html`<div class="tool-card"><div class="tool-head"><span class="tool-badge">tool</span> <code>${tool.name}</code></div><pre class="tool-input">${JSON.stringify(tool.input)}</pre><div class="tool-output">→ ${tool.output}</div></div>`
}

/**
 * Streams the reply: a `token` event per word (escaped, appended), a `tool` card in between, and
 * `done` with a summary, which meets `sse-close="done"`.
 */
export async function* streamReply(prompt: string, delayMs: number): AsyncGenerator<SSEEvent> {
  const started = Date.now()
  const reply = assistantReply(prompt)
  let count = 0
  for (const token of tokenize(reply.intro)) {
    yield { event: 'token', data: html`<span class="token">${token}</span>` }
    count++
    await sleep(delayMs)
  }
  await sleep(delayMs * 4)
  yield { event: 'tool', data: toolCard(reply.tool) }
  await sleep(delayMs * 6)
  for (const token of tokenize(reply.answer)) {
    yield { event: 'token', data: html`<span class="token">${token}</span>` }
    count++
    await sleep(delayMs)
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  yield {
    event: 'done',
    data: html`<span class="ok">✓ ${count} tokens · 1 tool call · ${seconds} s</span>`,
  }
}

async function* missingReply(): AsyncGenerator<SSEEvent> {
  yield {
    event: 'done',
    data: html`<span class="warn">This reply is unknown or already streamed.</span>`,
  }
}

function exchange(id: string, prompt: string): SafeHtml {
  return html`<div class="msg user">${prompt}</div>
  <div class="msg assistant" id="reply-${id}" sse-connect="/chat/${id}/stream" sse-close="done">
    <div class="msg-body" sse-swap="token,tool" hx-swap="beforeend"></div>
    <footer class="msg-meta" sse-swap="done"><span class="typing" aria-label="typing"><i></i><i></i><i></i></span></footer>
  </div>`
}

/** `/chat`: a simulated assistant reply streamed token by token. */
export async function chat(app: FastifyInstance, options: { tokenDelayMs: number }): Promise<void> {
  const pending = new PendingStore<string>()

  app.get('/chat', async (request, reply) => {
    const stream = { topics: ['notifications'], cursor: request.broker.cursor() }
    const body = html`<section class="intro">
        <h1>Streaming text</h1>
        <p>A simulated assistant, generated locally: each token is an SSE event appended with <code>hx-swap="beforeend"</code>, a tool-use card arrives in between, and <code>done</code> closes the stream.</p>
      </section>
      <section class="card chat">
        <div id="chat-log" class="chat-log"></div>
        <form class="chat-form" hx-post="/chat" hx-target="#chat-log" hx-swap="beforeend" hx-on::after-request="if (event.detail.successful) this.reset()">
          <input name="prompt" maxlength="${MAX_PROMPT_LENGTH}" required autocomplete="off" placeholder="How do reconnects work?" aria-label="Your question">
          <button type="submit">Send</button>
        </form>
      </section>
      ${toasts()}`
    const footer = html`This page's own SSE connection: <code>${eventsPath(stream.topics)}</code>. Each reply streams on one more, which closes when the reply is done.`
    return sendHtml(reply, page({ title: 'Streaming text', section: 'chat', stream, body, footer }))
  })

  app.post('/chat', async (request, reply) => {
    const raw = (request.body as { prompt?: unknown } | null | undefined)?.prompt
    const prompt = typeof raw === 'string' ? raw.trim() : ''
    if (prompt.length === 0 || prompt.length > MAX_PROMPT_LENGTH) {
      return reply.code(400).send(`A question needs 1 to ${MAX_PROMPT_LENGTH} characters.`)
    }
    return sendHtml(reply, exchange(pending.add(prompt), prompt))
  })

  app.get<{ Params: { id: string } }>('/chat/:id/stream', (request, reply) => {
    const { id } = request.params
    const prompt = ID_PATTERN.test(id) ? pending.take(id) : undefined
    reply.sse(prompt === undefined ? missingReply() : streamReply(prompt, options.tokenDelayMs))
  })
}
