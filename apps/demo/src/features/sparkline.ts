import { html, type SafeHtml } from '@sse/core'

export interface SparklineOptions {
  /** Accessible description, e.g. "CPU over the last minute". */
  label: string
  /** Upper bound of the y axis; at least the largest value. @default the largest value */
  max?: number
}

const WIDTH = 120
const HEIGHT = 32

function round(value: number): number {
  return Math.round(value * 10) / 10
}

/**
 * An inline SVG sparkline rendered on the server: a line and a soft area under it. Sent inside the
 * dashboard fragment, so the browser needs no charting code.
 *
 * The samples there are always span the whole width: a series that has just started (one sample
 * draws a flat line) reads as a chart from the first second, not as a mark at the right edge.
 * Once the caller keeps a full window, the chart scrolls.
 */
export function sparkline(values: readonly number[], options: SparklineOptions): SafeHtml {
  const series = values.length === 1 ? [values[0]!, values[0]!] : values
  const max = Math.max(options.max ?? 0, ...values, 1e-9)
  const step = WIDTH / Math.max(series.length - 1, 1)
  const points = series.map((value, i) => {
    const x = round(i * step)
    const y = round(HEIGHT - 1 - (Math.max(value, 0) / max) * (HEIGHT - 2))
    return `${x},${y}`
  })
  const line = points.join(' ')
  const area = points.length > 1 ? `0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}` : ''
  return html`<svg class="spark" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${options.label}" data-points="${values.length}">
    ${area ? html`<polygon class="spark-area" points="${area}"></polygon>` : ''}
    <polyline class="spark-line" points="${line}"></polyline>
  </svg>`
}
