import type { ModeResult } from './modeResult.js'
import type { ScaleConfig } from './scaleConfig.js'

/** Everything a scale run found: what the report prints and `--json` writes. */
export interface ScaleResult {
  command: string
  machine: {
    cpus: number
    cpuModel: string
    memoryGB: number
    node: string
    platform: string
    date: string
  }
  config: ScaleConfig
  modes: ModeResult[]
  /** Summed RSS of every process of the run (Redis and the orchestrator included) at its peak, MB. */
  peakRssMB: number
  /** Every process the run started (Redis included). */
  pids: number[]
  /** Processes that were still running at the end and had to be killed. */
  leftovers: number[]
  /** Processes alive after that (should be none). */
  stillAlive: number[]
  durationS: number
}

const LABELS = { plain: 'plain `node:http` loop', ours: '`@sse/core` on `@sse/redis`' } as const

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–'
}

function ratio(ours: number | undefined, plain: number | undefined): string {
  if (ours === undefined || plain === undefined || !(plain > 0) || !Number.isFinite(ours)) {
    return '–'
  }
  return `${(ours / plain).toFixed(2)}×`
}

/** Rows of the figures table: label, the figure of a mode, digits, unit, the target. */
const FIGURES: ReadonlyArray<[string, (m: ModeResult) => number, number, string, string]> = [
  ['Connect time (every response head received)', (m) => m.connectMs / 1000, 1, ' s', ''],
  ['RSS per connection, server processes', (m) => m.rssPerConnectionKB, 2, ' KiB', '≤ 1.0×'],
  ['Heap per connection, server processes', (m) => m.heapPerConnectionKB, 2, ' KiB', ''],
  [
    'Idle CPU of the servers, per 10,000 connections',
    (m) => m.idleCpuPer10kPercent,
    3,
    ' % of a core',
    '< 2 %',
  ],
  ['Broadcast delivery, p50', (m) => m.p50Ms, 0, ' ms', ''],
  ['Broadcast delivery, p99', (m) => m.p99Ms, 0, ' ms', '< 1 s'],
  ['Broadcast delivery, slowest', (m) => m.maxMs, 0, ' ms', ''],
]

/** The report in markdown: figures with their ratio to the plain loop, then the accounting. */
export function scaleReport(result: ScaleResult): string {
  const { config, machine } = result
  const plain = result.modes.find((m) => m.mode === 'plain')
  const ours = result.modes.find((m) => m.mode === 'ours')
  const lines = [
    `### ${config.connections.toLocaleString('en')} connections: ${config.servers} server processes, ${config.clients} client processes`,
    '',
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GiB, Node ${machine.node}, ${machine.platform}, ${machine.date}. Command: \`${result.command}\`.`,
    `${config.broadcasts} broadcasts of ${config.size} bytes, ${config.gap} ms apart; idle CPU over ${config.idle} s; ${config.concurrency} connections opening at once per client process${config.partitions === undefined ? '' : `; partitions: ${config.partitions}`}.`,
    '',
    `| | ${result.modes.map((m) => LABELS[m.mode]).join(' | ')} | ours ÷ plain | target |`,
    `| --- | ${result.modes.map(() => '---:').join(' | ')} | ---: | --- |`,
  ]
  for (const [label, figure, digits, unit, target] of FIGURES) {
    const cells = result.modes.map((m) => `${fixed(figure(m), digits)}${unit}`)
    const r = ratio(ours && figure(ours), plain && figure(plain))
    lines.push(`| ${label} | ${cells.join(' | ')} | ${r} | ${target} |`)
  }
  lines.push(
    '',
    `| Accounting | ${result.modes.map((m) => LABELS[m.mode]).join(' | ')} |`,
    `| --- | ${result.modes.map(() => '---:').join(' | ')} |`,
    row(result, 'Connections opened', (m) => `${m.opened} of ${config.connections}`),
    row(result, 'Streams held by the servers', (m) => String(m.subscribers)),
    row(result, 'Each broadcast reached', (m) => m.broadcasts.map((b) => b.received).join(', ')),
    row(result, 'Each broadcast, last receipt after', (m) =>
      m.broadcasts.map((b) => `${b.allDeliveredMs.toFixed(0)} ms`).join(', '),
    ),
    row(result, 'Deliveries received / expected', (m) => `${m.received} / ${m.expected}`),
    row(result, 'Lost, gaps, reorders', (m) => `${m.lost}, ${m.gaps}, ${m.reorders}`),
    row(result, 'Connections open at the end', (m) => String(m.openAtEnd)),
    row(result, 'Servers RSS once connected', (m) => `${fixed(m.serversRssMB, 0)} MiB`),
    row(result, 'Server ports', (m) => m.ports.join(', ')),
    row(result, 'Client source addresses', (m) =>
      m.sourceAddresses.map((addresses) => addresses.join(' + ')).join(', '),
    ),
    '',
    `Processes: ${result.pids.length} started (Redis included), ${result.leftovers.length} killed as leftovers, ${result.stillAlive.length} still alive. Peak RSS of the whole run: ${fixed(result.peakRssMB, 0)} MiB. Took ${result.durationS.toFixed(0)} s.`,
  )
  for (const m of result.modes) {
    for (const failure of m.failures) lines.push(`- **${m.mode} failed:** ${failure}`)
  }
  return lines.join('\n')
}

function row(result: ScaleResult, label: string, cell: (m: ModeResult) => string): string {
  return `| ${label} | ${result.modes.map(cell).join(' | ')} |`
}
