import { CONTENDER_IDS, CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { ratioSpread, type Spread } from './statistics.js'

/** One panel of the chart: a metric of one scenario as a ratio to the baseline. */
interface Panel {
  scenario: string
  metric: string
  title: (scenario: ScenarioResult | undefined) => string
  subtitle: (scenario: ScenarioResult | undefined) => string
}

const count = (value: number | string | undefined): string =>
  typeof value === 'number' ? value.toLocaleString('en-US') : (value ?? '?')

function fanOutSubtitle(scenario: ScenarioResult | undefined): string {
  if (scenario === undefined) return 'deliveries/s × the plain node:http loop · higher is better'
  const p = scenario.params
  return `${count(p.clients)} clients, ${count(p.events)} events of ${count(p['event bytes'])} B · deliveries/s × the plain node:http loop · higher is better`
}

const PANELS: readonly Panel[] = [
  {
    scenario: 'S1',
    metric: 'deliveriesPerSec',
    title: () => 'Isolated events: one event per event-loop turn',
    subtitle: fanOutSubtitle,
  },
  {
    scenario: 'S1b',
    metric: 'deliveriesPerSec',
    title: (s) =>
      `Bursts: ${count(s?.params['events per publish turn'] ?? 100)} events per event-loop turn`,
    subtitle: fanOutSubtitle,
  },
  {
    scenario: 'S3',
    metric: 'rssKB',
    title: () => 'Idle connections: memory per connection (nothing published)',
    subtitle: (s) =>
      `${s === undefined ? '' : `${count(s.params.connections)} idle connections · `}RSS per connection × the plain node:http loop · lower is better`,
  },
]

/** Our three packages first, then the baseline and the peers. */
const ORDER: readonly ContenderId[] = [...OURS, ...CONTENDER_IDS.filter((id) => !OURS.includes(id))]

const COLORS = { ours: '#2563eb', baseline: '#6b7280', peer: '#d97706' }
/** A white halo so that value labels stay readable across the dashed 1× line. */
const HALO = 'paint-order="stroke" stroke="#ffffff" stroke-width="3"'
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
const WIDTH = 960
const LABEL_X = 16
const PLOT_X = 290
const PLOT_WIDTH = 560
const BAR = 18
const STEP = 26

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  )
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}"${attributes ? ` ${attributes}` : ''}>${escapeXml(content)}</text>`
}

function colorOf(contender: ContenderId): string {
  if (OURS.includes(contender)) return COLORS.ours
  return contender === 'baseline' ? COLORS.baseline : COLORS.peer
}

/** A tick step of 1, 2 or 5 × 10^k giving at most ~6 ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 6
  const power = 10 ** Math.floor(Math.log10(raw))
  for (const factor of [1, 2, 5, 10]) if (raw <= factor * power) return factor * power
  return 10 * power
}

/** At most `max` characters, with an ellipsis when cut: a footer line must fit the picture. */
function shorten(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`
}

function ratioText(value: number): string {
  return `${value.toFixed(value >= 10 ? 1 : 2)}×`
}

function drawPanel(
  panel: Panel,
  scenario: ScenarioResult | undefined,
  contenders: readonly ContenderId[],
  top: number,
): { svg: string[]; height: number } {
  const svg: string[] = [
    text(LABEL_X, top + 18, panel.title(scenario), 'font-size="16" font-weight="600"'),
    text(LABEL_X, top + 38, panel.subtitle(scenario), 'font-size="12" fill="#4b5563"'),
  ]
  const barsTop = top + 54
  const spreads = new Map<ContenderId, Spread>(
    contenders.map((c) => [
      c,
      scenario === undefined
        ? { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
        : ratioSpread(scenario.samples, c, panel.metric, 'baseline'),
    ]),
  )
  const highest = Math.max(1.2, ...[...spreads.values()].filter((s) => s.n > 0).map((s) => s.max))
  const step = tickStep(highest)
  const axisMax = Math.ceil(highest / step) * step
  const x = (value: number): number => PLOT_X + (value / axisMax) * PLOT_WIDTH
  const plotBottom = barsTop + contenders.length * STEP
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    const at = x(tick).toFixed(1)
    svg.push(
      `<line x1="${at}" y1="${barsTop - 4}" x2="${at}" y2="${plotBottom}" stroke="#e5e7eb"/>`,
      text(
        Number(at),
        plotBottom + 16,
        `${Number(tick.toFixed(6))}×`,
        'font-size="12" text-anchor="middle" fill="#374151"',
      ),
    )
  }
  svg.push(
    `<line x1="${PLOT_X}" y1="${plotBottom}" x2="${PLOT_X + PLOT_WIDTH}" y2="${plotBottom}" stroke="#9ca3af"/>`,
    text(
      PLOT_X + PLOT_WIDTH / 2,
      plotBottom + 34,
      `× the plain node:http loop measured in the same round (${panel.metric === 'rssKB' ? 'lower' : 'higher'} is better)`,
      'font-size="12" text-anchor="middle" fill="#374151"',
    ),
  )
  for (const [i, contender] of contenders.entries()) {
    const y = barsTop + i * STEP
    const s = spreads.get(contender)!
    svg.push(
      text(PLOT_X - 10, y + 13, CONTENDER_LABELS[contender], 'font-size="13" text-anchor="end"'),
    )
    if (s.n === 0) {
      svg.push(
        text(
          PLOT_X + 6,
          y + 13,
          scenario === undefined ? 'TBD' : 'not measured',
          'font-size="12" fill="#6b7280"',
        ),
      )
      continue
    }
    const width = Math.max(1, x(s.median) - PLOT_X)
    svg.push(
      `<rect x="${PLOT_X}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" fill="${colorOf(contender)}"><title>${escapeXml(`${CONTENDER_LABELS[contender]}: ${ratioText(s.median)} (min ${ratioText(s.min)}, max ${ratioText(s.max)}, ${s.n} rounds)`)}</title></rect>`,
    )
    if (s.n > 1 && s.max > s.min) {
      const mid = y + BAR / 2
      svg.push(
        `<line x1="${x(s.min).toFixed(1)}" y1="${mid}" x2="${x(s.max).toFixed(1)}" y2="${mid}" stroke="#111827" stroke-width="1.5"/>`,
      )
    }
    svg.push(
      text(
        Math.max(x(s.median), x(s.max)) + 6,
        y + 13,
        ratioText(s.median),
        `font-size="12" font-weight="600" ${HALO}`,
      ),
    )
  }
  const one = x(1).toFixed(1)
  svg.push(
    `<line x1="${one}" y1="${barsTop - 8}" x2="${one}" y2="${plotBottom}" stroke="#111827" stroke-dasharray="4 3"/>`,
  )
  return { svg, height: plotBottom + 48 - top }
}

function legend(top: number): string[] {
  const items: [string, string][] = [
    [COLORS.ours, 'ours: @sse/core, @sse/fastify, @sse/express'],
    [COLORS.baseline, 'plain node:http write loop (= 1×, dashed line)'],
    [COLORS.peer, 'other SSE libraries'],
  ]
  let x = LABEL_X
  const svg: string[] = []
  for (const [color, label] of items) {
    svg.push(
      `<rect x="${x}" y="${top}" width="12" height="12" fill="${color}"/>`,
      text(x + 18, top + 11, label, 'font-size="12"'),
    )
    x += 30 + label.length * 6.6
  }
  return svg
}

/**
 * The headline chart as a standalone SVG document, drawn from `result`: isolated events (S1)
 * and bursts (S1b) as deliveries/s × the baseline, idle memory (S3) as RSS per connection ×
 * the baseline; every contender of the run (all seven, marked TBD, when none ran). Bars are
 * medians of per-round ratios, whiskers their min–max.
 */
export function benchmarkSvg(result: BenchResult): string {
  const present = ORDER.filter((c) =>
    result.scenarios.some((s) => s.samples.some((x) => x.contender === c)),
  )
  const contenders = present.length > 0 ? present : ORDER
  const body: string[] = [
    text(
      LABEL_X,
      30,
      'SSE fan-out on Node.js: our packages against the other SSE libraries',
      'font-size="19" font-weight="700"',
    ),
    ...legend(44),
  ]
  let top = 72
  for (const panel of PANELS) {
    const scenario = result.scenarios.find((s) => s.id === panel.scenario)
    const drawn = drawPanel(panel, scenario, contenders, top)
    body.push(...drawn.svg)
    top += drawn.height + 16
  }
  const { machine } = result
  const footer =
    result.scenarios.length === 0
      ? ['No results yet: pnpm bench --full draws this chart from its own results.']
      : [
          shorten(
            `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.date}: ${result.command}`,
            140,
          ),
          'Bars: median over rounds of the ratio to the baseline in the same round; whiskers: min–max over rounds.',
        ]
  for (const [i, line] of footer.entries()) {
    body.push(text(LABEL_X, top + 4 + i * 16, line, 'font-size="11" fill="#6b7280"'))
  }
  const height = top + 8 + footer.length * 16
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" role="img" aria-labelledby="chart-title">`,
    '<title id="chart-title">SSE fan-out benchmark: isolated events, bursts and idle memory, each as a ratio to a plain node:http write loop</title>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}
