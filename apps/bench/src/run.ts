/**
 * The benchmark orchestrator: `node dist/run.js [--full | --smoke] [options]`.
 *
 *   --full                 the whole set (~15–25 min); default is the quick set (a few minutes)
 *   --smoke                a few seconds per contender, for the CI smoke test (times nothing)
 *   --only=S1,S3,redis     scenarios to run (S1 S2 S3 S4 S5 redis)
 *   --contenders=core,baseline
 *   --s1.clients=500       any scenario parameter (see benchConfig.ts); --workers=N
 *   --json=path            write the raw results
 *   --md=path              write the markdown report (it is printed to stdout as well)
 *   --cpu-prof=dir         write a V8 CPU profile of every contender server into dir
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { REDIS_SERVER, redisServerInstalled, startRedis } from '@sse/testkit/redisServer'
import { applyOverride, type BenchConfig, configFor, type Mode } from './benchConfig.js'
import type { BenchContext } from './benchContext.js'
import { LoadGenerator } from './loadGenerator.js'
import { markdownReport } from './markdownReport.js'
import { CONTENDER_IDS, type ContenderId, FLOOR_IDS } from './protocol.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { fanOutThroughput } from './scenarios/fanOutThroughput.js'
import { idleCapacity } from './scenarios/idleCapacity.js'
import { latency } from './scenarios/latency.js'
import { redisScenario } from './scenarios/redisScenario.js'
import { replay } from './scenarios/replay.js'
import { slowConsumers } from './scenarios/slowConsumers.js'
import { killAllChildren, spawnNode } from './serverProcess.js'

const SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'S5', 'redis'] as const
type ScenarioId = (typeof SCENARIOS)[number]

interface Options {
  mode: Mode
  config: BenchConfig
  only: ScenarioId[]
  contenders: ContenderId[]
  json: string | undefined
  md: string | undefined
  cpuProfileDir: string | undefined
}

function parseArgs(argv: readonly string[]): Options {
  const flags = argv.filter((arg) => arg !== '--')
  const mode: Mode = flags.includes('--smoke')
    ? 'smoke'
    : flags.includes('--full')
      ? 'full'
      : 'quick'
  const options: Options = {
    mode,
    config: configFor(mode),
    only: [...SCENARIOS],
    contenders: [...CONTENDER_IDS],
    json: undefined,
    md: undefined,
    cpuProfileDir: undefined,
  }
  for (const flag of flags) {
    if (flag === '--full' || flag === '--smoke' || flag === '--quick') continue
    const match = /^--([\w.-]+)=(.*)$/.exec(flag)
    if (match === null) throw new Error(`unknown argument "${flag}" (see the top of src/run.ts)`)
    const [, key, value] = match as unknown as [string, string, string]
    if (key === 'only') {
      options.only = value.split(',').map((id) => {
        const found = SCENARIOS.find((s) => s.toLowerCase() === id.toLowerCase())
        if (found === undefined) throw new Error(`--only: unknown scenario "${id}"`)
        return found
      })
    } else if (key === 'contenders') {
      options.contenders = value.split(',').map((id) => {
        if (![...CONTENDER_IDS, ...FLOOR_IDS].includes(id as ContenderId)) {
          throw new Error(`--contenders: unknown contender "${id}" (${CONTENDER_IDS.join(', ')})`)
        }
        return id as ContenderId
      })
      // Ratios need the baseline of the same run.
      if (!options.contenders.includes('baseline')) options.contenders.unshift('baseline')
    } else if (key === 'json') options.json = value
    else if (key === 'md') options.md = value
    else if (key === 'cpu-prof') options.cpuProfileDir = value
    else applyOverride(options.config, key, value)
  }
  return options
}

function fdLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const text = execFileSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim()
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text)
  }
  return { soft: read('-Sn'), hard: read('-Hn') }
}

/**
 * Each process (the load generator, each server) needs one fd per connection plus a few
 * hundred. Raise the soft limit by re-executing through `sh -c 'ulimit -n …'` when the hard
 * limit allows; otherwise shrink S3 and say so.
 */
function ensureFdLimit(options: Options, warnings: string[]): number | undefined {
  const needed = options.config.s3.connections + 1024
  const { soft, hard } = fdLimits()
  if (soft >= needed) return undefined
  if (hard >= needed && process.env.SSE_BENCH_FD_RAISED === undefined) {
    // Children (servers too) inherit the raised limit; the flag stops a second re-execution.
    process.env.SSE_BENCH_FD_RAISED = '1'
    const child = spawnNode(
      [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      {
        fdLimit: needed,
        stdio: 'inherit',
      },
    )
    child.on('exit', (code) => process.exit(code ?? 1))
    return Number.NaN
  }
  const connections = Math.max(100, Math.floor((Math.min(soft, hard) - 1024) / 100) * 100)
  warnings.push(
    `ulimit -n is ${soft} (hard ${hard}); S3 needs ${needed} per process, so it ran with ${connections} connections instead of ${options.config.s3.connections}. Raise the limit (ulimit -n ${needed}) for the full figure.`,
  )
  options.config.s3.connections = connections
  return undefined
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const warnings: string[] = []
  if (Number.isNaN(ensureFdLimit(options, warnings))) return
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`)
  }
  if (options.cpuProfileDir !== undefined) mkdirSync(options.cpuProfileDir, { recursive: true })
  const load = new LoadGenerator(options.config.workers)
  const context: BenchContext = {
    load,
    serverFile: fileURLToPath(new URL('./server.js', import.meta.url)),
    contenders: options.contenders,
    cpuProfileDir: options.cpuProfileDir,
    log,
  }
  const scenarios: ScenarioResult[] = []
  const started = Date.now()
  try {
    for (const id of options.only) {
      log(`--- ${id} ---`)
      if (id === 'S1') scenarios.push(await fanOutThroughput(context, options.config.s1))
      else if (id === 'S2') scenarios.push(await latency(context, options.config.s2))
      else if (id === 'S3') scenarios.push(await idleCapacity(context, options.config.s3))
      else if (id === 'S4') scenarios.push(await slowConsumers(context, options.config.s4))
      else if (id === 'S5') scenarios.push(await replay(context, options.config.s5))
      else if (id === 'redis') {
        if (!options.contenders.includes('core')) continue
        if (!redisServerInstalled()) {
          warnings.push(`Redis scenario skipped: ${REDIS_SERVER} not found.`)
          continue
        }
        const redis = await startRedis()
        try {
          const { memory, redis: overRedis } = await redisScenario(
            context,
            options.config.redis,
            redis.url,
          )
          scenarios.push(memory, overRedis)
        } finally {
          await redis.stop()
        }
      }
    }
  } finally {
    await load.terminate()
    killAllChildren()
  }
  const cpu = cpus()
  const result: BenchResult = {
    mode: options.mode,
    command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    },
    scenarios,
    warnings,
  }
  const markdown = markdownReport(result)
  log(`--- done in ${((Date.now() - started) / 1000).toFixed(0)} s ---`)
  process.stdout.write(`${markdown}\n`)
  if (options.json !== undefined)
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`)
  if (options.md !== undefined) writeFileSync(options.md, `${markdown}\n`)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren()
    process.exit(130)
  })
}

main().catch((error: unknown) => {
  killAllChildren()
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
