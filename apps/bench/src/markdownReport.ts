import { CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import {
  contendersOf,
  metric,
  notes,
  precise,
  show,
  showRatio,
  sum,
  table,
  vsBaseline,
  vsFloor,
} from './reportFormat.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { SCALE_OUT_MANY, SCALE_OUT_ONE } from './scenarios/scaleOut.js'
import { ratioSpread, spread, valuesOf } from './statistics.js'
import { targetChecks } from './targetChecks.js'

function rowsFor(result: ScenarioResult): { header: string[]; rows: string[][] } {
  const contenders = contendersOf(result)
  const label = (c: ContenderId) => CONTENDER_LABELS[c]
  switch (result.id) {
    case 'S1':
    case 'S1b':
      return {
        header: [
          'Contender',
          'deliveries/s',
          '× baseline',
          'server CPU ns/delivery',
          '× baseline',
          'write syscalls/delivery',
          'lost (all rounds)',
          'reordered',
          'p99 while publishing (ms)',
        ],
        rows: contenders.map((c) => [
          label(c),
          metric(result, c, 'deliveriesPerSec'),
          vsBaseline(result, c, 'deliveriesPerSec'),
          metric(result, c, 'cpuNsPerDelivery'),
          vsBaseline(result, c, 'cpuNsPerDelivery'),
          metric(result, c, 'writeSyscallsPerDelivery', '', precise),
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
/** The whole report as markdown. */
/** Scale-out: N processes against one, each row from its own result, ratios within a round. */
function scaleOutSection(one: ScenarioResult, many: ScenarioResult): string[] {
  const processes = Number(many.params.processes)
  const sameRound = (name: string) => (round: number) =>
    one.samples.find((s) => s.round === round)?.metrics[name]
  const row = (name: string, result: ScenarioResult, ratios: boolean) => [
    name,
    metric(result, 'core', 'deliveriesPerSec'),
    ratios
      ? showRatio(
          ratioSpread(result.samples, 'core', 'deliveriesPerSec', sameRound('deliveriesPerSec')),
        )
      : '1.00×',
    metric(result, 'core', 'p99Ms'),
    ratios ? showRatio(ratioSpread(result.samples, 'core', 'p99Ms', sameRound('p99Ms'))) : '1.00×',
    metric(result, 'core', 'cpuNsPerDelivery'),
    metric(result, 'core', 'writeSyscallsPerDelivery', '', precise),
    sum(result, 'core', 'lost'),
    sum(result, 'core', 'reordered'),
  ]
  const params = Object.entries(many.params)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`)
    .join(', ')
  return [
    `### Scale-out: ${processes} processes over Redis`,
    '',
    `Parameters: ${params}.`,
    '',
    ...table(
      [
        '@sse/core over @sse/redis',
        'deliveries/s',
        '× one process',
        'p99 (ms)',
        '× one process',
        'server CPU ns/delivery (all processes)',
        'write syscalls/delivery',
        'lost (all rounds)',
        'reordered',
      ],
      [row('one process', one, false), row(`${processes} processes`, many, processes !== 1)],
    ),
    '',
    ...many.method.map((line) => `- ${line}`),
    ...notes(one),
    ...notes(many),
    '',
  ]
}

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
  const byId = (id: string) => result.scenarios.find((s) => s.id === id)
  const memory = byId('R-memory')
  const redis = byId('R-redis')
  const one = byId(SCALE_OUT_ONE)
  const many = byId(SCALE_OUT_MANY)
  for (const scenario of result.scenarios) {
    if (scenario.id.startsWith('R-') || scenario.id.startsWith('scaleout')) continue
    lines.push(...scenarioSection(scenario))
  }
  if (memory !== undefined && redis !== undefined) lines.push(...redisSection(memory, redis))
  if (one !== undefined && many !== undefined) lines.push(...scaleOutSection(one, many))
  const ran = Object.entries(result.durations ?? {})
  if (ran.length > 0) {
    const total = ran.reduce((sum, [, seconds]) => sum + seconds, 0)
    lines.push(
      `Run time: ${ran.map(([id, seconds]) => `${id} ${seconds} s`).join(', ')}; ${total} s in all.`,
      '',
    )
  }
  if (result.warnings.length > 0) {
    lines.push('### Warnings', '', ...result.warnings.map((w) => `- ${w}`), '')
  }
  return lines.join('\n')
}
