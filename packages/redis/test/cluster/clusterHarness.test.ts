import { once } from 'node:events'
import { type Cleanups, useCleanups, waitFor } from '@sse/testkit'
import {
  type ClusterMaster,
  type RedisCluster,
  redisClusterAvailable,
  startRedisCluster,
} from '@sse/testkit/redisCluster'
import { Cluster, type ClusterOptions, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const hasCluster = redisClusterAvailable('@sse/redis cluster tests')

/** Whether a process with this id still exists (a reaped child no longer does). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * ioredis options for writes that outlive a failover: every retry counts against
 * `maxRedirections`, and a MOVED is retried at once by default, so a write sent while the cluster
 * decides can spend them all before the replica takes over.
 */
const FAILOVER_OPTIONS: ClusterOptions = {
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnMoved: 100,
  maxRedirections: 50,
}

/** Resolves once every replica of the master on `port` has all its writes (INFO replication). */
async function replicated(cleanups: Cleanups, port: number): Promise<void> {
  const direct = new Redis({ host: '127.0.0.1', port })
  cleanups.push(() => direct.disconnect())
  await waitFor(async () => {
    const info = await direct.info('replication')
    const offset = /master_repl_offset:(\d+)/.exec(info)?.[1]
    const replicas = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((match) => match[1])
    return replicas.length > 0 && replicas.every((replica) => replica === offset)
  }, `the replica of ${port} to have every write`)
  direct.disconnect()
}

/** For each master, a hash tag `{n}` whose slot that master serves, asking the cluster itself. */
async function tagPerMaster(client: Cluster, masters: readonly ClusterMaster[]): Promise<string[]> {
  const tags: Array<string | undefined> = masters.map(() => undefined)
  for (let n = 0; tags.includes(undefined); n++) {
    if (n > 1000)
      throw new Error(`no hash tag found for every master of ${JSON.stringify(masters)}`)
    const slot = await client.cluster('KEYSLOT', `{${n}}`)
    const owner = masters.findIndex((master) =>
      master.slots.some(([first, last]) => first <= slot && slot <= last),
    )
    tags[owner] ??= `{${n}}`
  }
  return tags as string[]
}

/**
 * An ioredis `Cluster` client on `cluster`'s nodes, once ready: before that, it sends `CLUSTER …`
 * commands to any seed node, replicas included, and drops those connections once it has read the
 * slot map ("Connection is closed").
 */
async function connect(
  cleanups: Cleanups,
  cluster: RedisCluster,
  options: ClusterOptions = {},
): Promise<Cluster> {
  const client = new Cluster([...cluster.nodes], options)
  cleanups.push(() => client.disconnect())
  await once(client, 'ready')
  return client
}

describe.runIf(hasCluster)('a local Redis Cluster: 3 masters, 1 replica each', () => {
  const cleanups = useCleanups()
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
  })
  afterAll(() => cluster?.stop())

  test('its slots are split evenly between 3 masters', async () => {
    const masters = await cluster.masters()
    expect(masters.map((master) => master.slots)).toEqual([
      [[0, 5460]],
      [[5461, 10922]],
      [[10923, 16383]],
    ])
    expect(cluster.nodes).toHaveLength(6)
  })

  test("ioredis's Cluster client writes and reads keys on each master, and each lands there", async () => {
    const client = await connect(cleanups, cluster)
    const masters = await cluster.masters()
    const tags = await tagPerMaster(client, masters)
    for (const [index, { port }] of masters.entries()) {
      const key = `${tags[index]}:key`
      await client.set(key, `value on master ${port}`)
      expect(await client.get(key)).toBe(`value on master ${port}`)
      // Asked directly, without redirection: the key is on that master.
      const master = new Redis({ port, maxRetriesPerRequest: 0 })
      cleanups.push(() => master.disconnect())
      expect(await master.get(key)).toBe(`value on master ${port}`)
    }
  })

  test('XADD and XREAD work on a hash-tagged stream on each master', async () => {
    const client = await connect(cleanups, cluster)
    const tags = await tagPerMaster(client, await cluster.masters())
    for (const tag of tags) {
      const first = await client.xadd(`${tag}:events`, '*', 'data', 'one')
      await client.xadd(`${tag}:events`, '*', 'data', 'two')
      const read = await client.xread('COUNT', 10, 'STREAMS', `${tag}:events`, '0')
      expect(read?.[0]?.[1].map(([, fields]) => fields)).toEqual([
        ['data', 'one'],
        ['data', 'two'],
      ])
      expect(read?.[0]?.[1][0]?.[0]).toBe(first)
    }
  })
})

describe.runIf(hasCluster)('losing a master of a local Redis Cluster', () => {
  const cleanups = useCleanups()

  test('its replica takes over, and a write sent meanwhile and later ones on the same client succeed', async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
    cleanups.push(() => cluster.stop())
    const client = await connect(cleanups, cluster, FAILOVER_OPTIONS)
    const masters = await cluster.masters()
    const tags = await tagPerMaster(client, masters)
    for (const tag of tags) await client.xadd(`${tag}:events`, '*', 'data', 'before')
    const lost = masters[0]!
    // Replication is asynchronous: a master lost before its replica has a write loses the write.
    await replicated(cleanups, lost.port)
    await cluster.killNode(lost.port)
    // Sent before the cluster even noticed: it must wait for the replica, not fail.
    const during = client.xadd(`${tags[0]}:events`, '*', 'data', 'during').then(
      () => 'written',
      (error: Error) => error.message,
    )
    const heir = await cluster.waitForFailover(lost.port)
    expect(heir.port).not.toBe(lost.port)
    expect(heir.slots).toEqual(lost.slots)
    expect(cluster.nodes.map((node) => node.port)).toContain(heir.port)
    expect(await during).toBe('written')
    for (const tag of tags) await client.xadd(`${tag}:events`, '*', 'data', 'after')
    const read = await client.xread('STREAMS', `${tags[0]}:events`, '0')
    expect(read?.[0]?.[1].map(([, [, data]]) => data)).toEqual(['before', 'during', 'after'])
    await cluster.stop()
    expect(cluster.pids.filter(isRunning)).toEqual([])
  })

  test('stop() leaves no process behind, even with a node already killed', async () => {
    const cluster = await startRedisCluster()
    cleanups.push(() => cluster.stop())
    await cluster.killNode(cluster.nodes[0]!.port)
    expect(cluster.pids.filter(isRunning)).toHaveLength(2)
    await cluster.stop()
    expect(cluster.pids.filter(isRunning)).toEqual([])
  })
})
