/**
 * Publishes per second on a local 3-master Redis Cluster with 1, 2 and 3 partitions (and the
 * single-stream layout for reference), publishers in separate processes. Each round runs every
 * layout once, in turn, on fresh keys; the report gives each layout's median and its ratio to the
 * partitioned layout with 1 partition.
 *
 *   pnpm bench:partitions [--rounds=3] [--seconds=5] [--publishers=2] [--window=256] [--topics=30]
 *     [--nodes=host:port,…]   (a cluster of your own instead of a local one)
 */
import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startRedisCluster } from '@sse/testkit/redisCluster'
import type { PublisherConfig, PublisherMessage } from './partitionsProtocol.js'

const flags = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=')
    return [name!, Number(value)] as const
  }),
)
const rounds = flags.get('rounds') ?? 3
const seconds = flags.get('seconds') ?? 5
const publishers = flags.get('publishers') ?? 2
const window = flags.get('window') ?? 256
const topics = flags.get('topics') ?? 30
/** 0 is the single-stream layout. */
const layouts = [0, 1, 2, 3]

const publisherFile = fileURLToPath(new URL('./partitionsPublisher.js', import.meta.url))
const TICKS_PER_SECOND = 100

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/** What one run of a layout achieved. */
interface Run {
  readonly rate: number
  /** Cores used by all redis-server processes, and by the publisher processes, during the run. */
  readonly redisCores: number
  /** Cores used by the busiest master: the one that saturates first. */
  readonly busiestMaster: number
  readonly publisherCores: number
}

async function runLayout(
  nodes: PublisherConfig['nodes'],
  redisPids: readonly number[],
  partitions: number,
): Promise<Run> {
  const config: PublisherConfig = {
    nodes,
    keyPrefix: `bench:${randomUUID()}`,
    partitions,
    topics,
    seconds,
    window,
  }
  const children = Array.from({ length: publishers }, () =>
    fork(publisherFile, [JSON.stringify(config)], { stdio: 'inherit' }),
  )
  const messages = children.map(
    (child) =>
      new Promise<PublisherMessage[]>((resolve, reject) => {
        const seen: PublisherMessage[] = []
        child.on('message', (message: PublisherMessage) => {
          seen.push(message)
          if (message.type === 'ready' && seen.length === 1) ready.push(child)
          if (message.type === 'done') resolve(seen)
        })
        child.on('exit', (code) => {
          if (!seen.some((message) => message.type === 'done'))
            reject(new Error(`publisher exited with ${code}`))
        })
      }),
  )
  const ready: typeof children = []
  while (ready.length < children.length) await new Promise((resolve) => setTimeout(resolve, 20))
  const mastersBefore = redisPids.map(cpuSeconds)
  const redisBefore = mastersBefore.reduce((sum, cpu) => sum + cpu, 0)
  const publishersBefore = children.reduce((sum, child) => sum + cpuSeconds(child.pid!), 0)
  const started = performance.now()
  for (const child of children) child.send('go')
  // Sampled just before the publishers finish and exit.
  let publishersAfter = publishersBefore
  const sampler = setTimeout(
    () => {
      publishersAfter = children.reduce((sum, child) => sum + cpuSeconds(child.pid!), 0)
    },
    seconds * 1000 - 50,
  )
  const results = await Promise.all(messages)
  clearTimeout(sampler)
  const elapsed = (performance.now() - started) / 1000
  const mastersAfter = redisPids.map(cpuSeconds)
  const redisCores = (mastersAfter.reduce((sum, cpu) => sum + cpu, 0) - redisBefore) / elapsed
  const busiestMaster =
    Math.max(0, ...mastersAfter.map((cpu, i) => cpu - mastersBefore[i]!)) / elapsed
  let published = 0
  let failed = 0
  for (const seen of results) {
    for (const message of seen) {
      if (message.type === 'done') {
        published += message.published
        failed += message.failed
      }
    }
  }
  if (failed > 0) console.warn(`  ${failed} publishes failed`)
  return {
    rate: published / seconds,
    redisCores,
    busiestMaster,
    publisherCores: (publishersAfter - publishersBefore) / seconds,
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const name = (partitions: number) =>
  partitions === 0 ? 'single stream' : `${partitions} partition${partitions > 1 ? 's' : ''}`

/** `--nodes=host:port,…`: a cluster of your own (its CPU is then not measured). */
const own = process.argv.find((arg) => arg.startsWith('--nodes='))?.slice('--nodes='.length)
const cluster =
  own === undefined
    ? await startRedisCluster({ masters: 3 })
    : {
        nodes: own.split(',').map((node) => {
          const [host = '127.0.0.1', port = '6379'] = node.split(':')
          return { host, port: Number(port) }
        }),
        pids: [] as number[],
        stop: async () => {},
      }
try {
  const runs = new Map<number, Run[]>(layouts.map((layout) => [layout, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const partitions of layouts) {
      const run = await runLayout(cluster.nodes, cluster.pids, partitions)
      runs.get(partitions)!.push(run)
      console.log(
        `round ${round}: ${name(partitions)}: ${Math.round(run.rate)} publishes/s, redis ${run.redisCores.toFixed(2)} cores (busiest master ${run.busiestMaster.toFixed(2)}), publishers ${run.publisherCores.toFixed(2)} cores`,
      )
    }
  }
  const rates = new Map(layouts.map((layout) => [layout, runs.get(layout)!.map((run) => run.rate)]))
  const cores = (layout: number, pick: (run: Run) => number) =>
    median(runs.get(layout)!.map(pick)).toFixed(2)
  const base = median(rates.get(1)!)
  console.log(
    `\nPublishes/s on a local Redis Cluster (3 masters), ${publishers} publisher processes, ${window} in flight each, 100 B events round-robin over ${topics} topics, ${seconds} s per run, median of ${rounds} rounds:\n`,
  )
  console.log(
    '| layout | publishes/s | × 1 partition | Redis cores | busiest master, cores | busiest master, µs per publish | publisher cores |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const partitions of layouts) {
    const rate = median(rates.get(partitions)!)
    console.log(
      `| ${name(partitions)} | ${Math.round(rate)} | ${(rate / base).toFixed(2)}× | ${cores(partitions, (run) => run.redisCores)} | ${cores(partitions, (run) => run.busiestMaster)} | ${median(runs.get(partitions)!.map((run) => (run.busiestMaster / run.rate) * 1e6)).toFixed(1)} | ${cores(partitions, (run) => run.publisherCores)} |`,
    )
  }
} finally {
  await cluster.stop()
}
