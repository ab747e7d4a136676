import { sleep } from '../clock.js'
import { emptyResult, type ModeResult, recordDeliveries } from './modeResult.js'
import { ScaleChild } from './scaleChild.js'
import { fdLimitFor, type ScaleConfig, share, splitEvenly } from './scaleConfig.js'
import type {
  ClientReport,
  ClientRequest,
  ClientSetup,
  ConnectOutcome,
  FanOutSetup,
  MemoryReading,
  PublisherRequest,
  ScaleMode,
  SeqOutcome,
  ServerRequest,
  ServerSetup,
} from './scaleProtocol.js'

/** Where the child entry points are, and what the run shares between modes. */
export interface ScaleRunContext {
  dir: string
  redisUrl: string
  /** A fresh Redis key prefix for this run. */
  keyPrefix: string
  /** The first two octets of this run's client source addresses, e.g. `127.83`. */
  addressBase: string
  /** Every child's pid goes here as soon as it runs. */
  watch(pid: number): void
  log(line: string): void
}

/**
 * Connections bound to one source address at most: a client process binds each connection to the
 * next port of its address from 32768 up, skipping taken ones, and ports past 60999 may belong to
 * the listening services of the machine.
 */
const PORTS_PER_ADDRESS = 12_000

type Server = ScaleChild<ServerRequest>
type Client = ScaleChild<ClientRequest>

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0)

/**
 * One mode (the plain loop or ours) in the configured layout: servers, client processes, a
 * publisher; connect, memory, idle CPU, then the broadcasts one at a time. Every child is
 * stopped before it returns, the servers first so the clients' ports never linger in TIME_WAIT.
 */
export async function runMode(
  context: ScaleRunContext,
  config: ScaleConfig,
  mode: ScaleMode,
): Promise<ModeResult> {
  const result = emptyResult(mode)
  const servers: Server[] = []
  const clients: Client[] = []
  let publisher: ScaleChild<PublisherRequest> | undefined
  const started = <T>(child: ScaleChild<T>): ScaleChild<T> => {
    context.watch(child.pid)
    return child
  }
  try {
    const fanOut: FanOutSetup = {
      mode,
      redisUrl: context.redisUrl,
      keyPrefix: `${context.keyPrefix}:${mode}`,
      ...(config.partitions !== undefined && { partitions: config.partitions }),
    }
    const perServer = share(config.connections, config.servers)
    const serverSetup: ServerSetup = {
      ...fanOut,
      maxConnections: perServer,
      // The plain loop's comments go out as often as ours do by default (core's keepAlive, 30 s).
      plainKeepAliveMs: 30_000,
    }
    servers.push(
      ...(await Promise.all(
        Array.from({ length: config.servers }, (_, i) =>
          ScaleChild.start<ServerRequest>(`${context.dir}/scaleServer.js`, serverSetup, {
            name: `${mode} server ${i + 1}`,
            fdLimit: fdLimitFor(perServer),
            execArgv: ['--expose-gc'],
          }).then(started),
        ),
      )),
    )
    result.pids.servers = servers.map((server) => server.pid)
    result.ports = servers.map((server) => server.ready.port ?? 0)
    publisher = started(
      await ScaleChild.start<PublisherRequest>(`${context.dir}/scalePublisher.js`, fanOut, {
        name: `${mode} publisher`,
        fdLimit: 1024,
      }),
    )
    result.pids.publisher = publisher.pid
    const before = await Promise.all(servers.map((s) => s.call<MemoryReading>({ op: 'memory' })))

    const counts = splitEvenly(config.connections, config.clients)
    const modeIndex = config.modes.indexOf(mode) + 1
    result.sourceAddresses = counts.map((count, i) =>
      Array.from(
        { length: Math.ceil(count / PORTS_PER_ADDRESS) },
        (_, j) => `${context.addressBase}.${modeIndex * 16 + j}.${i + 1}`,
      ),
    )
    clients.push(
      ...(await Promise.all(
        counts.map((count, i) => {
          const setup: ClientSetup = {
            ports: result.ports,
            first: sum(counts.slice(0, i)),
            localAddresses: result.sourceAddresses[i]!,
            count,
            concurrency: config.concurrency,
          }
          return ScaleChild.start<ClientRequest>(`${context.dir}/scaleClient.js`, setup, {
            name: `${mode} client ${i + 1}`,
            fdLimit: fdLimitFor(count),
          }).then(started)
        }),
      )),
    )
    result.pids.clients = clients.map((client) => client.pid)

    context.log(`${mode}: connecting ${config.connections} clients…`)
    const connectStart = performance.now()
    const outcomes = await Promise.all(
      clients.map((client) => client.call<ConnectOutcome>({ op: 'connect' }, 600_000)),
    )
    result.connectMs = performance.now() - connectStart
    for (const outcome of outcomes) {
      result.opened += outcome.opened
      result.failed += outcome.failed
      for (const [status, n] of Object.entries(outcome.statuses)) {
        result.statuses[status] = (result.statuses[status] ?? 0) + n
      }
    }
    if (result.opened !== config.connections) {
      result.failures.push(
        `${result.opened}/${config.connections} connections opened (${JSON.stringify(result.statuses)})`,
      )
    }
    result.subscribers = await settledSubscribers(servers, result.opened)
    if (result.subscribers !== result.opened) {
      result.failures.push(`servers hold ${result.subscribers} streams, ${result.opened} opened`)
    }
    context.log(`${mode}: ${result.opened} open in ${(result.connectMs / 1000).toFixed(1)} s`)

    const after = await Promise.all(servers.map((s) => s.call<MemoryReading>({ op: 'memory' })))
    const rssGrowth = sum(after.map((m, i) => m.rss - before[i]!.rss))
    const heapGrowth = sum(after.map((m, i) => m.heapUsed - before[i]!.heapUsed))
    result.rssPerConnectionKB = rssGrowth / config.connections / 1024
    result.heapPerConnectionKB = heapGrowth / config.connections / 1024
    result.serversRssMB = sum(after.map((m) => m.rss)) / 2 ** 20

    context.log(`${mode}: idle for ${config.idle} s…`)
    const cpuBefore = await Promise.all(servers.map((s) => s.call<number>({ op: 'cpu' })))
    const idleStart = performance.now()
    await sleep(config.idle * 1000)
    const cpuAfter = await Promise.all(servers.map((s) => s.call<number>({ op: 'cpu' })))
    const windowMs = performance.now() - idleStart
    const cpuMs = sum(cpuAfter.map((cpu, i) => cpu - cpuBefore[i]!)) / 1000
    result.idleWindowS = windowMs / 1000
    result.idleCpuPercent = (cpuMs / windowMs) * 100
    result.idleCpuPer10kPercent = result.idleCpuPercent / (config.connections / 10_000)

    for (let seq = 0; seq < config.broadcasts; seq++) {
      await sleep(config.gap)
      const sentAt = await publisher.call<number>({ op: 'publish', seq, size: config.size })
      const seqOutcomes = await Promise.all(
        clients.map((client) =>
          client.call<SeqOutcome>(
            { op: 'awaitSeq', seq, timeout: config.timeout },
            config.timeout + 30_000,
          ),
        ),
      )
      const received = sum(seqOutcomes.map((o) => o.received))
      const lastAt = Math.max(...seqOutcomes.map((o) => o.lastAt))
      const broadcast = { seq, received, allDeliveredMs: (lastAt - sentAt) / 1000 }
      result.broadcasts.push(broadcast)
      context.log(
        `${mode}: broadcast ${seq + 1}/${config.broadcasts} reached ${received} in ${broadcast.allDeliveredMs.toFixed(0)} ms`,
      )
      if (received !== config.connections) {
        result.failures.push(`broadcast ${seq + 1} reached ${received}/${config.connections}`)
      }
    }
    const reports = await Promise.all(
      clients.map((client) => client.call<ClientReport>({ op: 'report' })),
    )
    recordDeliveries(result, reports, config)
  } catch (error) {
    result.failures.push(error instanceof Error ? error.message.split('\n')[0]! : String(error))
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
    await Promise.all(
      [...clients, ...(publisher === undefined ? [] : [publisher])].map((c) => c.stop()),
    )
  }
  return result
}

/** The servers' stream count once it stops changing (a stream is counted after its head went out). */
async function settledSubscribers(servers: readonly Server[], expected: number): Promise<number> {
  let count = 0
  for (let i = 0; i < 100; i++) {
    count = sum(await Promise.all(servers.map((s) => s.call<number>({ op: 'subscribers' }))))
    if (count === expected) return count
    await sleep(100)
  }
  return count
}
