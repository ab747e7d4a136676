import { html, type SafeHtml } from '@sse/core'
import type { FastifyInstance } from 'fastify'
import { page, sendHtml } from '../layout.js'
import type { PageSnapshots } from '../pageSnapshots.js'
import type { NoteStore } from './noteStore.js'
import { renderFeed } from './notifications.js'
import { sparkline } from './sparkline.js'
import { SystemMonitor, type SystemSample } from './systemMonitor.js'

export interface DashboardOptions {
  /** How often the process is sampled and the fragment published, in ms. */
  intervalMs: number
  notes: NoteStore
  snapshots: PageSnapshots
}

const MB = 1024 * 1024

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1)
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits)
}

/** Samples the sparklines show: a minute at the default interval. */
const WINDOW = 60

/**
 * The cards' conflation key: each sample renders the whole state of the `system` topic, so only the
 * newest matters. A dashboard whose connection lags gets the newest cards instead of every sample
 * (or being cut), and one that reconnects replays one sample, not every one it missed.
 */
export const SYSTEM_KEY = 'cards'

/**
 * The four metric cards, swapped into `#system` by `sse-swap="system"` on every sample.
 * `windowLabel` names a full window of samples ("last minute").
 */
export function renderSystem(samples: readonly SystemSample[], windowLabel: string): SafeHtml {
  const now = samples.at(-1)
  if (now === undefined) return html`<p class="muted">Waiting for the first sample…</p>`
  const series = (pick: (sample: SystemSample) => number) => samples.map(pick)
  // Until the window is full, the sparklines span the samples since the server started.
  const span =
    samples.length >= WINDOW
      ? windowLabel
      : `${samples.length} sample${samples.length === 1 ? '' : 's'} since the start`
  return html`<div class="metrics" data-seq="${now.seq}">
    <article class="card metric" data-metric="cpu">
      <h3>CPU</h3>
      <p class="value">${fixed(now.cpu)}<small>%</small></p>
      <p class="sub">of one core · load ${fixed(now.load1, 2)} on ${now.cores} cores</p>
      ${sparkline(
        series((s) => s.cpu),
        { label: `CPU over the ${span}`, max: 10 },
      )}
    </article>
    <article class="card metric" data-metric="memory">
      <h3>Memory</h3>
      <p class="value">${mb(now.rss)}<small> MB RSS</small></p>
      <p class="sub">heap ${mb(now.heapUsed)} / ${mb(now.heapTotal)} MB · host ${fixed(now.totalMemory / 1024 / MB, 1)} GB</p>
      ${sparkline(
        series((s) => s.heapUsed / MB),
        { label: `Heap used over the ${span}` },
      )}
    </article>
    <article class="card metric" data-metric="loop">
      <h3>Event-loop delay</h3>
      <p class="value">${fixed(now.loopMean, 2)}<small> ms</small></p>
      <p class="sub">p99 ${fixed(now.loopP99, 2)} ms</p>
      ${sparkline(
        series((s) => s.loopP99),
        { label: `Event-loop delay p99 over the ${span}`, max: 5 },
      )}
    </article>
    <article class="card metric" data-metric="streams">
      <h3>Open streams</h3>
      <p class="value">${now.streams}</p>
      <p class="sub">${now.delivered.toLocaleString('en-US')} frames delivered</p>
      ${sparkline(
        series((s) => s.streams),
        { label: `Open streams over the ${span}`, max: 4 },
      )}
    </article>
  </div>
  <p class="updated muted">Sampled at ${new Date(now.at).toISOString().slice(11, 19)} UTC · pid ${process.pid} · sparklines show the ${span}</p>`
}

/**
 * The live dashboard at `/`. The app samples the process on a timer and, while someone on this
 * instance watches, publishes the rendered cards to the `system` topic with the conflation key
 * {@link SYSTEM_KEY}: serialized once, the same bytes go to every open dashboard. The timer is
 * unref'd and cleared when the app closes.
 */
export async function dashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const broker = app.broker
  const monitor = new SystemMonitor(WINDOW)
  const windowSeconds = Math.round((WINDOW * options.intervalMs) / 1000)
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
        .publish(
          'system',
          { data: renderSystem(monitor.samples, windowLabel) },
          { key: SYSTEM_KEY },
        )
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
  // The same event as every sample: the cards are the whole state.
  options.snapshots.add('system', () => [
    { event: 'system', data: renderSystem(monitor.samples, windowLabel) },
  ])

  app.get('/', async (request, reply) => {
    monitor.latest(counters())
    // The cursor with the samples and notes rendered below: the stream starts right after them.
    const cursor = request.broker.cursor()
    const system = renderSystem(monitor.samples, windowLabel)
    const feed = renderFeed(options.notes)
    const body = html`<section class="intro">
        <h1>System dashboard</h1>
        <p>This server process, measured every ${options.intervalMs >= 1000 ? `${options.intervalMs / 1000} s` : `${options.intervalMs} ms`} and pushed as HTML fragments over Server-Sent Events. Open a second tab and watch the stream count.</p>
      </section>
      <section id="system" class="system" sse-swap="system" aria-live="off">
        ${system}
      </section>
      <section class="card feed" sse-swap="feed" hx-swap="none">
        <h2>Latest notifications <a class="small" href="/notifications">post one →</a></h2>
        ${feed}
      </section>`
    return sendHtml(
      reply,
      page({
        title: 'Dashboard',
        section: 'dashboard',
        stream: { topics: ['system', 'notifications'], cursor },
        body,
      }),
    )
  })
}
