import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  interleave,
  measure,
  waitForSubscribers,
  withFloors,
} from '../benchContext.js'
import { nowMicros } from '../clock.js'
import { EVENTS_PATH } from '../contenders/contender.js'
import type { MemorySample } from '../protocol.js'
import type { ScenarioResult } from '../results.js'

/** S3: many idle connections → server memory per connection, time to connect them all. */
export async function idleCapacity(
  context: BenchContext,
  config: BenchConfig['s3'],
): Promise<ScenarioResult> {
  const { connections, concurrency } = config
  const samples = await interleave(
    context,
    'S3',
    config.rounds,
    withFloors(context.contenders),
    (contender, round) =>
      measure(context, contender, round, {}, async (server, sample) => {
        const before = await server.call<MemorySample>({ op: 'memory' })
        const start = nowMicros()
        const connected = await context.load.connect({
          port: server.port,
          path: EVENTS_PATH,
          count: connections,
          concurrency,
        })
        const connectMs = (nowMicros() - start) / 1000
        if (connected.opened !== connections) {
          throw new Error(
            `only ${connected.opened}/${connections} connected (${JSON.stringify(connected.statuses)})`,
          )
        }
        await waitForSubscribers(server, connections)
        const after = await server.call<MemorySample>({ op: 'memory' })
        sample.metrics.rssKB = (after.rss - before.rss) / connections / 1024
        sample.metrics.heapKB =
          (after.heapUsed + after.external - before.heapUsed - before.external) / connections / 1024
        sample.metrics.connectMs = connectMs
      }),
  )
  return {
    id: 'S3',
    title: 'S3 idle capacity',
    params: { connections, 'connections opening at once': concurrency },
    samples,
    method: [
      'The floors serve the write loop of the baseline through a plain Express or Fastify route, without any SSE library (the Hono floor: a ReadableStream per client behind a Hono route on @hono/node-server): what the framework itself costs per connection. The server runs with --expose-gc; before and after the clients connect it runs gc() three times and reads process.memoryUsage(). Per connection = difference ÷ connections. "heap" is heapUsed + external.',
    ],
  }
}
