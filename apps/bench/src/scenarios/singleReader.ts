import { setTimeout as delay } from 'node:timers/promises'
import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  interleave,
  measure,
  warmUp,
  withResponsePaths,
} from '../benchContext.js'
import type { BusySpent } from '../busyLoop.js'
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

/** The issue's busy app: its event loop is busy 25 ms in every 100 ms. */
const BUSY = { everyMs: 100, forMs: 25 } as const

function sizeLabel(size: number): string {
  return size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`
}

/**
 * S6 for one event size: one client reading as fast as it can, events published one per
 * event-loop turn at `config.rate` MB/s (the event loop busy 25 ms in every 100 ms with
 * `config.busy`), default options → the MB/s of event data delivered, and whether the server cut
 * the reader.
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
        if (config.busy) {
          await server.call({ op: 'busy', ...BUSY })
          // Pacing starts half a period after the busy schedule: a run whose length is a whole number
          // of periods would end as a busy period starts, and each contender's figure would hang on
          // whether its last write beat that one timer.
          await delay(BUSY.everyMs / 2)
        }
        const paced = server.call<BurstResult>(
          { op: 'paced', count: events, size, megabytesPerSecond: config.rate },
          timeout,
        )
        // A cut reader ends this wait too (it is no longer a client to wait for).
        const complete = await context.load.expectEvents(events, timeout)
        const published = await paced
        // The app stays busy until the reader has it all: the tail is delivered from a busy loop.
        const busy = await server.call<BusySpent>({ op: 'busy', everyMs: 0, forMs: 0 })
        const after = await server.call<ServerUsage>({ op: 'usage' })
        const peakRss = await server.call<number>({ op: 'peakRss', reset: false })
        const report = await context.load.report()
        const megabytes = (report.received * size) / MB
        sample.metrics.MBps = megabytes / ((report.lastReceivedAt - published.startedAt) / 1e6)
        sample.metrics.ofPace = sample.metrics.MBps / config.rate
        sample.metrics.cut = report.cut
        sample.metrics.lost = events - report.received
        sample.metrics.reordered = report.reorders
        sample.metrics.publishMs = (published.endedAt - published.startedAt) / 1000
        sample.metrics.busyMs = busy.ms
        const cpuMicros = after.cpuMicros - before.cpuMicros - busy.cpuMicros
        sample.metrics.cpuMsPerMB = cpuMicros / 1000 / megabytes
        const syscalls =
          ((after.writeSyscalls ?? Number.NaN) - (before.writeSyscalls ?? Number.NaN)) /
          report.received
        if (Number.isFinite(syscalls)) sample.metrics.writeSyscallsPerEvent = syscalls
        sample.metrics.peakRssGrowthMB = (peakRss - rssBefore) / MB
        if (report.cut > 0) {
          sample.notes.push(`the server cut the reader after ${report.received} events`)
        } else if (!complete) {
          sample.notes.push('timed out before the reader had every event')
        }
      }),
  )
  const busyLabel = config.busy ? `${BUSY.forMs} ms every ${BUSY.everyMs} ms` : 'no'
  return {
    id,
    title: `S6 single reader, paced at ${config.rate} MB/s, ${sizeLabel(size)} events`,
    params: {
      clients: 1,
      events,
      'event bytes': size,
      'events per publish turn': 1,
      'pace (MB/s)': config.rate,
      'event loop busy': busyLabel,
    },
    samples,
    method: [
      `One client reads as fast as it can (a load-generator thread of the orchestrator's process parsing every event); the server publishes ${events} events of ${size} bytes (${config.megabytes} MiB of event data) at most one per event-loop turn (setImmediate between publishes), paced at ${config.rate} MB/s on a drift-free schedule (a 1 ms timer while ahead of it; behind it, one event per turn until caught up), the same code for every contender. ${config.busy ? `Meanwhile a timer keeps the server's event loop busy ${BUSY.forMs} ms in every ${BUSY.everyMs} ms (a busy-wait), as an app that renders pages or parses bodies does, from half a period before the first publish (so the run does not end as a busy period starts) until the reader has the last event.` : "The server's event loop does nothing else."} Our packages run with their defaults (maxBufferedBytes 512 KiB, onOverflow 'disconnect').`,
      `MB/s = event data received (events × event bytes, MB = 2²⁰ bytes; framing not counted, so ours, with an id: and an event: line per event, write more) ÷ (last receipt − first publish); × pace = that ÷ ${config.rate} MB/s: at most 1, less when the server (or the reader) falls behind the pace. Cut = the server ended the reader's stream before the last event: a reader that keeps up with the pace must never be taken for a stalled one.`,
      "Server CPU per MB (the CPU time of the busy-waits taken out) and write syscalls per event over the same span; peak RSS growth = the server's highest RSS during the run (sampled every 20 ms) minus before it: what it buffered for the reader, and for ours their history too (by default the last 1,000 events of the topic).",
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
