import { metric, notes, precise, showRatio, sum, table } from './reportFormat.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { BUN_RATIO_NOTE, runtimeOf } from './runtimes.js'
import { SCALE_OUT_MANY, SCALE_OUT_ONE } from './scenarios/scaleOut.js'
import { scenarioTable } from './scenarioTables.js'
import { ratioSpread } from './statistics.js'
import { targetChecks } from './targetChecks.js'

function scenarioSection(result: ScenarioResult): string[] {
  const { header, rows } = scenarioTable(result)
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
    ...(result.failures ?? []).map((line) => `- **FAILED** ${line}`),
    ...result.method.map((line) => `- ${line}`),
    ...(result.samples.some((s) => runtimeOf(s.contender) === 'bun')
      ? [`- ${BUN_RATIO_NOTE}`]
      : []),
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

/** The whole report as markdown. */
export function markdownReport(result: BenchResult): string {
  const { machine } = result
  const node =
    machine.serverNode === undefined
      ? `Node ${machine.node}`
      : `Node ${machine.node} (contender servers on Node ${machine.serverNode})`
  const bun = machine.bun === undefined ? '' : `, Bun ${machine.bun}`
  const lines: string[] = [
    `Mode: ${result.mode}. Command: \`${result.command}\`. Machine: ${machine.cpus} × ${machine.cpuModel}, ${node}${bun}, ${machine.platform}, ${machine.date}.`,
    '',
  ]
  const failed = result.scenarios.filter((scenario) => (scenario.failures?.length ?? 0) > 0)
  if (failed.length > 0) {
    lines.push(
      '### Failed',
      '',
      ...failed.flatMap((scenario) =>
        (scenario.failures ?? []).map((line) => `- ${scenario.title}: ${line}`),
      ),
      '',
    )
  }
  const checks = targetChecks(result)
  if (checks.length > 0) {
    lines.push(
      '### Targets',
      '',
      ...table(
        ['Target', 'measured (median, min–max over rounds)', 'goal', 'status'],
        checks.map((check) => [
          check.target,
          check.measured,
          check.goal,
          check.passed === undefined ? '—' : check.passed ? '✅' : '❌',
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
