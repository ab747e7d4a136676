/**
 * Publishes per second on a local 3-master Redis Cluster with 1, 2 and 3 partitions (and the
 * single-stream layout for reference), publishers in separate processes. Each round runs every
 * layout once, in turn, on fresh keys; the report gives each layout's median and its ratio to the
 * partitioned layout with 1 partition.
 *
 *   pnpm bench:partitions [--rounds=3] [--seconds=5] [--publishers=2] [--window=256] [--topics=30]
 */
import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
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

async function runLayout(nodes: PublisherConfig['nodes'], partitions: number): Promise<number> {
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
  for (const child of children) child.send('go')
  const results = await Promise.all(messages)
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
  return published / seconds
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const name = (partitions: number) =>
  partitions === 0 ? 'single stream' : `${partitions} partition${partitions > 1 ? 's' : ''}`

const cluster = await startRedisCluster({ masters: 3 })
try {
  const rates = new Map<number, number[]>(layouts.map((layout) => [layout, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const partitions of layouts) {
      const rate = await runLayout(cluster.nodes, partitions)
      rates.get(partitions)!.push(rate)
      console.log(`round ${round}: ${name(partitions)}: ${Math.round(rate)} publishes/s`)
    }
  }
  const base = median(rates.get(1)!)
  console.log(
    `\nPublishes/s on a local Redis Cluster (3 masters), ${publishers} publisher processes, ${window} in flight each, 100 B events round-robin over ${topics} topics, ${seconds} s per run, median of ${rounds} rounds:\n`,
  )
  console.log('| layout | publishes/s | × 1 partition |')
  console.log('| --- | --- | --- |')
  for (const partitions of layouts) {
    const rate = median(rates.get(partitions)!)
    console.log(`| ${name(partitions)} | ${Math.round(rate)} | ${(rate / base).toFixed(2)}× |`)
  }
} finally {
  await cluster.stop()
}
