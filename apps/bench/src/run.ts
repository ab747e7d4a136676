/**
 * The benchmark orchestrator: `node dist/run.js [--full | --smoke] [options]`.
 *
 *   --full                 the whole set (~50 min); default is the quick set (~10 min)
 *   --smoke                a few seconds per contender, for the CI smoke test (times nothing)
 *   --only=S1,S1b,redis    scenarios to run (S1 S1b S2 S3 S4 S5 S6 redis scaleout)
 *   --contenders=core,baseline
 *                          contenders to run (the baseline is always added; the floors and the
 *                          `-response` twins of ours may be named too, and the Fetch group, for
 *                          S1, S1b, S2 and S3 only: fetch, fetch-web, hono-sse (on Node),
 *                          fetch-bun, hono-sse-bun (on Bun, with baseline-bun added))
 *   --s1.clients=500       any scenario parameter (see benchConfig.ts); --workers=N,
 *                          --scaleout.processes=N, lists as --s2.rates=20,100
 *   --node=24              run the contender servers on that Node major (through npx, as .ci/run
 *                          does); the orchestrator and the load generator stay on this one
 *   --bun=path             the Bun binary of the Bun contenders (default: the bun npm package's)
 *   --json=path            write the raw results
 *   --md=path              write the markdown report (it is printed to stdout as well)
 *   --svg=path             write the chart (isolated, bursts, idle memory); a complete --full run
 *                          writes docs/benchmarks.svg unless --svg= (empty) is given
 *   --cpu-prof=dir         write a V8 CPU profile of every contender server into dir
 *
 * Relative paths are taken from the directory `pnpm bench` was started in (INIT_CWD).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  REDIS_SERVER,
  type RedisServer,
  redisServerInstalled,
  startRedis,
} from '@sse/testkit/redisServer'
import { applyOverride, type BenchConfig, configFor, type Mode } from './benchConfig.js'
import type { BenchContext } from './benchContext.js'
import { type BunBinary, bunBinaryOf } from './bunBinary.js'
import { LoadGenerator } from './loadGenerator.js'
import { markdownReport } from './markdownReport.js'
import {
  ALL_CONTENDER_IDS,
  CONTENDER_IDS,
  type ContenderId,
  RESPONSE_PATH_IDS,
} from './protocol.js'
import type { BenchResult, ScenarioResult } from './results.js'
import { FETCH_SCENARIOS, isFetchGroup, runtimeOf, withPlainLoops } from './runtimes.js'
import { fanOutThroughput } from './scenarios/fanOutThroughput.js'
import { idleCapacity } from './scenarios/idleCapacity.js'
import { latency } from './scenarios/latency.js'
import { redisScenario } from './scenarios/redisScenario.js'
import { replay } from './scenarios/replay.js'
import { scaleOut } from './scenarios/scaleOut.js'
import { singleReader } from './scenarios/singleReader.js'
import { slowConsumers } from './scenarios/slowConsumers.js'
import { ownMajor, type ServerNode, serverNodeOf } from './serverNode.js'
import { killAllChildren, spawnNode } from './serverProcess.js'
import { benchmarkSvg } from './svgChart.js'

const SCENARIOS = ['S1', 'S1b', 'S2', 'S3', 'S4', 'S5', 'S6', 'redis', 'scaleout'] as const
type ScenarioId = (typeof SCENARIOS)[number]

interface Options {
  mode: Mode
  config: BenchConfig
  only: ScenarioId[]
  contenders: ContenderId[]
  json: string | undefined
  md: string | undefined
  svg: string | undefined
  cpuProfileDir: string | undefined
  /** `--node=24`: the Node major of the contender servers. */
  nodeMajor: number | undefined
  /** `--bun=<path>`: the Bun binary of the Bun contenders. */
  bunPath: string | undefined
}

/** Where `pnpm bench` was started (pnpm runs the script in apps/bench). */
function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path)
}

/** The workspace root: the nearest directory above this file with a pnpm-workspace.yaml. */
function workspaceRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
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
    svg: undefined,
    cpuProfileDir: undefined,
    nodeMajor: undefined,
    bunPath: undefined,
  }
  let complete = true
  for (const flag of flags) {
    if (flag === '--full' || flag === '--smoke' || flag === '--quick') continue
    const match = /^--([\w.-]+)=(.*)$/.exec(flag)
    if (match === null) throw new Error(`unknown argument "${flag}" (see the top of src/run.ts)`)
    const [, key, value] = match as unknown as [string, string, string]
    if (key === 'only') {
      complete = false
      options.only = value.split(',').map((id) => {
        const found = SCENARIOS.find((s) => s.toLowerCase() === id.toLowerCase())
        if (found === undefined) throw new Error(`--only: unknown scenario "${id}"`)
        return found
      })
    } else if (key === 'contenders') {
      complete = false
      const named = value.split(',').map((id) => {
        if (!ALL_CONTENDER_IDS.includes(id as ContenderId)) {
          throw new Error(
            `--contenders: unknown contender "${id}" (${ALL_CONTENDER_IDS.join(', ')})`,
          )
        }
        return id as ContenderId
      })
      // Ratios need the plain loop of the same run (and, for Bun contenders, of the same runtime).
      options.contenders = withPlainLoops(['baseline', ...named])
    } else if (key === 'bun') options.bunPath = userPath(value)
    else if (key === 'json') options.json = userPath(value)
    else if (key === 'md') options.md = userPath(value)
    else if (key === 'svg') options.svg = value === '' ? '' : userPath(value)
    else if (key === 'cpu-prof') options.cpuProfileDir = userPath(value)
    else if (key === 'node') {
      complete = false
      options.nodeMajor = Number(value)
    } else applyOverride(options.config, key, value)
  }
  // A complete full run draws the chart docs/performance.md embeds.
  const root = workspaceRoot()
  if (options.svg === undefined && mode === 'full' && complete && root !== undefined) {
    options.svg = join(root, 'docs', 'benchmarks.svg')
  }
  if (options.svg === '') options.svg = undefined
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

/** The Node binary of `--node`, or `undefined` to run the servers on this process's own. */
function serversOn(options: Options, log: (line: string) => void): ServerNode | undefined {
  if (options.nodeMajor === undefined || options.nodeMajor === ownMajor()) return undefined
  log(`resolving node@${options.nodeMajor} through npx for the contender servers…`)
  const node = serverNodeOf(options.nodeMajor)
  log(`contender servers run on Node ${node.version} (${node.path})`)
  return node
}

/**
 * Whether our public-write-path contenders run: only when this `@sse/core` has the stream option
 * `writePath` (it refuses options it does not know); otherwise they are left out, and the report
 * says so, unless `--contenders` named them (then each of their runs fails with core's message).
 */
async function responsePathRuns(options: Options, warnings: string[]): Promise<boolean> {
  const { streamOptionsProperties } = await import('@sse/core/kit')
  if ('writePath' in streamOptionsProperties) return true
  const named = (RESPONSE_PATH_IDS as readonly ContenderId[]).filter((id) =>
    options.contenders.includes(id),
  )
  if (named.length === 0) {
    warnings.push(
      `${RESPONSE_PATH_IDS.join(', ')} left out: this @sse/core has no stream option "writePath".`,
    )
  }
  return false
}

/** The Bun of the Bun contenders, when any of them runs. */
function bunFor(options: Options, log: (line: string) => void): BunBinary | undefined {
  if (!options.contenders.some((contender) => runtimeOf(contender) === 'bun')) return undefined
  const bun = bunBinaryOf(options.bunPath)
  log(`Bun contenders run on Bun ${bun.version} (${bun.path})`)
  return bun
}

/**
 * The context of scenario `id`: the Fetch contenders take part in S1, S1b, S2 and S3 only, and are
 * left out of the others (said once in the warnings).
 */
function scopedTo(id: ScenarioId, context: BenchContext, warnings: string[]): BenchContext {
  if (FETCH_SCENARIOS.includes(id)) return context
  const contenders = context.contenders.filter((contender) => !isFetchGroup(contender))
  if (contenders.length === context.contenders.length) return context
  const note = `${context.contenders.filter(isFetchGroup).join(', ')} run in ${FETCH_SCENARIOS.join(', ')} only; left out of the other scenarios.`
  if (!warnings.includes(note)) warnings.push(note)
  return { ...context, contenders }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const warnings: string[] = []
  if (Number.isNaN(ensureFdLimit(options, warnings))) return
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`)
  }
  if (options.cpuProfileDir !== undefined) mkdirSync(options.cpuProfileDir, { recursive: true })
  const serverNode = serversOn(options, log)
  const responsePath = await responsePathRuns(options, warnings)
  const load = new LoadGenerator(options.config.workers)
  const all: BenchContext = {
    load,
    serverFile: fileURLToPath(new URL('./server.js', import.meta.url)),
    contenders: options.contenders,
    cpuProfileDir: options.cpuProfileDir,
    responsePath,
    serverNode,
    bun: bunFor(options, log),
    log,
  }
  const scenarios: ScenarioResult[] = []
  const durations: Record<string, number> = {}
  const started = Date.now()
  // One redis-server for the Redis and scale-out scenarios, started when the first needs it.
  let redis: RedisServer | undefined
  const redisUrl = async (scenario: string): Promise<string | undefined> => {
    if (redis !== undefined) return redis.url
    if (!redisServerInstalled()) {
      warnings.push(`${scenario} scenario skipped: ${REDIS_SERVER} not found.`)
      return undefined
    }
    redis = await startRedis()
    log(`redis-server for the ${scenario} scenario: ${redis.url}`)
    return redis.url
  }
  try {
    for (const id of options.only) {
      log(`--- ${id} ---`)
      const context = scopedTo(id, all, warnings)
      const scenarioStarted = Date.now()
      if (id === 'S1') scenarios.push(await fanOutThroughput(context, 'S1', options.config.s1))
      else if (id === 'S1b')
        scenarios.push(await fanOutThroughput(context, 'S1b', options.config.s1b))
      else if (id === 'S2') scenarios.push(...(await latency(context, options.config.s2)))
      else if (id === 'S3') scenarios.push(await idleCapacity(context, options.config.s3))
      else if (id === 'S4') scenarios.push(await slowConsumers(context, options.config.s4))
      else if (id === 'S5') scenarios.push(await replay(context, options.config.s5))
      else if (id === 'S6') scenarios.push(...(await singleReader(context, options.config.s6)))
      else if (id === 'redis') {
        if (!options.contenders.includes('core')) continue
        const url = await redisUrl('Redis')
        if (url === undefined) continue
        const { memory, redis: overRedis } = await redisScenario(context, options.config.redis, url)
        scenarios.push(memory, overRedis)
      } else if (id === 'scaleout') {
        if (!options.contenders.includes('core')) continue
        const url = await redisUrl('Scale-out')
        if (url === undefined) continue
        const { one, many } = await scaleOut(context, options.config.scaleout, url)
        scenarios.push(one, many)
      }
      durations[id] = Math.round((Date.now() - scenarioStarted) / 1000)
    }
  } finally {
    await load.terminate()
    await redis?.stop()
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
      ...(serverNode !== undefined && { serverNode: serverNode.version }),
      ...(all.bun !== undefined && { bun: all.bun.version }),
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    },
    scenarios,
    durations,
    warnings,
  }
  const markdown = markdownReport(result)
  log(`--- done in ${((Date.now() - started) / 1000).toFixed(0)} s ---`)
  process.stdout.write(`${markdown}\n`)
  if (options.json !== undefined)
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`)
  if (options.md !== undefined) writeFileSync(options.md, `${markdown}\n`)
  if (options.svg !== undefined) {
    writeFileSync(options.svg, benchmarkSvg(result))
    log(`chart written to ${options.svg}`)
  }
  const failed = scenarios.filter((scenario) => (scenario.failures?.length ?? 0) > 0)
  if (failed.length > 0) {
    log(`FAILED: ${failed.map((scenario) => scenario.id).join(', ')} (see the report)`)
    process.exitCode = 1
  }
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
