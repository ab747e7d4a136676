import { html, type SafeHtml, type SSEEvent } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { assetUrls } from '../assets.js'
import { page, sendHtml } from '../layout.js'
import type { PageSnapshots } from '../pageSnapshots.js'
import type { LogFeed } from './logFeed.js'
import { renderLogLines } from './logLine.js'
import { isLogRate, LOG_TOPIC, LogPump, MAX_LOG_RATE, MIN_LOG_RATE } from './logPump.js'
import { LogStorm, MAX_STORM_LINES, parseStormLines, STORM_LINES } from './logStorm.js'

/** The rates the page offers, in lines per second. */
export const LOG_RATE_PRESETS = [5, 50, 500, 2000, 5000] as const

/** Rows the page keeps: older ones leave the DOM as new ones arrive. */
export const MAX_LOG_ROWS = 1000

/** The name of the event that tells every open page the log's new rate. */
export const LOG_RATE_EVENT = 'log-rate'

export interface LogTailOptions {
  feed: LogFeed
  /** Lines per second at the start. */
  rate: number
  /** How often a batch is written, in ms. */
  tickMs: number
  /** How long the log goes on after the last page left, in ms. */
  lingerMs: number
  /** How long an error storm blows, in ms: no other one starts meanwhile. */
  stormCooldownMs: number
  snapshots: PageSnapshots
}

/** The rate `<select>`'s options, with `rate` selected (added to the presets if it is not one). */
export function renderRateOptions(rate: number): SafeHtml {
  const rates = [...new Set<number>([...LOG_RATE_PRESETS, rate])].sort((a, b) => a - b)
  return html`${rates.map(
    (value) =>
      html`<option value="${value}"${value === rate ? html` selected` : ''}>${value.toLocaleString('en-US')}</option>`,
  )}`
}

/** Reads the posted rate: digits only, in range; `undefined` for anything else. */
export function parseLogRate(body: unknown): number | undefined {
  const value = (body as { rate?: unknown } | null | undefined)?.rate
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value)) return undefined
  const rate = Number(value)
  return isLogRate(rate) ? rate : undefined
}

function rateEvent(rate: number): SSEEvent {
  return { event: LOG_RATE_EVENT, data: renderRateOptions(rate) }
}

/**
 * What a page that cannot resume gets instead of the lines it missed: the current rate, and a
 * marker row saying where the log goes on. A log has no "whole state" to show, so the page says
 * plainly that it skipped lines, and its check counts them (see `public/logTail.js`).
 */
export function logSnapshot(feed: LogFeed, rate: number): SSEEvent[] {
  return [
    rateEvent(rate),
    {
      event: LOG_TOPIC,
      data: html`<p class="log-resume" data-source="${feed.source}" data-next-seq="${feed.nextSeq}">The server could not replay what this page missed (a restart, or history it no longer keeps): the log goes on from line ${feed.nextSeq}.</p>`,
    },
  ]
}

function stat(name: string, label: string, value: string): SafeHtml {
  return html`<div><dt>${label}</dt><dd data-stat="${name}">${value}</dd></div>`
}

/**
 * `/logs`: `tail -f` in the browser. A {@link LogPump} writes the log on a shared timer while
 * someone watches; each batch is one `logs` event that every open page appends. The page's script
 * keeps the last {@link MAX_LOG_ROWS} rows, checks each line's sequence number and shows the rate
 * it receives. `POST /logs/rate` sets the rate for everyone; `POST /logs/storm` writes an error
 * storm ({@link LogStorm}), thousands of lines in one turn.
 */
export async function logTail(app: FastifyInstance, options: LogTailOptions): Promise<void> {
  const { feed } = options
  const pump = new LogPump({
    broker: app.broker,
    feed,
    rate: options.rate,
    tickMs: options.tickMs,
    lingerMs: options.lingerMs,
  })
  pump.start()
  app.addHook('onClose', async () => pump.stop())
  const storm = new LogStorm({ broker: app.broker, feed, cooldownMs: options.stormCooldownMs })
  options.snapshots.add(LOG_TOPIC, () => logSnapshot(feed, pump.rate))

  app.post('/logs/rate', async (request, reply) => {
    const rate = parseLogRate(request.body)
    if (rate === undefined) {
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send(
          `A rate is a whole number of lines per second from ${MIN_LOG_RATE} to ${MAX_LOG_RATE}.`,
        )
    }
    pump.setRate(rate)
    // Every open page's rate control follows, this one included.
    await request.broker.publish(LOG_TOPIC, rateEvent(rate))
    return reply.code(204).send()
  })

  app.post('/logs/storm', async (request, reply) => {
    reply.type('text/plain; charset=utf-8')
    const lines = parseStormLines(request.body)
    if (lines === undefined) {
      return reply
        .code(400)
        .send(`A storm is a whole number of lines from 1 to ${MAX_STORM_LINES}.`)
    }
    const wait = storm.retryAfterMs
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000)
      return reply
        .code(429)
        .header('retry-after', String(seconds))
        .send(`A storm is blowing: the next one may start in ${seconds} s.`)
    }
    const report = storm.blow(lines)
    if (report === undefined) return reply.code(503).send('The log has stopped.')
    const failed = await report.failed
    if (failed > 0) {
      return reply
        .code(503)
        .send(
          `The transport lost ${failed} of ${report.events} events: the pages count their lines as missed.`,
        )
    }
    const megabytes = (report.bytes / 1e6).toFixed(1)
    return reply.send(
      `Lines ${report.from} to ${report.to}: ${lines.toLocaleString('en-US')} errors, ${megabytes} MB in ${report.events} events, published in one turn.`,
    )
  })

  app.get('/logs', async (request, reply) => {
    // The cursor, the lines and the next number in one tick: the stream starts right after them.
    const cursor = request.broker.cursor()
    const recent = feed.recent()
    const lines = recent.length > 0 ? renderLogLines(recent) : html``
    const body = html`<section class="intro">
        <h1>Log tail</h1>
        <p><code>tail -f</code> in the browser. The server writes its log in batches on one shared timer, while someone watches, and publishes each batch once as an HTML fragment that every open page appends. This page keeps the last ${MAX_LOG_ROWS.toLocaleString('en-US')} lines, checks every line's sequence number, and measures what it receives. An error storm writes ${STORM_LINES.toLocaleString('en-US')} lines, over a megabyte, in one turn of the server's event loop: the page gets every one, on the same connection.</p>
      </section>
      <section class="card log-card">
        <div class="log-toolbar">
          <form class="log-rate" hx-post="/logs/rate" hx-trigger="change" hx-swap="none">
            <label for="log-rate">The server writes</label>
            <select id="log-rate" name="rate" sse-swap="${LOG_RATE_EVENT}" hx-swap="innerHTML">${renderRateOptions(pump.rate)}</select>
            <span>lines/s</span>
          </form>
          <form class="log-storm" hx-post="/logs/storm" hx-swap="none" hx-disabled-elt="find button">
            <input type="hidden" name="lines" value="${STORM_LINES}">
            <button type="submit" class="ghost">Error storm: ${STORM_LINES.toLocaleString('en-US')} lines at once</button>
            <output id="log-storm-status" class="log-storm-status" aria-live="polite"></output>
          </form>
          <dl id="log-stats" class="log-stats">
            ${stat('rate', 'Receiving', '–')}
            ${stat('received', 'Received', '0')}
            ${stat('missing', 'Missed', '0')}
            ${stat('duplicates', 'Twice', '0')}
            ${stat('reconnects', 'Reconnects', '0')}
          </dl>
        </div>
        <div class="log-view">
          <div id="log" class="log" role="log" aria-live="off" sse-swap="${LOG_TOPIC}" hx-swap="beforeend" data-source="${feed.source}" data-next-seq="${feed.nextSeq}" data-max-rows="${MAX_LOG_ROWS}">${lines}</div>
        </div>
      </section>`
    return sendHtml(
      reply,
      page({
        title: 'Log tail',
        section: 'logs',
        stream: { topics: [LOG_TOPIC], cursor },
        scripts: [assetUrls.logTail],
        body,
      }),
    )
  })
}
