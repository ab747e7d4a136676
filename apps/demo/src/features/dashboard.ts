import { html, type SafeHtml } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { page, sendHtml } from '../layout.js'
import type { NoteStore } from './noteStore.js'
import { renderFeed } from './notifications.js'
import { sparkline } from './sparkline.js'
import { SystemMonitor, type SystemSample } from './systemMonitor.js'

export interface DashboardOptions {
  /** How often the process is sampled and the fragment published, in ms. */
  intervalMs: number
  notes: NoteStore
}

const MB = 1024 * 1024

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1)
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits)
}

/** The four metric cards, swapped into `#system` by `sse-swap="system"` on every sample. */
export function renderSystem(samples: readonly SystemSample[], windowLabel: string): SafeHtml {
  const now = samples.at(-1)
  if (now === undefined) return html`<p class="muted">Waiting for the first sample…</p>`
  const series = (pick: (sample: SystemSample) => number) => samples.map(pick)
  return html`<div class="metrics" data-seq="${now.seq}">
    <article class="card metric" data-metric="cpu">
      <h3>CPU</h3>
      <p class="value">${fixed(now.cpu)}<small>%</small></p>
      <p class="sub">of one core · load ${fixed(now.load1, 2)} on ${now.cores} cores</p>
      ${sparkline(
        series((s) => s.cpu),
        { label: `CPU over the ${windowLabel}`, max: 10 },
      )}
    </article>
    <article class="card metric" data-metric="memory">
      <h3>Memory</h3>
      <p class="value">${mb(now.rss)}<small> MB RSS</small></p>
      <p class="sub">heap ${mb(now.heapUsed)} / ${mb(now.heapTotal)} MB · host ${fixed(now.totalMemory / 1024 / MB, 1)} GB</p>
      ${sparkline(
        series((s) => s.heapUsed / MB),
        { label: `Heap used over the ${windowLabel}` },
      )}
    </article>
    <article class="card metric" data-metric="loop">
      <h3>Event-loop delay</h3>
      <p class="value">${fixed(now.loopMean, 2)}<small> ms</small></p>
      <p class="sub">p99 ${fixed(now.loopP99, 2)} ms</p>
      ${sparkline(
        series((s) => s.loopP99),
        { label: `Event-loop delay p99 over the ${windowLabel}`, max: 5 },
      )}
    </article>
    <article class="card metric" data-metric="streams">
      <h3>Open streams</h3>
      <p class="value">${now.streams}</p>
      <p class="sub">${now.delivered.toLocaleString('en-US')} frames delivered</p>
      ${sparkline(
        series((s) => s.streams),
        { label: `Open streams over the ${windowLabel}`, max: 4 },
      )}
    </article>
  </div>
  <p class="updated muted">Sampled at ${new Date(now.at).toISOString().slice(11, 19)} UTC · pid ${process.pid} · sparklines show the ${windowLabel}</p>`
}

/**
 * The live dashboard at `/`. The app samples the process on a timer and, while someone on this
 * instance watches, publishes the rendered cards to the `system` topic: serialized once, the same
 * bytes go to every open dashboard. The timer is unref'd and cleared when the app closes.
 */
export async function dashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const broker = app.broker
  const monitor = new SystemMonitor(60)
  const windowSeconds = Math.round((60 * options.intervalMs) / 1000)
  const windowLabel = windowSeconds === 60 ? 'last minute' : `last ${windowSeconds} s`
  const counters = () => {
    const stats = broker.stats()
    return { streams: stats.streams, delivered: stats.delivered }
  }

  const timer = setInterval(() => {
    monitor.sample(counters())
    if (broker.isClosed || broker.subscribers('system') === 0) return
    try {
      broker
        .publish('system', { data: renderSystem(monitor.samples, windowLabel) })
        .catch((error: unknown) => app.log.warn({ err: error }, 'dashboard publish failed'))
    } catch (error) {
      app.log.warn({ err: error }, 'dashboard publish failed')
    }
  }, options.intervalMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    monitor.stop()
  })

  app.get('/', async (_request, reply) => {
    monitor.latest(counters())
    const body = html`<section class="intro">
        <h1>System dashboard</h1>
        <p>This server process, measured every ${options.intervalMs >= 1000 ? `${options.intervalMs / 1000} s` : `${options.intervalMs} ms`} and pushed as HTML fragments over Server-Sent Events. Open a second tab and watch the stream count.</p>
      </section>
      <section id="system" class="system" sse-swap="system" aria-live="off">
        ${renderSystem(monitor.samples, windowLabel)}
      </section>
      <section class="card feed" hx-get="/notes?view=feed" hx-trigger="sse:sse-reset" hx-target="#feed" hx-swap="outerHTML">
        <h2>Latest notifications <a class="small" href="/notifications">post one →</a></h2>
        ${renderFeed(options.notes)}
      </section>`
    return sendHtml(
      reply,
      page({ title: 'Dashboard', section: 'dashboard', topics: ['system', 'notifications'], body }),
    )
  })
}
