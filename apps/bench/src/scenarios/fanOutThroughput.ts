import type { BenchConfig } from '../benchConfig.js'
import { type BenchContext, connectAll, interleave, measure, warmUp } from '../benchContext.js'
import { nowMicros } from '../clock.js'
import type { BurstResult } from '../protocol.js'
import type { ScenarioResult } from '../results.js'

/** S1: one topic, many clients, a burst → deliveries per second. */
export async function fanOutThroughput(
  context: BenchContext,
  config: BenchConfig['s1'],
): Promise<ScenarioResult> {
  const { clients, events, size, chunk } = config
  const samples = await interleave(
    context,
    'S1',
    config.rounds,
    context.contenders,
    (contender, round) =>
      measure(context, contender, round, {}, async (server, sample) => {
        await connectAll(context, server, clients)
        await warmUp(context, server)
        const cpuBefore = await server.call<number>({ op: 'cpu' })
        const start = nowMicros()
        const burst = server.call<BurstResult>({ op: 'burst', count: events, size, chunk })
        const complete = await context.load.expectEvents(events, 60_000)
        const published = await burst
        const cpuAfter = await server.call<number>({ op: 'cpu' })
        const report = await context.load.report()
        const elapsed = (report.lastReceivedAt - start) / 1e6
        sample.metrics.deliveriesPerSec = report.received / elapsed
        sample.metrics.lost = clients * events - report.received
        sample.metrics.reordered = report.reorders
        sample.metrics.publishMs = (published.endedAt - published.startedAt) / 1000
        sample.metrics.cpuNsPerDelivery = ((cpuAfter - cpuBefore) * 1000) / report.received
        sample.metrics.p99Ms = report.histogram.percentile(99)
        if (!complete) sample.notes.push('timed out before every client had every event')
        if (report.closed > 0)
          sample.notes.push(`${report.closed} connections closed by the server`)
      }),
  )
  return {
    id: 'S1',
    title: 'S1 fan-out throughput',
    params: { clients, events, 'event bytes': size, 'events per publish turn': chunk },
    samples,
    method: [
      `The server publishes ${events} events of ${size} bytes in a synchronous loop, ${chunk} per event-loop turn (setImmediate between turns), the same code for every contender.`,
      'Deliveries/s = events received by all clients ÷ (last receipt − start of the burst). Server CPU = user + system CPU time of the server process over the burst ÷ deliveries: less sensitive to a noisy machine than wall time.',
    ],
  }
}
