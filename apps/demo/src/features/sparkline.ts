import { html, type SafeHtml } from '@sse/core'

export interface SparklineOptions {
  /** Accessible description, e.g. "CPU over the last minute". */
  label: string
  /** Upper bound of the y axis; at least the largest value. @default the largest value */
  max?: number
  /** Number of slots on the x axis, so a young series grows from the right. @default 60 */
  slots?: number
}

const WIDTH = 120
const HEIGHT = 32

function round(value: number): number {
  return Math.round(value * 10) / 10
}

/**
 * An inline SVG sparkline rendered on the server: a line and a soft area under it. Sent inside the
 * dashboard fragment, so the browser needs no charting code.
 */
export function sparkline(values: readonly number[], options: SparklineOptions): SafeHtml {
  const slots = Math.max(options.slots ?? 60, values.length, 2)
  const max = Math.max(options.max ?? 0, ...values, 1e-9)
  const step = WIDTH / (slots - 1)
  const start = slots - values.length
  const points = values.map((value, i) => {
    const x = round((start + i) * step)
    const y = round(HEIGHT - 1 - (Math.max(value, 0) / max) * (HEIGHT - 2))
    return `${x},${y}`
  })
  const line = points.join(' ')
  const first = points[0]?.split(',')[0] ?? '0'
  const area = values.length > 1 ? `${first},${HEIGHT} ${line} ${WIDTH},${HEIGHT}` : ''
  return html`<svg class="spark" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${options.label}" data-points="${values.length}">
    ${area ? html`<polygon class="spark-area" points="${area}"></polygon>` : ''}
    <polyline class="spark-line" points="${line}"></polyline>
  </svg>`
}
