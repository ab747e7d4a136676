import { formatNumber } from './benchContext.js'
import { CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { ratioSpread, type Spread, spread, valuesOf } from './statistics.js'

const PEERS: readonly ContenderId[] = ['better-sse', 'fastify-sse', 'fastify-sse-v2']

function show(s: Spread, unit = ''): string {
  if (s.n === 0) return '—'
  const value = `${formatNumber(s.median)}${unit}`
  return s.n > 1 && s.min !== s.max
    ? `${value} (${formatNumber(s.min)}–${formatNumber(s.max)})`
    : value
}

function showRatio(s: Spread): string {
  if (s.n === 0) return '—'
  const value = `${s.median.toFixed(2)}×`
  return s.n > 1 && s.min !== s.max ? `${value} (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : value
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ]
}

function contendersOf(result: ScenarioResult): ContenderId[] {
  const seen: ContenderId[] = []
  for (const sample of result.samples)
    if (!seen.includes(sample.contender)) seen.push(sample.contender)
  return seen
}

function metric(result: ScenarioResult, contender: ContenderId, name: string, unit = ''): string {
  return show(spread(valuesOf(result.samples, contender, name)), unit)
}

function vsBaseline(result: ScenarioResult, contender: ContenderId, name: string): string {
  return showRatio(ratioSpread(result.samples, contender, name, 'baseline'))
}

/** The adapter's metric ÷ its framework floor's (same round), `—` for the others. */
function vsFloor(result: ScenarioResult, contender: ContenderId, name: string): string {
  if (contender !== 'express' && contender !== 'fastify') return ''
  return showRatio(ratioSpread(result.samples, contender, name, `${contender}-floor`))
}

function sum(result: ScenarioResult, contender: ContenderId, name: string): string {
  const values = valuesOf(result.samples, contender, name)
  return values.length === 0 ? '—' : formatNumber(values.reduce((a, b) => a + b, 0))
}

/** Errors and notes, one line per contender and text (rounds listed together). */
function notes(result: ScenarioResult): string[] {
  const rounds = new Map<string, number[]>()
  for (const sample of result.samples) {
    const label = CONTENDER_LABELS[sample.contender]
    const texts = [
      ...(sample.error === undefined ? [] : [`**error** ${sample.error}`]),
      ...sample.notes,
    ]
    for (const text of texts) {
      const key = `${label}\u0000${text}`
      rounds.set(key, [...(rounds.get(key) ?? []), sample.round])
    }
  }
  return [...rounds].map(([key, list]) => {
    const [label, text] = key.split('\u0000')
    const which = list.length === 1 ? `round ${list[0]}` : `rounds ${list.join(', ')}`
    return `- ${label}, ${which}: ${text}`
  })
}

/** Best peer's value of `name` in each round (highest). */
function bestPeer(result: ScenarioResult, name: string) {
  return (round: number): number | undefined => {
    const values = result.samples
      .filter((s) => s.round === round && PEERS.includes(s.contender) && name in s.metrics)
      .map((s) => s.metrics[name]!)
    return values.length === 0 ? undefined : Math.max(...values)
  }
}

function rowsFor(result: ScenarioResult): { header: string[]; rows: string[][] } {
  const contenders = contendersOf(result)
  const label = (c: ContenderId) => CONTENDER_LABELS[c]
  switch (result.id) {
    case 'S1':
      return {
        header: [
          'Contender',
          'deliveries/s',
          '× baseline',
          'server CPU ns/delivery',
          '× baseline',
          'lost (all rounds)',
          'reordered',
          'p99 in burst (ms)',
        ],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'deliveriesPerSec'),
          vsBaseline(result, c, 'deliveriesPerSec'),
          metric(result, c, 'cpuNsPerDelivery'),
          vsBaseline(result, c, 'cpuNsPerDelivery'),
          sum(result, c, 'lost'),
          sum(result, c, 'reordered'),
          metric(result, c, 'p99Ms'),
        ]),
      }
    case 'S2':
      return {
        header: [
          'Contender',
          'p50 (ms)',
          'p99 (ms)',
          'p99 × baseline',
          'p99 × framework floor',
          'max (ms)',
          'lost',
        ],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'p50Ms'),
          metric(result, c, 'p99Ms'),
          vsBaseline(result, c, 'p99Ms'),
          vsFloor(result, c, 'p99Ms'),
          metric(result, c, 'maxMs'),
          sum(result, c, 'lost'),
        ]),
      }
    case 'S3':
      return {
        header: [
          'Contender',
          'RSS KB/conn',
          '× baseline',
          'heap KB/conn',
          '× baseline',
          'heap × framework floor',
          'connect all (ms)',
        ],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'rssKB'),
          vsBaseline(result, c, 'rssKB'),
          metric(result, c, 'heapKB'),
          vsBaseline(result, c, 'heapKB'),
          vsFloor(result, c, 'heapKB'),
          metric(result, c, 'connectMs'),
        ]),
      }
    case 'S4':
      return {
        header: [
          'Contender',
          'healthy deliveries/s',
          '× own reference',
          '× baseline',
          'growth MB',
          'held for stalled MB (bound)',
          'peak RSS growth MB',
          'stalled: cut / caught up',
          'replay after reconnect (ms)',
        ],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'healthyRate'),
          show(spread(valuesOf(result.samples, c, 'rateVsReference'))),
          vsBaseline(result, c, 'healthyRate'),
          metric(result, c, 'growthMB'),
          `${metric(result, c, 'stalledHeldMB')}${OURS.includes(c) ? ` (≤ ${metric(result, c, 'boundMB')})` : ''}`,
          metric(result, c, 'peakRssGrowthMB'),
          `${sum(result, c, 'stalledCut')} / ${sum(result, c, 'stalledCaughtUp')}`,
          metric(result, c, 'replayMs'),
        ]),
      }
    case 'S5':
      return {
        header: ['Contender', 'catch-up (ms)', 'connect only (ms)', 'events per client'],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'catchUpMs'),
          metric(result, c, 'connectOnlyMs'),
          metric(result, c, 'eventsPerClient'),
        ]),
      }
    default:
      return { header: [], rows: [] }
  }
}

function scenarioSection(result: ScenarioResult): string[] {
  const { header, rows } = rowsFor(result)
  const params = Object.entries(result.params)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`)
    .join(', ')
  return [
    `### ${result.title}`,
    '',
    `Parameters: ${params}.`,
    '',
    ...table(header, rows),
    '',
    ...result.method.map((line) => `- ${line}`),
    ...notes(result),
    '',
  ]
}

function redisSection(memory: ScenarioResult, redis: ScenarioResult): string[] {
  const ratio = ratioSpread(
    redis.samples,
    'core',
    'p99Ms',
    (round) => memory.samples.find((s) => s.round === round)?.metrics.p99Ms,
  )
  const row = (name: string, result: ScenarioResult) => [
    name,
    metric(result, 'core', 'p50Ms'),
    metric(result, 'core', 'p99Ms'),
    sum(result, 'core', 'lost'),
    metric(result, 'core', 'catchUpMs'),
  ]
  const params = Object.entries(redis.params)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`)
    .join(', ')
  return [
    '### Redis: 2 instances',
    '',
    `Parameters: ${params}.`,
    '',
    ...table(
      ['Transport', 'p50 (ms)', 'p99 (ms)', 'lost', 'replay catch-up (ms)'],
      [row('in memory', memory), row('@sse/redis', redis)],
    ),
    '',
    `p99 Redis ÷ in memory (same round): **${showRatio(ratio)}**.`,
    '',
    ...redis.method.map((line) => `- ${line}`),
    ...notes(memory),
    ...notes(redis),
    '',
  ]
}

interface Check {
  target: string
  measured: Spread
  pass: (value: number) => boolean
  goal: string
}

function targetChecks(result: BenchResult): Check[] {
  const checks: Check[] = []
  const byId = (id: string) => result.scenarios.find((s) => s.id === id)
  const present = (scenario: ScenarioResult, c: ContenderId) =>
    scenario.samples.some((s) => s.contender === c)
  const s1 = byId('S1')
  if (s1 !== undefined) {
    for (const c of OURS.filter((c) => present(s1, c))) {
      const floor = c === 'core' ? 1 : 0.95
      checks.push({
        target: `S1 ${CONTENDER_LABELS[c]} vs baseline`,
        measured: ratioSpread(s1.samples, c, 'deliveriesPerSec', 'baseline'),
        pass: (v) => v >= floor,
        goal: `≥ ${floor.toFixed(2)}×`,
      })
      checks.push({
        target: `S1 ${CONTENDER_LABELS[c]} vs best peer`,
        measured: ratioSpread(s1.samples, c, 'deliveriesPerSec', bestPeer(s1, 'deliveriesPerSec')),
        pass: (v) => v >= 1.25,
        goal: '≥ 1.25×',
      })
    }
  }
  const s2 = byId('S2')
  if (s2 !== undefined) {
    for (const c of OURS.filter((c) => present(s2, c))) {
      checks.push({
        target: `S2 ${CONTENDER_LABELS[c]} p99 vs baseline`,
        measured: ratioSpread(s2.samples, c, 'p99Ms', 'baseline'),
        pass: (v) => v <= 1.1,
        goal: '≤ 1.10×',
      })
    }
  }
  const s3 = byId('S3')
  if (s3 !== undefined) {
    for (const c of OURS.filter((c) => present(s3, c))) {
      for (const [name, what] of [
        ['rssKB', 'RSS'],
        ['heapKB', 'heap'],
      ] as const) {
        checks.push({
          target: `S3 ${CONTENDER_LABELS[c]} ${what}/conn vs baseline`,
          measured: ratioSpread(s3.samples, c, name, 'baseline'),
          pass: (v) => v <= 1.1,
          goal: '≤ 1.10×',
        })
      }
    }
  }
  const s4 = byId('S4')
  if (s4 !== undefined) {
    for (const c of OURS.filter((c) => present(s4, c))) {
      checks.push({
        target: `S4 ${CONTENDER_LABELS[c]} healthy rate vs no-stall reference`,
        measured: spread(valuesOf(s4.samples, c, 'rateVsReference')),
        pass: (v) => v >= 0.9,
        goal: '≥ 0.90×',
      })
      const held = s4.samples
        .filter((s) => s.contender === c && 'stalledHeldMB' in s.metrics)
        .map((s) => s.metrics.stalledHeldMB! / (s.metrics.boundMB || 1))
      checks.push({
        target: `S4 ${CONTENDER_LABELS[c]} memory held for stalled ÷ bound`,
        measured: spread(held),
        pass: (v) => v <= 1,
        goal: '≤ 1.00',
      })
    }
  }
  return checks
}

/** The whole report as markdown. */
export function markdownReport(result: BenchResult): string {
  const lines: string[] = [
    `Mode: ${result.mode}. Command: \`${result.command}\`. Machine: ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}, ${result.machine.platform}, ${result.machine.date}.`,
    '',
  ]
  const checks = targetChecks(result)
  if (checks.length > 0) {
    lines.push(
      '### Targets',
      '',
      ...table(
        ['Target', 'measured (median, min–max over rounds)', 'goal', 'status'],
        checks.map((check) => [
          check.target,
          showRatio(check.measured),
          check.goal,
          check.measured.n === 0 ? '—' : check.pass(check.measured.median) ? '✅' : '❌',
        ]),
      ),
      '',
    )
  }
  const memory = result.scenarios.find((s) => s.id === 'R-memory')
  const redis = result.scenarios.find((s) => s.id === 'R-redis')
  for (const scenario of result.scenarios) {
    if (scenario.id.startsWith('R-')) continue
    lines.push(...scenarioSection(scenario))
  }
  if (memory !== undefined && redis !== undefined) lines.push(...redisSection(memory, redis))
  if (result.warnings.length > 0) {
    lines.push('### Warnings', '', ...result.warnings.map((w) => `- ${w}`), '')
  }
  return lines.join('\n')
}
