import { setTimeout as sleep } from 'node:timers/promises'
import { createBroker } from '@sse/core'
import { redisTransport } from '@sse/redis'
import { closeStreams, openStream, type TestStream } from '@sse/testing'
import { useCleanups, waitFor } from '@sse/testkit'
import { type RedisServer, startRedis } from '@sse/testkit/redisServer'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, test } from 'vitest'
import { compareStreamIds } from '../src/streamId.js'
import { hasRedis, holdingProxy, type Instance, startInstance, uniquePrefix } from './helpers.js'

afterEach(closeStreams)

const NAMES = ['a', 'b', 'c'] as const
const MiB = 1024 * 1024
/** Padding that makes each publish a few hundred bytes, so pipelines span several socket reads. */
const PAD = '.'.repeat(400)

/** One publish as called: who, its rank in that instance's calls, and how it ended. */
interface Call {
  readonly name: string
  readonly rank: number
  readonly outcome: Promise<{ id: string } | { error: unknown }>
}

/** Three instances on one Redis and key prefix, with a reading client on each. */
interface Cluster {
  readonly redis: Redis
  readonly keyPrefix: string
  readonly instances: readonly Instance[]
  readonly clients: readonly TestStream[]
}

/** The data of an event: the publisher's name and its rank among that publisher's calls. */
function dataOf(name: string, rank: number): string {
  return `${name} ${rank} ${PAD}`
}

function parse(data: string): { name: string; rank: number } {
  const [name = '', rank = ''] = data.split(' ')
  return { name, rank: Number(rank) }
}

/** For each publisher, the ranks of its events in the order `datas` holds them. */
function ranksByPublisher(datas: readonly string[]): Record<string, number[]> {
  const ranks: Record<string, number[]> = Object.fromEntries(NAMES.map((name) => [name, []]))
  for (const data of datas) {
    const { name, rank } = parse(data)
    ranks[name]?.push(rank)
  }
  return ranks
}

function increasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!)
}

describe.runIf(hasRedis)("one instance's publishes keep their call order on Redis", () => {
  const cleanups = useCleanups()

  async function ownRedis(): Promise<RedisServer> {
    const server = await startRedis()
    cleanups.push(() => server.stop())
    return server
  }

  async function cluster(server: RedisServer): Promise<Cluster> {
    const keyPrefix = uniquePrefix()
    const redis = new Redis(server.url)
    // It reconnects by itself across a restart.
    redis.on('error', () => {})
    cleanups.push(() => redis.quit())
    // Order is the subject here, not slow clients: a client that falls behind while this process
    // publishes stays connected.
    const instances = await Promise.all(
      NAMES.map(() =>
        startInstance(cleanups, { url: server.url, keyPrefix }, { maxBufferedBytes: 64 * MiB }),
      ),
    )
    const clients = await Promise.all(
      instances.map((instance) =>
        openStream(`${instance.url}/events?topics=order`, { timeout: 30_000 }),
      ),
    )
    await waitFor(() => instances.every((instance) => instance.broker.subscribers('order') === 1))
    return { redis, keyPrefix, instances, clients }
  }

  /** Every instance publishes `count` events, interleaved, in one synchronous loop: fire and forget. */
  function publishAtOnce(
    instances: readonly Instance[],
    calls: Call[],
    from: number,
    count: number,
  ) {
    for (let rank = from; rank < from + count; rank++) {
      instances.forEach((instance, i) => {
        const name = NAMES[i]!
        const outcome = instance.broker.publish('order', dataOf(name, rank)).then(
          (id) => ({ id }),
          (error: unknown) => ({ error }),
        )
        calls.push({ name, rank, outcome })
      })
    }
  }

  /** The ids that publishes resolved to, per publisher, in call order (failed ones left out). */
  async function idsInCallOrder(calls: readonly Call[]): Promise<Record<string, string[]>> {
    const ids: Record<string, string[]> = Object.fromEntries(NAMES.map((name) => [name, []]))
    for (const call of calls) {
      const outcome = await call.outcome
      if ('id' in outcome) ids[call.name]!.push(outcome.id)
    }
    return ids
  }

  /** The errors of the publishes that failed. */
  async function failuresOf(calls: readonly Call[]): Promise<unknown[]> {
    const outcomes = await Promise.all(calls.map((call) => call.outcome))
    return outcomes.flatMap((outcome) => ('error' in outcome ? [outcome.error] : []))
  }

  /** The data of the stream's entries, in stream order. */
  async function streamDatas({ redis, keyPrefix }: Cluster): Promise<string[]> {
    const entries = await redis.xrange(`${keyPrefix}:events`, '-', '+')
    return entries.map(([, fields]) => {
      const frame = fields[fields.indexOf('f') + 1] ?? ''
      return /\ndata: (.*)\n/.exec(frame)?.[1] ?? ''
    })
  }

  /**
   * The guarantee, checked on the ids, the stream and every client: each publisher's successful
   * publishes come in call order. Returns the ranks that succeeded, per publisher.
   */
  async function expectCallOrder(
    { instances, clients, ...rest }: Cluster,
    calls: readonly Call[],
  ): Promise<Record<string, number[]>> {
    const ids = await idsInCallOrder(calls)
    for (const name of NAMES) {
      const sorted = [...ids[name]!].sort(compareStreamIds)
      expect(ids[name], `the ids ${name}'s publishes resolved to`).toEqual(sorted)
      expect(new Set(ids[name]).size).toBe(ids[name]!.length)
    }
    const succeeded: Record<string, number[]> = Object.fromEntries(NAMES.map((name) => [name, []]))
    for (const call of calls) {
      if ('id' in (await call.outcome)) succeeded[call.name]!.push(call.rank)
    }
    const newest = Object.values(ids).flatMap((list) => list.slice(-1))
    const last = newest.sort(compareStreamIds).at(-1)
    if (last !== undefined) {
      await Promise.all(clients.map((client) => client.until((event) => event.id === last)))
    }
    const stored = ranksByPublisher(await streamDatas({ instances, clients, ...rest }))
    for (const name of NAMES) expect(increasing(stored[name]!), `${name} in the stream`).toBe(true)
    clients.forEach((client, i) => {
      const seen = ranksByPublisher(client.events.map((event) => event.data))
      for (const name of NAMES) {
        expect(increasing(seen[name]!), `${name}'s events on client ${NAMES[i]}`).toBe(true)
      }
    })
    return succeeded
  }

  test('three instances that start together on a fresh Redis and publish 200 events each at once, fire and forget: every client and the stream hold each instance’s events in call order', async () => {
    // The script cache of a fresh Redis is empty: each round is a start-up race.
    for (let round = 0; round < 4; round++) {
      const server = await ownRedis()
      const cluster3 = await cluster(server)
      const calls: Call[] = []
      // In a few turns, as publishers in separate processes would interleave.
      for (let from = 0; from < 200; from += 25) {
        publishAtOnce(cluster3.instances, calls, from, 25)
        await new Promise((resolve) => setImmediate(resolve))
      }
      const succeeded = await expectCallOrder(cluster3, calls)
      const all = Array.from({ length: 200 }, (_, rank) => rank)
      for (const name of NAMES) expect(succeeded[name]).toEqual(all)
      expect(await cluster3.redis.xlen(`${cluster3.keyPrefix}:events`)).toBe(600)
      for (const client of cluster3.clients) {
        const seen = ranksByPublisher(client.events.map((event) => event.data))
        for (const name of NAMES) expect(seen[name]).toEqual(all)
      }
      await Promise.all(cluster3.instances.map((instance) => instance.close()))
      await server.stop()
    }
  }, 120_000)

  test('SCRIPT FLUSH while three instances publish does not reorder any instance’s events: a publish that cannot be re-sent in order fails instead', async () => {
    const server = await ownRedis()
    const cluster3 = await cluster(server)
    const calls: Call[] = []
    for (let wave = 0; wave < 30; wave++) {
      publishAtOnce(cluster3.instances, calls, wave * 20, 20)
      // Not awaited: the flush lands among publishes in flight.
      if (wave % 2 === 1) void cluster3.redis.script('FLUSH')
      await sleep(wave % 3)
    }
    const succeeded = await expectCallOrder(cluster3, calls)
    const failures = await failuresOf(calls)
    for (const error of failures) {
      expect(error).toMatchObject({ code: 'TRANSPORT_ERROR', message: /keep their call order/ })
    }
    for (const name of NAMES) expect(succeeded[name]!.length).toBeGreaterThan(0)
    expect(Object.values(succeeded).flat().length + failures.length).toBe(calls.length)
  }, 60_000)

  test('publishes fired on every turn while a broker starts, and after, keep their call order, though its reader is ready before its control channel', async () => {
    const server = await ownRedis()
    for (let round = 0; round < 3; round++) {
      const keyPrefix = uniquePrefix()
      // Another instance keeps publishing: the stream's end moves while this one starts.
      const other = await startInstance(cleanups, { url: server.url, keyPrefix })
      const url = await holdingProxy(cleanups, server.port, { command: 'subscribe', delayMs: 300 })
      const broker = createBroker({ keepAlive: 0, transport: redisTransport({ url, keyPrefix }) })
      cleanups.push(() => broker.close())
      let ready = false
      void broker.ready.then(() => {
        ready = true
      })
      // Each publish settles to its id, or to undefined if it failed (never reordered).
      const ids: Array<Promise<string | undefined>> = []
      for (let turn = 0, after = 0; after < 20; turn++) {
        if (ready) after++
        void other.broker.publish('order', `other ${turn}`)
        ids.push(broker.publish('order', `turn ${turn}`).catch(() => undefined))
        await sleep(1)
      }
      const resolved = (await Promise.all(ids)).filter((id) => id !== undefined)
      expect(resolved.length).toBeGreaterThanOrEqual(20)
      expect(resolved).toEqual([...resolved].sort(compareStreamIds))
      await broker.close()
      await other.close()
    }
  }, 60_000)

  for (const data of ['without its data', 'with its data'] as const) {
    test(`Redis restarts ${data} while three instances publish do not reorder any instance’s events`, async () => {
      const server = await ownRedis()
      const cluster3 = await cluster(server)
      const { instances } = cluster3
      const calls: Call[] = []
      let rank = 0
      let stop = false
      const publishing = (async () => {
        while (!stop) {
          publishAtOnce(instances, calls, rank, 20)
          rank += 20
          await sleep(2)
        }
      })()
      /** Ranks whose publishes started before the first restart. */
      let firstRestartAt = Number.POSITIVE_INFINITY
      /** Ranks published after the last reconnect. */
      let lastReconnectAt = 0
      for (let restart = 0; restart < 3; restart++) {
        const from = calls.length
        await waitFor(() => calls.length >= from + 300, 'publishing before the restart')
        if (data === 'with its data') {
          // The restarted server loads this snapshot: the stream comes back older than it was read.
          await cluster3.redis.save()
        }
        firstRestartAt = Math.min(firstRestartAt, rank)
        await server.restart()
        await waitFor(
          () => instances.every((instance) => instance.transport.stats().connected),
          'every instance to reconnect',
          { timeoutMs: 20_000 },
        )
        lastReconnectAt = rank
      }
      const from = calls.length
      await waitFor(() => calls.length >= from + 300, 'publishing after the restarts')
      stop = true
      await publishing

      const succeeded = await expectCallOrder(cluster3, calls)
      for (const name of NAMES) {
        // Some publishes failed during the outages; those after the last one succeeded.
        expect(succeeded[name]!.length).toBeLessThan(rank)
        const after = succeeded[name]!.filter((r) => r >= lastReconnectAt)
        expect(after.length).toBe(rank - lastReconnectAt)
      }
      const [first] = await streamDatas(cluster3)
      const firstRank = parse(first ?? '').rank
      if (data === 'with its data') expect(firstRank).toBeLessThan(firstRestartAt)
      else expect(firstRank).toBeGreaterThanOrEqual(firstRestartAt)
    }, 60_000)
  }
})
