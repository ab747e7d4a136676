import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  describeSample,
  startServer,
  warmUp,
} from '../benchContext.js'
import { split } from '../loadGenerator.js'
import type { Sample, ScenarioResult } from '../results.js'
import type { ServerProcess } from '../serverProcess.js'
import { measureFanOut, publishingPattern } from './fanOutThroughput.js'

/** Ids of the scale-out results: one process, and `processes` processes. */
export const SCALE_OUT_ONE = 'scaleout-1'
export const SCALE_OUT_MANY = 'scaleout-N'

/**
 * `processes` server processes of @sse/core over @sse/redis on one Redis, the clients spread
 * evenly over them; the first process publishes and Redis carries every event to all of them.
 */
async function runProcesses(
  context: BenchContext,
  config: BenchConfig['scaleout'],
  processes: number,
  round: number,
  redisUrl: string,
): Promise<Sample> {
  const sample: Sample = { contender: 'core', round, metrics: { processes }, notes: [] }
  const servers: ServerProcess[] = []
  // All processes share one prefix (one stream); each run gets a fresh one.
  const redisKeyPrefix = `bench:scaleout:${process.pid}:${Date.now()}:${round}:${processes}`
  try {
    const started = await Promise.allSettled(
      Array.from({ length: processes }, () =>
        startServer(context, { contender: 'core', redisUrl, redisKeyPrefix }),
      ),
    )
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value)
    const failed = started.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    const shares = split(config.clients, processes)
    for (const [i, server] of servers.entries()) await connectAll(context, server, shares[i]!)
    const publisher = servers[0]!
    await warmUp(context, publisher)
    await measureFanOut(context, publisher, servers, config, sample)
  } catch (error) {
    sample.error = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    sample.metrics = {}
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
    await context.load.closeAll()
  }
  context.log(
    `Scale-out round ${round}/${config.rounds}, ${processes} process${processes === 1 ? '' : 'es'}: ${describeSample(sample)}`,
  )
  return sample
}

/**
 * Scale-out: `processes` processes of @sse/core over @sse/redis against one process over the
 * same Redis, in the same round, with the same clients and events.
 */
export async function scaleOut(
  context: BenchContext,
  config: BenchConfig['scaleout'],
  redisUrl: string,
): Promise<{ one: ScenarioResult; many: ScenarioResult }> {
  const { processes, clients, events, size, chunk } = config
  if (!Number.isInteger(processes) || processes < 1) {
    throw new Error(`--scaleout.processes must be a positive integer, got ${processes}`)
  }
  const one: Sample[] = []
  const many: Sample[] = []
  for (let round = 1; round <= config.rounds; round++) {
    one.push(await runProcesses(context, config, 1, round, redisUrl))
    many.push(await runProcesses(context, config, processes, round, redisUrl))
  }
  const params = {
    processes,
    clients,
    events,
    'event bytes': size,
    'events per publish turn': chunk,
  }
  const method = [
    `Publishing pattern: ${publishingPattern(chunk)}, as fast as the publisher's event loop allows (setImmediate between publishes).`,
    `${processes} server processes of @sse/core, each with @sse/redis (RedisTransport) on one redis-server, ${clients} clients spread evenly over them; process 1 publishes and Redis carries every event to every process. The reference is one process over the same Redis with all ${clients} clients, in the same round.`,
    'Deliveries/s = events received by all clients ÷ (last receipt − start of publishing); p99 is publish-to-receive while saturated (it includes queueing); CPU and write syscalls are summed over the server processes (redis-server not included).',
  ]
  return {
    one: { id: SCALE_OUT_ONE, title: 'Scale-out, one process', params, samples: one, method },
    many: {
      id: SCALE_OUT_MANY,
      title: `Scale-out, ${processes} processes`,
      params,
      samples: many,
      method,
    },
  }
}
