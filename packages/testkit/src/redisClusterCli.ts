import { parseArgs } from 'node:util'
import {
  type RedisCluster,
  RedisClusterError,
  type RedisClusterOptions,
  startRedisCluster,
} from './redisCluster.js'

// `pnpm redis:cluster [--masters 3] [--replicas 0] [--port <base>] [--node-timeout 1000]`: a local
// Redis Cluster in the foreground for benches and manual runs, stopped (every process, its temp
// dir) on Ctrl-C or SIGTERM.

const USAGE = `usage: pnpm redis:cluster [--masters N] [--replicas N] [--port BASE] [--node-timeout MS]
  --masters N        masters sharing the 16384 slots (at least 3; default 3)
  --replicas N       replicas per master (default 0)
  --port BASE        client ports BASE, BASE+1, ... (bus ports +10000) instead of random free ones
  --node-timeout MS  cluster-node-timeout (default 1000)`

/** Each flag, and the option of `startRedisCluster` it sets. */
const FLAGS = {
  masters: 'masters',
  replicas: 'replicasPerMaster',
  port: 'basePort',
  'node-timeout': 'nodeTimeoutMs',
} as const

function optionsOf(values: Partial<Record<keyof typeof FLAGS, string>>): RedisClusterOptions {
  const options: RedisClusterOptions = {}
  for (const [flag, option] of Object.entries(FLAGS) as Array<[keyof typeof FLAGS, string]>) {
    const value = values[flag]
    if (value === undefined) continue
    if (!/^\d+$/.test(value)) {
      throw new RedisClusterError('INVALID_OPTION', `--${flag} must be an integer, got "${value}"`)
    }
    options[option as (typeof FLAGS)[keyof typeof FLAGS]] = Number(value)
  }
  return options
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      masters: { type: 'string' },
      replicas: { type: 'string' },
      port: { type: 'string' },
      'node-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return console.log(USAGE)
  const options = optionsOf(values)
  // Signals are handled from the start: one during start-up stops the cluster once it is up.
  let cluster: RedisCluster | undefined
  let stopping = false
  const stop = () => {
    stopping = true
    cluster?.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const started = performance.now()
  cluster = await startRedisCluster(options)
  if (stopping) return stop()
  const masters = new Set((await cluster.masters()).map((master) => master.port))
  console.log(`Redis Cluster up in ${Math.round(performance.now() - started)} ms:`)
  for (const { host, port } of cluster.nodes) {
    console.log(`  redis://${host}:${port}  ${masters.has(port) ? 'master' : 'replica'}`)
  }
  const seeds = cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',')
  console.log(`REDIS_CLUSTER_NODES=${seeds}`)
  console.log('Ctrl-C stops it.')
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  console.error(USAGE)
  process.exit(1)
})
