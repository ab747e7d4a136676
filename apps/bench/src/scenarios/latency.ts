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

/** The id of S2's result at `rate` events/s (`S2-20`, `S2-100`, …). */
export function latencyId(rate: number): string {
  return `S2-${rate}`
}

/**
 * Slowest delivery rate a contender gets before the wait for the last event gives up: at 100 or
 * 200 events/s the plain loop and the peers finish long after the publisher (their queues drain).
 */
const SLOWEST_DELIVERIES_PER_MS = 20

/** S2 at one rate: a steady publish rate → publish-to-receive latency percentiles. */
async function latencyAt(
  context: BenchContext,
  config: BenchConfig['s2'],
  rate: number,
): Promise<ScenarioResult> {
  const { clients, duration, size } = config
  const id = latencyId(rate)
  const expected = Math.max(1, Math.round((rate * duration) / 1000))
  const samples = await interleave(
    context,
    id,
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
        const drain = 30_000 + (count * clients) / SLOWEST_DELIVERIES_PER_MS
        const complete = await context.load.expectEvents(count, drain)
        const report = await context.load.report()
        sample.metrics.p50Ms = report.histogram.percentile(50)
        sample.metrics.p99Ms = report.histogram.percentile(99)
        sample.metrics.maxMs = report.histogram.percentile(100)
        sample.metrics.lost = clients * count - report.received
        sample.metrics.cut = report.cut
        if (!complete) sample.notes.push('timed out before every client had every event')
        if (report.cut > 0) sample.notes.push(`${report.cut} clients cut by the server`)
      }),
  )
  return {
    id,
    title: `S2 latency, ${rate} events/s`,
    params: {
      clients,
      'events/s': rate,
      'duration ms': duration,
      'event bytes': size,
      events: expected,
    },
    samples,
    method: [
      'The floors (plain Express, Fastify or Hono route, no SSE library) show what the framework itself adds. 50 warm-up events go out before measuring. Each event carries its publish time (µs, performance.timeOrigin + performance.now()); a client records receipt time − publish time for every event.',
      `Publishing is a drift-free schedule of ${rate} events/s; at a rate a contender's event loop cannot follow, the events due are published together and its clients' queues grow, so the figure includes that queueing (the percentiles are over every event, received after the publisher stopped too).`,
    ],
  }
}

/** S2: the same load at each rate of `config.rates`, one result per rate. */
export async function latency(
  context: BenchContext,
  config: BenchConfig['s2'],
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const rate of config.rates) results.push(await latencyAt(context, config, rate))
  return results
}
