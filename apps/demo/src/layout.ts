import { html, type SafeHtml } from '@sse/core'
import type { FastifyReply } from 'fastify'
import { assetUrls } from './assets.js'

const NAV = [
  { href: '/', label: 'Dashboard', section: 'dashboard' },
  { href: '/notifications', label: 'Notifications', section: 'notifications' },
  { href: '/games/1', label: 'Scoreboard', section: 'games' },
  { href: '/jobs', label: 'Jobs', section: 'jobs' },
  { href: '/chat', label: 'Streaming text', section: 'chat' },
  { href: '/logs', label: 'Log tail', section: 'logs' },
  { href: '/htmx4/notifications', label: 'htmx 4', section: 'htmx4' },
] as const

/** Which nav entry is highlighted. */
export type Section = (typeof NAV)[number]['section']

/** The page's one SSE connection. */
export interface PageStream {
  /**
   * Every topic the page needs. Every live part of the page listens on this connection; only
   * short-lived per-request streams (jobs, chat replies) open their own.
   */
  topics: readonly string[]
  /**
   * `request.broker.cursor()`, read in the same tick as the state the page renders: the stream
   * starts right after that state, so nothing published in between is missed or shown twice.
   */
  cursor: string | undefined
}

export interface PageOptions {
  title: string
  section: Section
  /** Main content. */
  body: SafeHtml
  stream?: PageStream
  /** Loads Alpine for a client-state island. */
  alpine?: boolean
  /** The page's own scripts, loaded deferred after the demo's `app.js` (htmx 2 pages). */
  scripts?: readonly string[]
  /**
   * htmx 4 instead of htmx 2 + htmx-ext-sse: the page opens its stream with `hx-sse:connect`, which
   * swaps every unnamed event into `target` with `swap`.
   */
  htmx4?: { target: string; swap: 'beforeend' | 'afterbegin' }
  /** Footer text. @default names the page's SSE connection */
  footer?: SafeHtml
}

function nav(section: Section): SafeHtml {
  return html`<nav class="nav" aria-label="Pages">
    ${NAV.map(
      (item) =>
        html`<a href="${item.href}"${item.section === section ? html` aria-current="page"` : ''}>${item.label}</a>`,
    )}
  </nav>`
}

/** `/events?topics=a,b`: the stream's URL as the footer shows it. */
export function eventsPath(topics: readonly string[]): string {
  return `/events?topics=${topics.join(',')}`
}

/** The URL the page connects to: its topics, and the cursor to start after. */
function streamUrl(stream: PageStream): string {
  const cursor =
    stream.cursor === undefined ? '' : `&lastEventId=${encodeURIComponent(stream.cursor)}`
  return eventsPath(stream.topics) + cursor
}

function scripts(options: PageOptions): SafeHtml {
  if (options.htmx4) {
    // Classic blocking scripts, in order: htmx 4 initialises on DOMContentLoaded (or in a
    // setTimeout once the document has loaded), and an extension that registers after that is
    // never applied. Blocking scripts in <head> run before the document finishes loading, so the
    // extension is always registered first, however late it arrives.
    return html`<script src="${assetUrls.htmx4}"></script>
    <script src="${assetUrls.htmx4Sse}"></script>
    <script src="${assetUrls.sseResume}"></script>
    <script src="${assetUrls.script}" defer></script>`
  }
  // `defer` keeps document order: the extension registers itself with htmx (htmx 2 initialises on
  // DOMContentLoaded, after every deferred script), and app.js registers the Alpine component
  // before Alpine starts.
  return html`<script src="${assetUrls.htmx}" defer></script>
    <script src="${assetUrls.htmxExtSse}" defer></script>
    <script src="${assetUrls.sseResume}" defer></script>
    <script src="${assetUrls.script}" defer></script>
    ${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
    ${options.alpine ? html`<script src="${assetUrls.alpine}" defer></script>` : ''}`
}

/**
 * The attributes of the element that opens the page's stream: the `.shell` wrapper, so that every
 * live part of the page shares it and the top bar's indicator can show its `data-sse-state`, which
 * `sse-resume.js` keeps current along with the URL's `lastEventId`. `data-resume` marks it.
 *
 * On htmx 2, `hx-trigger` makes the stream's last snapshot event and `sse-reset` reach
 * `sse-resume.js` (htmx-ext-sse reports only events something listens to). On htmx 4, an
 * `hx-trigger` would say when to connect: it has none, and hears every event anyway.
 */
function connectAttributes(options: PageOptions): SafeHtml {
  const stream = options.stream
  if (stream === undefined) return html``
  const url = streamUrl(stream)
  return options.htmx4
    ? html` hx-sse:connect="${url}" hx-target="${options.htmx4.target}" hx-swap="${options.htmx4.swap}" data-resume data-sse-state="connecting"`
    : html` hx-ext="sse" sse-connect="${url}" hx-trigger="sse:snapshot, sse:sse-reset" data-resume data-sse-state="connecting"`
}

/** A whole page, with its one SSE connection on the `.shell` wrapper. */
export function page(options: PageOptions): SafeHtml {
  const stream = options.stream
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${options.title} · SSE suite demo</title>
  <link rel="icon" href="${assetUrls.favicon}" type="image/svg+xml">
  <link rel="stylesheet" href="${assetUrls.style}">
  ${scripts(options)}
</head>
<body>
  <div class="shell"${connectAttributes(options)}>
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>SSE suite</a>
      ${nav(options.section)}
      ${stream ? html`<span class="live" title="State of this page's event stream"><span class="dot"></span><span class="live-label"></span></span>` : ''}
    </header>
    <main class="main">
      ${options.body}
    </main>
    <footer class="footer">
      ${
        options.footer ??
        (stream
          ? html`One SSE connection for this page: <code>${eventsPath(stream.topics)}</code>`
          : html`Served by Fastify with <code>@sse/fastify</code>.`)
      }
    </footer>
  </div>
</body>
</html>`
}

/** Escaped toast list for pages that show notifications without being the notifications page. */
export function toasts(): SafeHtml {
  return html`<ul class="toasts" sse-swap="notifications" hx-swap="afterbegin" aria-live="polite"></ul>`
}

/**
 * Sends markup as an HTML response. `SafeHtml` is a `String` object, which Fastify would otherwise
 * serialize as JSON.
 */
export function sendHtml(reply: FastifyReply, markup: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(markup.toString())
}
