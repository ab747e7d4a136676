import type { BunBinary } from './bunBinary.js'
import { sleep } from './clock.js'
import { EVENTS_PATH } from './contenders/contender.js'
import type { LoadGenerator } from './loadGenerator.js'
import { type ContenderId, FLOOR_OF, OURS, RESPONSE_TWIN, type ServerConfig } from './protocol.js'
import type { Sample } from './results.js'
import { runtimeOf } from './runtimes.js'
import type { ServerNode } from './serverNode.js'
import { ServerProcess } from './serverProcess.js'

/** What every scenario gets from the orchestrator. */
export interface BenchContext {
  readonly load: LoadGenerator
  readonly serverFile: string
  readonly contenders: readonly ContenderId[]
  readonly cpuProfileDir: string | undefined
  /** Whether our public-write-path contenders run (this `@sse/core` has the option `writePath`). */
  readonly responsePath: boolean
  /** The Node the contender servers run on (`--node=24`); absent, this process's own. */
  readonly serverNode: ServerNode | undefined
  /** The Bun the Bun contenders run on; absent when none of them runs. */
  readonly bun: BunBinary | undefined
  log(line: string): void
}

export function isOurs(contender: ContenderId): boolean {
  return OURS.includes(contender)
}

/** Each contender followed by its companion, if it has one; no contender twice. */
function withCompanions(
  contenders: readonly ContenderId[],
  companion: (contender: ContenderId) => ContenderId | undefined,
): ContenderId[] {
  const order: ContenderId[] = []
  for (const contender of contenders) {
    for (const id of [contender, companion(contender)]) {
      if (id !== undefined && !order.includes(id)) order.push(id)
    }
  }
  return order
}

/** The contenders with each framework floor right after the adapter built on that framework. */
export function withFloors(contenders: readonly ContenderId[]): ContenderId[] {
  return withCompanions(contenders, (contender) => FLOOR_OF[contender])
}

/** The contenders with each of our packages followed by its public-write-path twin, when they run. */
export function withResponsePaths(context: BenchContext): ContenderId[] {
  if (!context.responsePath) return [...context.contenders]
  return withCompanions(context.contenders, (contender) => RESPONSE_TWIN[contender])
}

/** Starts a contender on Bun (checks that Bun reports the version it was found with). */
async function startOnBun(context: BenchContext, config: ServerConfig): Promise<ServerProcess> {
  const { bun } = context
  if (bun === undefined) throw new Error(`${config.contender}: no Bun binary to run it on`)
  const server = await ServerProcess.start(context.serverFile, config, { bun: bun.path })
  if (server.bun !== bun.version) {
    await server.stop()
    throw new Error(`${config.contender}: server runs on Bun ${server.bun}, not ${bun.version}`)
  }
  return server
}

/**
 * Starts a contender server: on Bun for the Bun contenders, otherwise on the Node of `--node` if
 * one was given (and checks it is).
 */
export async function startServer(
  context: BenchContext,
  config: ServerConfig,
): Promise<ServerProcess> {
  if (runtimeOf(config.contender) === 'bun') return startOnBun(context, config)
  const { serverNode } = context
  const server = await ServerProcess.start(context.serverFile, config, {
    ...(context.cpuProfileDir !== undefined && { cpuProfileDir: context.cpuProfileDir }),
    ...(serverNode !== undefined && { node: serverNode.path }),
  })
  const expected = serverNode?.version ?? process.version
  if (server.node !== expected) {
    await server.stop()
    throw new Error(`${config.contender}: server runs on Node ${server.node}, not ${expected}`)
  }
  return server
}

/**
 * Publishes `events` small events, waits until every client has them and zeroes the counters:
 * the publish path is compiled and warm before anything is measured.
 */
export async function warmUp(
  context: BenchContext,
  publishers: ServerProcess | readonly ServerProcess[],
  events = 50,
): Promise<void> {
  await context.load.reset()
  const servers = Array.isArray(publishers) ? publishers : [publishers]
  await Promise.all(
    servers.map((server) => server.call({ op: 'burst', count: events, size: 200, chunk: 5 })),
  )
  await context.load.expectEvents(events, 30_000)
  await context.load.reset()
}

/** Waits until the server streams to `count` clients (some libraries register after a tick). */
export async function waitForSubscribers(
  server: ServerProcess,
  count: number,
  timeout = 15_000,
): Promise<number> {
  const deadline = Date.now() + timeout
  for (;;) {
    const subscribers = await server.call<number>({ op: 'subscribers' })
    if (subscribers >= count || Date.now() > deadline) return subscribers
    await sleep(20)
  }
}

/** Opens `clients` connections to `server`'s events path and waits until it counts them all. */
export async function connectAll(
  context: BenchContext,
  server: ServerProcess,
  clients: number,
): Promise<void> {
  const connected = await context.load.connect({
    port: server.port,
    path: EVENTS_PATH,
    count: clients,
  })
  if (connected.opened !== clients) {
    throw new Error(
      `only ${connected.opened}/${clients} connected (statuses ${JSON.stringify(connected.statuses)})`,
    )
  }
  await waitForSubscribers(server, clients)
}

/**
 * Runs `body` against a fresh server of `contender`, then stops the server and closes every
 * client connection, whatever happened. A failure becomes the sample's `error`.
 */
export async function measure(
  context: BenchContext,
  contender: ContenderId,
  round: number,
  config: Omit<ServerConfig, 'contender'>,
  body: (server: ServerProcess, sample: Sample) => Promise<void>,
): Promise<Sample> {
  const sample: Sample = { contender, round, metrics: {}, notes: [] }
  let server: ServerProcess | undefined
  try {
    server = await startServer(context, { contender, ...config })
    await body(server, sample)
  } catch (error) {
    sample.error = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    sample.metrics = {}
  } finally {
    await server?.stop()
    await context.load.closeAll()
  }
  return sample
}

/** Runs `rounds` rounds of every contender, interleaved: A B C … A B C … */
export async function interleave(
  context: BenchContext,
  title: string,
  rounds: number,
  contenders: readonly ContenderId[],
  run: (contender: ContenderId, round: number) => Promise<Sample>,
): Promise<Sample[]> {
  const samples: Sample[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const contender of contenders) {
      const sample = await run(contender, round)
      samples.push(sample)
      context.log(`${title} round ${round}/${rounds} ${contender}: ${describeSample(sample)}`)
    }
  }
  return samples
}

/** A sample as one log line: `ERROR <message>`, or its metrics as `name=value` pairs. */
export function describeSample(sample: Sample): string {
  if (sample.error !== undefined) return `ERROR ${sample.error}`
  return Object.entries(sample.metrics)
    .map(([name, value]) => `${name}=${formatNumber(value)}`)
    .join(' ')
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value) && Math.abs(value) < 1e4) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}
