import { html, type SafeHtml } from '@sse/core'
import type { FastifyReply } from 'fastify'
import { assetUrls } from './assets.js'

const NAV = [
  { href: '/', label: 'Dashboard', section: 'dashboard' },
  { href: '/notifications', label: 'Notifications', section: 'notifications' },
  { href: '/games/1', label: 'Scoreboard', section: 'games' },
  { href: '/jobs', label: 'Jobs', section: 'jobs' },
  { href: '/chat', label: 'Streaming text', section: 'chat' },
  { href: '/htmx4/notifications', label: 'htmx 4', section: 'htmx4' },
] as const

/** Which nav entry is highlighted. */
export type Section = (typeof NAV)[number]['section']

export interface PageOptions {
  title: string
  section: Section
  /** Main content. */
  body: SafeHtml
  /**
   * Topics of the page's one SSE connection (htmx 2 pages). Every live part of the page listens on
   * this connection; only short-lived per-request streams (jobs, chat replies) open their own.
   */
  topics?: readonly string[]
  /** Loads Alpine for a client-state island. */
  alpine?: boolean
  /** htmx 4 instead of htmx 2 + htmx-ext-sse (the page then opens its stream with `hx-sse:connect`). */
  htmx4?: boolean
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

function scripts(options: PageOptions): SafeHtml {
  if (options.htmx4) {
    return html`<script src="${assetUrls.htmx4}" defer></script>
    <script src="${assetUrls.htmx4Sse}" defer></script>`
  }
  // Order matters: the extension registers itself with htmx, and app.js registers the Alpine
  // component before Alpine starts. `defer` keeps document order.
  return html`<script src="${assetUrls.htmx}" defer></script>
    <script src="${assetUrls.htmxExtSse}" defer></script>
    <script src="${assetUrls.script}" defer></script>
    ${options.alpine ? html`<script src="${assetUrls.alpine}" defer></script>` : ''}`
}

/**
 * A whole page. On htmx 2 pages the `.shell` wrapper holds the page's single `sse-connect`, so every
 * `sse-swap` and `hx-trigger="sse:..."` inside shares one EventSource. `data-resume` marks it for
 * app.js, which keeps the URL's `lastEventId` current; `hx-trigger="sse:sse-reset"` makes the reset
 * event visible to that script too.
 */
export function page(options: PageOptions): SafeHtml {
  const topics = options.topics ?? []
  const connect =
    topics.length > 0
      ? html` hx-ext="sse" sse-connect="/events?topics=${topics.join(',')}" data-resume hx-trigger="sse:sse-reset" data-sse-state="connecting"`
      : ''
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
  <div class="shell"${connect}>
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>SSE suite</a>
      ${nav(options.section)}
      ${topics.length > 0 ? html`<span class="live" title="State of this page's event stream"><span class="dot"></span><span class="live-label"></span></span>` : ''}
    </header>
    <main class="main">
      ${options.body}
    </main>
    <footer class="footer">
      ${
        options.footer ??
        (topics.length > 0
          ? html`One SSE connection for this page: <code>/events?topics=${topics.join(',')}</code>`
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
