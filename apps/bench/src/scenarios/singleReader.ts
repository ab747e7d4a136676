import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  interleave,
  measure,
  warmUp,
  withResponsePaths,
} from '../benchContext.js'
import { nowMicros } from '../clock.js'
import type { BurstResult, MemorySample, ServerUsage } from '../protocol.js'
import type { ScenarioResult } from '../results.js'
import { RESPONSE_PATH_NOTE } from './fanOutThroughput.js'

const MB = 1024 * 1024

/** The id of S6's result for events of `size` bytes (`S6-1KiB`, `S6-16KiB`). */
export function singleReaderId(size: number): string {
  return size % 1024 === 0 ? `S6-${size / 1024}KiB` : `S6-${size}B`
}

/** Time the reader gets per MiB before the wait gives up (0.1 MB/s would be a broken contender). */
const MS_PER_MB = 10_000

/**
 * S6 for one event size: one client reading as fast as it can, events published one per
 * event-loop turn as fast as the contender's server takes them, default options → the MB/s
 * of event data it sustains, and whether the server cut the reader.
 */
async function singleReaderOf(
  context: BenchContext,
  config: BenchConfig['s6'],
  size: number,
): Promise<ScenarioResult> {
  const id = singleReaderId(size)
  const events = Math.max(1, Math.round((config.megabytes * MB) / size))
  const timeout = 30_000 + config.megabytes * MS_PER_MB
  const samples = await interleave(
    context,
    id,
    config.rounds,
    withResponsePaths(context),
    (contender, round) =>
      measure(context, contender, round, {}, async (server, sample) => {
        await connectAll(context, server, 1)
        await warmUp(context, server)
        const { rss: rssBefore } = await server.call<MemorySample>({ op: 'memory' })
        await server.call({ op: 'peakRss', reset: true })
        const before = await server.call<ServerUsage>({ op: 'usage' })
        const start = nowMicros()
        const burst = server.call<BurstResult>(
          { op: 'burst', count: events, size, chunk: 1 },
          timeout,
        )
        // A cut reader ends this wait too (it is no longer a client to wait for).
        const complete = await context.load.expectEvents(events, timeout)
        const published = await burst
        const after = await server.call<ServerUsage>({ op: 'usage' })
        const peakRss = await server.call<number>({ op: 'peakRss', reset: false })
        const report = await context.load.report()
        const megabytes = (report.received * size) / MB
        sample.metrics.MBps = megabytes / ((report.lastReceivedAt - start) / 1e6)
        sample.metrics.cut = report.cut
        sample.metrics.lost = events - report.received
        sample.metrics.reordered = report.reorders
        sample.metrics.publishMs = (published.endedAt - published.startedAt) / 1000
        sample.metrics.cpuMsPerMB = (after.cpuMicros - before.cpuMicros) / 1000 / megabytes
        const syscalls = (after.writeSyscalls - before.writeSyscalls) / report.received
        if (Number.isFinite(syscalls)) sample.metrics.writeSyscallsPerEvent = syscalls
        sample.metrics.peakRssGrowthMB = (peakRss - rssBefore) / MB
        if (report.cut > 0) {
          sample.notes.push(`the server cut the reader after ${report.received} events`)
        } else if (!complete) {
          sample.notes.push('timed out before the reader had every event')
        }
      }),
  )
  return {
    id,
    title: `S6 single reader at a high rate, ${size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`} events`,
    params: { clients: 1, events, 'event bytes': size, 'events per publish turn': 1 },
    samples,
    method: [
      `One client reads as fast as it can (a load-generator thread parsing every event); the server publishes ${events} events of ${size} bytes (${config.megabytes} MiB of event data) one per event-loop turn (setImmediate between publishes) as fast as it can, the same code for every contender. Our packages run with their defaults (maxBufferedBytes 512 KiB, onOverflow 'disconnect').`,
      "MB/s = event data received (events × event bytes, MB = 2²⁰ bytes; framing not counted, so ours, with an id: and an event: line per event, write more) ÷ (last receipt − start of publishing). Cut = the server ended the reader's stream before the last event: a library that bounds what it buffers for a client may take a reader that cannot keep up with the publisher for a stalled one.",
      "Server CPU per MB and write syscalls per event over the same span; peak RSS growth = the server's highest RSS during the run (sampled every 20 ms) minus before it: what it buffered for the reader.",
      ...(context.responsePath ? [RESPONSE_PATH_NOTE] : []),
    ],
  }
}

/** S6: the single-reader run for each event size of `config.sizes`, one result per size. */
export async function singleReader(
  context: BenchContext,
  config: BenchConfig['s6'],
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const size of config.sizes) results.push(await singleReaderOf(context, config, size))
  return results
}
