import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clusterProblem } from './clusterHealth.js'
import { parseClusterNodes, type SlotRange } from './clusterNodes.js'
import { BUS_PORT_OFFSET, reservePortPairs } from './clusterPorts.js'
import { onCI } from './onCI.js'
import { RedisClusterError } from './redisClusterError.js'
import { redisCommands } from './redisCommands.js'
import { killRedisServer, REDIS_SERVER, spawnRedisServer, untilAnswering } from './redisProcess.js'

// Imported by the CLI (`pnpm redis:cluster`) and usable from the bench: nothing here may import vitest.

export type { SlotRange } from './clusterNodes.js'
export { RedisClusterError, type RedisClusterErrorCode } from './redisClusterError.js'

/** The `redis-cli` binary: `REDIS_CLI` if set, else the one on the PATH. */
export const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli'

/**
 * Whether suites that need a Redis Cluster can run (`redis-server` and `redis-cli` both run here):
 * for `describe.runIf(redisClusterAvailable('…'))`. Without them, on CI it throws, so the run fails
 * instead of skipping; elsewhere it warns and returns `false`.
 */
export function redisClusterAvailable(who = 'these tests'): boolean {
  const runs = (binary: string) => spawnSync(binary, ['--version']).status === 0
  if (runs(REDIS_SERVER) && runs(REDIS_CLI)) return true
  const message = `${who} need redis-server and redis-cli (tried "${REDIS_SERVER}", "${REDIS_CLI}"): install them (apt-get install -y redis-server) or set REDIS_SERVER and REDIS_CLI`
  if (onCI()) throw new Error(message)
  console.warn(`${message}. Skipping them.`)
  return false
}

/** How {@link startRedisCluster} lays out its cluster. */
export interface RedisClusterOptions {
  /** Masters, among which the 16384 slots are split evenly (at least 3). @default 3 */
  masters?: number
  /** Replicas of each master: with 1, killing a master makes its replica take over. @default 0 */
  replicasPerMaster?: number
  /** `cluster-node-timeout`: how long a silent node takes to be suspected failed. @default 1000 */
  nodeTimeoutMs?: number
  /** Client ports `basePort`, `basePort + 1`, … (bus ports + 10000) instead of random free ones. */
  basePort?: number
  /** How long to wait for the cluster to serve every slot. @default 20_000 */
  readyTimeoutMs?: number
}

/** A node's address, as ioredis's `new Cluster(nodes)` takes it. */
export interface ClusterNodeAddress {
  readonly host: '127.0.0.1'
  readonly port: number
}

/** A master, and the slots it serves. */
export interface ClusterMaster extends ClusterNodeAddress {
  readonly id: string
  readonly slots: readonly SlotRange[]
}

/** A throwaway Redis Cluster on 127.0.0.1, without persistence, in its own temp dir. */
export interface RedisCluster {
  /** Every node started, masters first as created: seed nodes for `new Cluster(nodes)`. */
  readonly nodes: readonly ClusterNodeAddress[]
  /** The process id of every `redis-server` started, in the order of {@link nodes}. */
  readonly pids: readonly number[]
  /** The live masters serving slots now, by first slot, as a live node's `CLUSTER NODES` says. */
  masters(): Promise<ClusterMaster[]>
  /** Kills the node on `port` (SIGKILL: no goodbye to peers or clients), as a lost machine. */
  killNode(port: number): Promise<void>
  /**
   * Waits until every slot is served again after the master on `port` was killed: its replica
   * promoted and agreed on by every live node (see {@link waitUntilServed}). Resolves to the master
   * that serves its slots now.
   */
  waitForFailover(port: number, timeoutMs?: number): Promise<ClusterMaster>
  /**
   * Waits until every live node reports `cluster_state:ok`, sees all slots owned by live masters
   * (the same ones as every other live node), flags each killed node as failed, and each replica of
   * a live master is in sync. Rejects with `NOT_READY`, naming what was still wrong.
   */
  waitUntilServed(timeoutMs?: number): Promise<void>
  /** Kills every process it started (killed ones included) and removes its directory. */
  stop(): Promise<void>
}

function checkOptions(
  options: RedisClusterOptions,
): Required<Omit<RedisClusterOptions, 'basePort'>> {
  const { masters = 3, replicasPerMaster = 0, nodeTimeoutMs = 1000 } = options
  const { readyTimeoutMs = 20_000, basePort } = options
  const check = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RedisClusterError(
        'INVALID_OPTION',
        `option "${name}" must be an integer from ${min} to ${max}, got ${value}`,
      )
    }
  }
  check('masters', masters, 3, 100)
  check('replicasPerMaster', replicasPerMaster, 0, 5)
  check('nodeTimeoutMs', nodeTimeoutMs, 100)
  check('readyTimeoutMs', readyTimeoutMs, 1)
  if (basePort !== undefined) check('basePort', basePort, 1024, 65_535 - BUS_PORT_OFFSET)
  return { masters, replicasPerMaster, nodeTimeoutMs, readyTimeoutMs }
}

/** Starts a node per port; `undefined` (and none left running) if one does not come up. */
async function spawnNodes(
  ports: readonly number[],
  dir: string,
  nodeTimeoutMs: number,
): Promise<ChildProcess[] | undefined> {
  const children = ports.map((port) =>
    spawnRedisServer(port, dir, [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
      ...['--cluster-node-timeout', String(nodeTimeoutMs)],
      // Replicas share the dir: each its own RDB file for the full sync it receives.
      ...['--dbfilename', `dump-${port}.rdb`, '--logfile', join(dir, `redis-${port}.log`)],
      // The default waits 5 s for more replicas before a full sync; a replica never synced
      // refuses to fail over, so readiness waits for every sync.
      ...['--repl-diskless-sync-delay', '0'],
    ]),
  )
  const answering = await Promise.all(children.map((child, i) => untilAnswering(ports[i]!, child)))
  if (answering.every(Boolean)) return children
  await Promise.all(children.map(killRedisServer))
  return undefined
}

/** Runs `redis-cli --cluster create` on `ports`: slots split evenly, replicas assigned. */
function createCluster(ports: readonly number[], replicasPerMaster: number): Promise<void> {
  const args = ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`)]
  args.push('--cluster-replicas', String(replicasPerMaster), '--cluster-yes')
  return new Promise((resolve, reject) => {
    const child = spawn(REDIS_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8')
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', (error) => reject(new RedisClusterError('CREATE_FAILED', error.message)))
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) return resolve()
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips redis-cli's colours
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '').trim()
      reject(new RedisClusterError('CREATE_FAILED', `${REDIS_CLI} exited with ${code}: ${plain}`))
    })
  })
}

/** What a node was when it was killed. */
interface KilledNode {
  readonly master: boolean
  readonly slots: readonly SlotRange[]
  readonly replicas: number
}

/**
 * Starts a Redis Cluster of `masters` masters (3) with `replicasPerMaster` replicas each (0) on
 * free loopback ports, creates it with `redis-cli --cluster create`, and resolves once every node
 * agrees that every slot is served (see {@link RedisCluster.waitUntilServed}).
 *
 * @example
 * const cluster = await startRedisCluster({ replicasPerMaster: 1 })
 * const client = new Cluster([...cluster.nodes])
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters, replicasPerMaster, nodeTimeoutMs, readyTimeoutMs } = checkOptions(options)
  const count = masters * (1 + replicasPerMaster)
  const dir = mkdtempSync(join(tmpdir(), 'sse-redis-cluster-'))
  let ports: number[] | undefined
  let children: ChildProcess[] | undefined
  for (let attempt = 0; attempt < 5 && children === undefined; attempt++) {
    ports = await reservePortPairs(count, options.basePort)
    if (ports === undefined) break
    children = await spawnNodes(ports, dir, nodeTimeoutMs)
    if (options.basePort !== undefined) break
  }
  if (ports === undefined || children === undefined) {
    rmSync(dir, { recursive: true, force: true })
    const where = options.basePort === undefined ? 'free ports' : `ports from ${options.basePort}`
    if (ports === undefined) {
      throw new RedisClusterError(
        'NO_FREE_PORTS',
        `no ${count} ${where} with free bus ports (+10000)`,
      )
    }
    throw new RedisClusterError('START_FAILED', `${REDIS_SERVER} did not start on ${where}`)
  }
  const started = children
  const nodePorts = ports
  const killed = new Map<number, KilledNode>()
  const live = () => nodePorts.filter((port) => !killed.has(port))

  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= Promise.all(started.map(killRedisServer)).then(() => {
      rmSync(dir, { recursive: true, force: true })
    })
    return stopped
  }

  const waitUntilServed = async (timeoutMs = readyTimeoutMs) => {
    let problem: string | undefined
    for (const deadline = Date.now() + timeoutMs; ; ) {
      problem = await clusterProblem(live(), [...killed.keys()])
      if (problem === undefined) return
      if (Date.now() > deadline) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new RedisClusterError(
      'NOT_READY',
      `not every slot served after ${timeoutMs} ms: ${problem}`,
    )
  }

  const masterList = async (): Promise<ClusterMaster[]> => {
    const [reply] = await redisCommands(live()[0] ?? 0, [['CLUSTER', 'NODES']])
    return parseClusterNodes(String(reply))
      .filter((view) => view.role === 'master' && view.slots.length > 0)
      .filter((view) => view.failing === false && !killed.has(view.port))
      .map(({ id, port, slots }) => ({ host: '127.0.0.1' as const, port, id, slots }))
      .sort((a, b) => (a.slots[0]?.[0] ?? 16384) - (b.slots[0]?.[0] ?? 16384))
  }

  try {
    await createCluster(nodePorts, replicasPerMaster)
    await waitUntilServed()
  } catch (error) {
    await stop()
    throw error
  }

  return {
    nodes: nodePorts.map((port) => ({ host: '127.0.0.1', port })),
    pids: started.map((child) => child.pid ?? -1),
    masters: masterList,
    async killNode(port) {
      const index = nodePorts.indexOf(port)
      const child = started[index]
      if (child === undefined)
        throw new RedisClusterError('UNKNOWN_NODE', `no node on port ${port}`)
      if (killed.has(port)) return
      const [reply] = await redisCommands(port, [['CLUSTER', 'NODES']])
      const views = parseClusterNodes(String(reply))
      const self = views.find((view) => view.myself)
      killed.set(port, {
        master: self?.role === 'master',
        slots: self?.slots ?? [],
        replicas: views.filter((view) => view.masterId === self?.id && !view.failing).length,
      })
      await killRedisServer(child)
    },
    async waitForFailover(port, timeoutMs) {
      const node = killed.get(port)
      if (node === undefined || !node.master) {
        throw new RedisClusterError('UNKNOWN_NODE', `no master on port ${port} was killed`)
      }
      if (node.replicas === 0 && node.slots.length > 0) {
        throw new RedisClusterError('NO_REPLICA', `the master on port ${port} had no replica`)
      }
      await waitUntilServed(timeoutMs)
      const first = node.slots[0]?.[0] ?? 0
      const heir = (await masterList()).find((master) =>
        master.slots.some(([from, to]) => from <= first && first <= to),
      )
      if (heir === undefined) {
        throw new RedisClusterError('NOT_READY', `no live master serves slot ${first}`)
      }
      return heir
    },
    waitUntilServed,
    stop,
  }
}
