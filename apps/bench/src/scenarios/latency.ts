import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  interleave,
  measure,
  warmUp,
  withFloors,
} from '../benchContext.js'
import type { BurstResult } from '../protocol.js'
import type { ScenarioResult } from '../results.js'

/** S2: a steady publish rate → publish-to-receive latency percentiles. */
export async function latency(
  context: BenchContext,
  config: BenchConfig['s2'],
): Promise<ScenarioResult> {
  const { clients, rate, duration, size } = config
  const expected = Math.max(1, Math.round((rate * duration) / 1000))
  const samples = await interleave(
    context,
    'S2',
    config.rounds,
    withFloors(context.contenders),
    (contender, round) =>
      measure(context, contender, round, {}, async (server, sample) => {
        await connectAll(context, server, clients)
        await warmUp(context, server)
        const published = await server.call<BurstResult>(
          { op: 'rate', rate, duration, size },
          duration + 60_000,
        )
        const count = published.lastSeq - published.firstSeq + 1
        const complete = await context.load.expectEvents(count, 30_000)
        const report = await context.load.report()
        sample.metrics.p50Ms = report.histogram.percentile(50)
        sample.metrics.p99Ms = report.histogram.percentile(99)
        sample.metrics.maxMs = report.histogram.percentile(100)
        sample.metrics.lost = clients * count - report.received
        if (!complete) sample.notes.push('timed out before every client had every event')
      }),
  )
  return {
    id: 'S2',
    title: 'S2 latency',
    params: {
      clients,
      'events/s': rate,
      'duration ms': duration,
      'event bytes': size,
      events: expected,
    },
    samples,
    method: [
      'The floors (plain Express or Fastify route, no SSE library) show what the framework itself adds. 50 warm-up events go out before measuring. Each event carries its publish time (µs, performance.timeOrigin + performance.now()); a client records receipt time − publish time for every event.',
    ],
  }
}
