import { createHash, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createBroker, type SSEError } from '@sse/core'
import { type RedisTransport, type RedisTransportOptions, redisTransport } from '@sse/redis'
import { closeStreams, openStream } from '@sse/testing'
import {
  type Cleanups,
  listen,
  recordUnhandledRejections,
  useCleanups,
  waitFor,
} from '@sse/testkit'
import {
  type RedisCluster,
  redisClusterAvailable,
  startRedisCluster,
} from '@sse/testkit/redisCluster'
import { Cluster, type ClusterOptions, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { PartitionLayout } from '../../src/partitioned/partitionLayout.js'
import { TOPIC_PUBLISH_SCRIPT } from '../../src/partitioned/topicPublishScript.js'
import { PUBLISH_SCRIPT } from '../../src/publishScript.js'
import { redisContract } from '../helpers.js'
import { topicsIn } from '../partitioned/partitionHelpers.js'

const hasCluster = redisClusterAvailable('@sse/redis cluster tests')

afterEach(closeStreams)

/** ioredis's documented options for riding out a failover (see clusterHarness.test.ts). */
const CLUSTER_OPTIONS: ClusterOptions = {
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnMoved: 100,
  maxRedirections: 50,
}

const [A0, A1] = topicsIn(3, 0, 2) as [string, string]
const [B0] = topicsIn(3, 1, 1) as [string]
const [C0] = topicsIn(3, 2, 1) as [string]

interface Node {
  readonly broker: ReturnType<typeof createBroker>
  readonly transport: RedisTransport
  readonly url: string
  readonly errors: SSEError[]
}

/** An app instance on its own ioredis Cluster client: GET /?topics=a,b opens a stream. */
async function startNode(
  cleanups: Cleanups,
  cluster: RedisCluster,
  options: RedisTransportOptions,
): Promise<Node> {
  const client = new Cluster([...cluster.nodes], CLUSTER_OPTIONS)
  const transport = redisTransport({ client, closeClient: true, ...options })
  const errors: SSEError[] = []
  const broker = createBroker({ transport, keepAlive: 0, onError: (error) => errors.push(error) })
  await broker.ready
  const server = await listen((req, res) => {
    const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics') ?? A0
    broker.stream(req, res, { topics: topics.split(',') })
  })
  cleanups.push(
    () => server.close(),
    () => broker.close(),
  )
  return { broker, transport, url: server.url, errors }
}

describe.runIf(hasCluster)(
  '@sse/redis on a local Redis Cluster (3 masters, 1 replica each)',
  () => {
    const cleanups = useCleanups()
    const unhandled = recordUnhandledRejections()
    let cluster: RedisCluster
    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
    }, 60_000)
    afterAll(() => cluster?.stop())

    for (const layout of ['single stream', 'partitioned'] as const) {
      describe(`the ${layout} layout meets the Transport contract`, () => {
        const created: Cluster[] = []
        afterAll(() => Promise.all(created.map((client) => client.quit().catch(() => {}))))
        // Called lazily, in each check: the cluster starts in beforeAll.
        const checks = redisContract(layout, () => {
          const client = new Cluster([...cluster.nodes], CLUSTER_OPTIONS)
          created.push(client)
          return { client, closeClient: true }
        })
        for (const check of checks) test(check.name, check.run)
      })
    }

    test('partitioned: three partitions land on three masters; events fan out across instances, and a client resumes on another instance with no gap and no duplicate', async () => {
      const keyPrefix = `sse-cluster:${randomUUID()}`
      const [a, b] = await Promise.all(
        [0, 1].map(() => startNode(cleanups, cluster, { keyPrefix, partitions: 3 })),
      )
      const topics = `${A0},${B0},${C0}`
      const first = await openStream(`${b!.url}/?topics=${topics}`)
      for (let i = 0; i < 9; i++) await a!.broker.publish([A0, B0, C0][i % 3]!, `first-${i}`)
      await a!.broker.publish([A0, B0, C0], 'to all three')
      const got = await first.take(10)
      expect(got.map((event) => event.data).sort()).toEqual(
        [...Array.from({ length: 9 }, (_, i) => `first-${i}`), 'to all three'].sort(),
      )
      // Each partition's keys live on a different master.
      const layout = new PartitionLayout(keyPrefix, 3)
      const admin = new Cluster([...cluster.nodes])
      cleanups.push(() => admin.quit())
      await once(admin, 'ready')
      const masters = await cluster.masters()
      const owners = await Promise.all(
        [0, 1, 2].map(async (partition) => {
          const slot = (await admin.cluster('KEYSLOT', layout.keys(partition).head)) as number
          return masters.findIndex((master) =>
            master.slots.some(([lo, hi]) => lo <= slot && slot <= hi),
          )
        }),
      )
      expect(new Set(owners).size).toBe(3)
      const lastEventId = first.lastEventId
      await first.close()
      for (let i = 0; i < 6; i++) await b!.broker.publish([A0, B0, C0, A1][i % 4]!, `gone-${i}`)
      const again = await openStream(`${a!.url}/?topics=${topics}`, { lastEventId })
      const replayed = await again.take(5)
      expect(replayed.map((event) => event.data).sort()).toEqual(
        ['gone-0', 'gone-1', 'gone-2', 'gone-4', 'gone-5'].sort(),
      )
      await b!.broker.publish(B0, 'live')
      const [live] = await again.take(1)
      expect(live?.data).toBe('live')
      expect(a!.errors.concat(b!.errors)).toEqual([])
    })

    test('a transport loads its publish script on every master as it connects, before the first publish: no NOSCRIPT for instances that start together to recover from', async () => {
      for (const [options, source] of [
        [{}, PUBLISH_SCRIPT],
        [{ partitions: 3 }, TOPIC_PUBLISH_SCRIPT],
      ] as const) {
        // Masters that forgot every script, as new ones have none.
        const admin = new Cluster([...cluster.nodes])
        cleanups.push(() => admin.quit())
        await once(admin, 'ready')
        await Promise.all(admin.nodes('all').map((node) => node.script('FLUSH')))
        await startNode(cleanups, cluster, { keyPrefix: `sse-scripts:${randomUUID()}`, ...options })
        const sha = createHash('sha1').update(source).digest('hex')
        await waitFor(async () => {
          const loaded = await Promise.all(
            admin.nodes('master').map((node) => node.script('EXISTS', sha) as Promise<number[]>),
          )
          return loaded.length === 3 && loaded.every(([exists]) => exists === 1)
        }, 'the script on every master')
      }
    })

    test('losing a master: its replica takes over, publishes fail while it does and never throw, and then every published event reaches the client, each topic in order, none twice', async () => {
      const keyPrefix = `sse-failover:${randomUUID()}`
      const [a, b] = await Promise.all(
        [0, 1].map(() => startNode(cleanups, cluster, { keyPrefix, partitions: 3 })),
      )
      const client = await openStream(`${b!.url}/?topics=${A0},${B0},${C0}`)
      const resolved: string[] = []
      let rejected = 0
      let n = 0
      const tick = setInterval(() => {
        const data = `e${n}`
        const topic = [A0, B0, C0][n++ % 3]!
        // Fire and forget, as an app would: the outcome is recorded, never awaited.
        a!.broker.publish(topic, data).then(
          () => resolved.push(data),
          () => {
            rejected++
          },
        )
      }, 5)
      cleanups.push(() => clearInterval(tick))
      await waitFor(() => resolved.length >= 50, 'publishing')
      const layout = new PartitionLayout(keyPrefix, 3)
      const masters = await cluster.masters()
      const admin = new Redis(masters[0]!.port)
      const slot = (await admin.cluster('KEYSLOT', layout.keys(0).head)) as number
      await admin.quit()
      const victim = masters.find((master) =>
        master.slots.some(([lo, hi]) => lo <= slot && slot <= hi),
      )!
      await cluster.killNode(victim.port)
      await cluster.waitForFailover(victim.port)
      const before = resolved.length
      await waitFor(() => resolved.length >= before + 60, 'publishing after the failover', {
        timeoutMs: 20_000,
      })
      clearInterval(tick)
      // Every event published after the failover arrives. Partitions are read apart, each at its
      // own pace after the cluster came back: wait for all of them, not for the last event only.
      const after = resolved.slice(before)
      const arrived = () => new Set(client.events.map((event) => event.data!))
      await waitFor(
        () => after.every((data) => arrived().has(data)),
        'every event published after the failover',
        {
          timeoutMs: 20_000,
        },
      )
      const seen = client.events.map((event) => event.data!)
      // None twice; each topic in publish order.
      expect(new Set(seen).size).toBe(seen.length)
      for (let t = 0; t < 3; t++) {
        const own = seen
          .filter((data) => Number(data.slice(1)) % 3 === t)
          .map((data) => Number(data.slice(1)))
        expect(own).toEqual([...own].sort((x, y) => x - y))
      }
      // Any loss is from before the failover, when Redis' asynchronous replication had not copied
      // the last writes to the replica.
      console.log(
        `failover: ${resolved.length} publishes resolved, ${rejected} rejected while the replica took over, ${resolved.filter((data) => !seen.includes(data)).length} resolved but lost in the failover`,
      )
      expect(unhandled).toEqual([])
    }, 60_000)
  },
)
