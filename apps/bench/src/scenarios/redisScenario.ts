import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  describeSample,
  startServer,
  warmUp,
} from '../benchContext.js'
import type { BurstResult } from '../protocol.js'
import type { Sample, ScenarioResult } from '../results.js'
import type { ServerProcess } from '../serverProcess.js'
import { measureReplay, recordReplay } from './replay.js'

type TransportMode = 'memory' | 'redis'

/**
 * Two server processes of our core, each with `clients` clients. In-memory mode each publishes
 * to its own clients; Redis mode only the first publishes and Redis carries the events to both.
 */
async function runMode(
  context: BenchContext,
  config: BenchConfig['redis'],
  mode: TransportMode,
  round: number,
  redisUrl: string,
): Promise<Sample> {
  const sample: Sample = { contender: 'core', round, metrics: {}, notes: [] }
  const servers: ServerProcess[] = []
  const { clients, rate, duration, size } = config
  // Both instances share one prefix (one stream); each run gets a fresh one.
  const redisKeyPrefix = `bench:${process.pid}:${Date.now()}:${round}`
  try {
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startServer(context, {
          contender: 'core',
          ...(mode === 'redis' && { redisUrl, redisKeyPrefix }),
        }),
      )
    }
    const [first, second] = servers as [ServerProcess, ServerProcess]
    for (const server of servers) {
      await connectAll(context, server, clients)
    }
    const publishers = mode === 'redis' ? [first] : servers
    await warmUp(context, publishers)
    const results = await Promise.all(
      publishers.map((server) =>
        server.call<BurstResult>({ op: 'rate', rate, duration, size }, duration + 60_000),
      ),
    )
    const count = results[0]!.lastSeq - results[0]!.firstSeq + 1
    const complete = await context.load.expectEvents(count, 30_000)
    const report = await context.load.report()
    sample.metrics.p50Ms = report.histogram.percentile(50)
    sample.metrics.p99Ms = report.histogram.percentile(99)
    sample.metrics.lost = 2 * clients * count - report.received
    if (!complete) sample.notes.push('timed out before every client had every event')
    await context.load.closeAll()
    // Redis mode: history published on instance 1 is replayed by instance 2.
    const figures = await measureReplay(context, first, mode === 'redis' ? second : first, {
      clients: config.replayClients,
      behind: config.behind,
      size,
    })
    recordReplay(sample, figures, config.behind)
  } catch (error) {
    sample.error = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    sample.metrics = {}
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
    await context.load.closeAll()
  }
  context.log(`Redis round ${round} ${mode}: ${describeSample(sample)}`)
  return sample
}

/** The Redis scenario: p99 latency over Redis ÷ in memory, and replay from Redis history. */
export async function redisScenario(
  context: BenchContext,
  config: BenchConfig['redis'],
  redisUrl: string,
): Promise<{ memory: ScenarioResult; redis: ScenarioResult }> {
  const memory: Sample[] = []
  const redis: Sample[] = []
  for (let round = 1; round <= config.rounds; round++) {
    memory.push(await runMode(context, config, 'memory', round, redisUrl))
    redis.push(await runMode(context, config, 'redis', round, redisUrl))
  }
  const params = {
    instances: 2,
    'clients per instance': config.clients,
    'events/s': config.rate,
    'duration ms': config.duration,
    'replay clients': config.replayClients,
    'events behind': config.behind,
  }
  const method = [
    'Two server processes of @sse/core. In-memory mode: each instance publishes to its own clients. Redis mode (@sse/redis): only instance 1 publishes; Redis carries every event to both instances.',
    'Replay: in Redis mode clients reconnect to instance 2 with the Last-Event-ID of an event published on instance 1 (history from Redis Streams); in-memory mode they reconnect to instance 1 (its own history).',
  ]
  return {
    memory: {
      id: 'R-memory',
      title: 'Redis scenario, in-memory mode',
      params,
      samples: memory,
      method,
    },
    redis: { id: 'R-redis', title: 'Redis scenario, Redis mode', params, samples: redis, method },
  }
}
