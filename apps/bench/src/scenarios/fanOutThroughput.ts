import type { FanOutConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  interleave,
  measure,
  warmUp,
  withResponsePaths,
} from '../benchContext.js'
import { nowMicros } from '../clock.js'
import type { BurstResult, ServerUsage } from '../protocol.js'
import type { Sample, ScenarioResult } from '../results.js'
import type { ServerProcess } from '../serverProcess.js'

/** The report's note on our public-write-path contenders. */
export const RESPONSE_PATH_NOTE =
  "Our packages with writePath 'response' write every chunk through res.write() (the public write path, as behind compression middleware) instead of to the socket directly (the default 'socket'); their ratio to the direct path in the same round is in the targets."

/** The two publishing patterns of S1: `chunk` 1 is isolated events, more is bursts. */
export function publishingPattern(chunk: number): string {
  return chunk === 1
    ? 'isolated events, one per event-loop turn'
    : `bursts of ${chunk} events per event-loop turn`
}

/** CPU time and write system calls summed over `servers` (`NaN` calls where one is not counted). */
async function usageOf(
  servers: readonly ServerProcess[],
): Promise<{ cpuMicros: number; writeSyscalls: number }> {
  const usages = await Promise.all(
    servers.map((server) => server.call<ServerUsage>({ op: 'usage' })),
  )
  return {
    cpuMicros: usages.reduce((sum, usage) => sum + usage.cpuMicros, 0),
    writeSyscalls: usages.reduce((sum, usage) => sum + (usage.writeSyscalls ?? Number.NaN), 0),
  }
}

/**
 * Publishes `events` through `publisher`, `chunk` per event-loop turn, waits until every client
 * holds all of them, and records deliveries/s, losses, reordering, p99, and the server CPU time
 * and write system calls (summed over `servers`) per delivery.
 */
export async function measureFanOut(
  context: BenchContext,
  publisher: ServerProcess,
  servers: readonly ServerProcess[],
  config: Omit<FanOutConfig, 'rounds'>,
  sample: Sample,
): Promise<void> {
  const { clients, events, size, chunk } = config
  const before = await usageOf(servers)
  const start = nowMicros()
  const burst = publisher.call<BurstResult>({ op: 'burst', count: events, size, chunk })
  const complete = await context.load.expectEvents(events, 120_000)
  const published = await burst
  const after = await usageOf(servers)
  const report = await context.load.report()
  const elapsed = (report.lastReceivedAt - start) / 1e6
  sample.metrics.deliveriesPerSec = report.received / elapsed
  sample.metrics.lost = clients * events - report.received
  sample.metrics.reordered = report.reorders
  sample.metrics.publishMs = (published.endedAt - published.startedAt) / 1000
  sample.metrics.cpuNsPerDelivery = ((after.cpuMicros - before.cpuMicros) * 1000) / report.received
  const syscalls = (after.writeSyscalls - before.writeSyscalls) / report.received
  if (Number.isFinite(syscalls)) sample.metrics.writeSyscallsPerDelivery = syscalls
  sample.metrics.p99Ms = report.histogram.percentile(99)
  if (!complete) sample.notes.push('timed out before every client had every event')
  if (report.closed > 0) sample.notes.push(`${report.closed} connections closed by the server`)
}

/**
 * S1 (isolated events, `chunk` 1) and S1b (bursts): one topic, many clients → deliveries per
 * second, server CPU and write system calls per delivery.
 */
export async function fanOutThroughput(
  context: BenchContext,
  id: 'S1' | 'S1b',
  config: FanOutConfig,
): Promise<ScenarioResult> {
  const { clients, events, size, chunk } = config
  const samples = await interleave(
    context,
    id,
    config.rounds,
    withResponsePaths(context),
    (contender, round) =>
      measure(context, contender, round, {}, async (server, sample) => {
        await connectAll(context, server, clients)
        await warmUp(context, server)
        await measureFanOut(context, server, [server], config, sample)
      }),
  )
  const pattern = publishingPattern(chunk)
  return {
    id,
    title: `${id} fan-out throughput, ${chunk === 1 ? 'isolated events' : 'bursts'}`,
    params: { clients, events, 'event bytes': size, 'events per publish turn': chunk },
    samples,
    method: [
      `Publishing pattern: ${pattern}. The server publishes ${events} events of ${size} bytes, ${chunk === 1 ? 'each in its own event-loop turn' : `${chunk} in a synchronous loop per event-loop turn`} (setImmediate between turns), the same code for every contender.`,
      'Deliveries/s = events received by all clients ÷ (last receipt − start of publishing). Server CPU = user + system CPU time of the server process from the start of publishing until every client has every event ÷ deliveries: less sensitive to a noisy machine than wall time.',
      "Write syscalls/delivery = the server's write/writev system calls over the same span (syscw of /proc/<pid>/io) ÷ deliveries.",
      ...(context.responsePath ? [RESPONSE_PATH_NOTE] : []),
    ],
  }
}
