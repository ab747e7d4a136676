import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  interleave,
  isOurs,
  measure,
  waitForSubscribers,
} from '../benchContext.js'
import { nowMicros } from '../clock.js'
import { EVENTS_PATH } from '../contenders/contender.js'
import type { BurstResult, ContenderId } from '../protocol.js'
import type { Sample, ScenarioResult } from '../results.js'
import type { ServerProcess } from '../serverProcess.js'

/** What {@link measureReplay} found. */
export interface ReplayFigures {
  /** From the first connect to the last client holding the newest event. */
  catchUpMs: number
  /** Events received per reconnecting client, on average. */
  eventsPerClient: number
  gaps: number
  complete: boolean
}

/**
 * Publishes `behind` × 2 events through `publisher` (watched by one id-tracking probe on
 * `replayServer`), then connects `clients` to `replayServer` with the `Last-Event-ID` of the event
 * `behind` events before the newest, and times until all of them hold the newest event.
 */
export async function measureReplay(
  context: BenchContext,
  publisher: ServerProcess,
  replayServer: ServerProcess,
  options: { clients: number; behind: number; size: number },
): Promise<ReplayFigures> {
  const { clients, behind, size } = options
  const probe = await context.load.connect({
    port: replayServer.port,
    path: EVENTS_PATH,
    count: 1,
    trackIds: true,
  })
  if (probe.opened !== 1) throw new Error('the probe could not connect')
  await waitForSubscribers(replayServer, 1)
  const published = await publisher.call<BurstResult>({
    op: 'burst',
    count: behind * 2,
    size,
    chunk: 100,
  })
  if (!(await context.load.expectSeq(published.lastSeq, 30_000)))
    throw new Error('the probe missed events')
  const lastEventId = await context.load.idOf(published.lastSeq - behind)
  if (lastEventId === undefined) throw new Error('no id seen for the replay point')
  await context.load.closeAll()
  await context.load.reset()
  const start = nowMicros()
  const connected = await context.load.connect({
    port: replayServer.port,
    path: EVENTS_PATH,
    count: clients,
    headers: { 'Last-Event-ID': lastEventId },
  })
  if (connected.opened !== clients)
    throw new Error(`only ${connected.opened}/${clients} reconnected`)
  const complete = await context.load.expectSeq(published.lastSeq, 60_000)
  const catchUpMs = (nowMicros() - start) / 1000
  const report = await context.load.report()
  return { catchUpMs, eventsPerClient: report.received / clients, gaps: report.gaps, complete }
}

/** Time for `clients` fresh connections (no replay) to get their headers: the part that is not replay. */
export async function measureConnect(
  context: BenchContext,
  server: ServerProcess,
  clients: number,
) {
  await context.load.closeAll()
  const start = nowMicros()
  const connected = await context.load.connect({
    port: server.port,
    path: EVENTS_PATH,
    count: clients,
  })
  if (connected.opened !== clients) throw new Error(`only ${connected.opened}/${clients} connected`)
  return (nowMicros() - start) / 1000
}

export function recordReplay(sample: Sample, figures: ReplayFigures, behind: number): void {
  sample.metrics.catchUpMs = figures.catchUpMs
  sample.metrics.eventsPerClient = figures.eventsPerClient
  if (!figures.complete) sample.notes.push('not every client caught up')
  if (figures.gaps > 0) sample.notes.push(`${figures.gaps} events missing in replays`)
  if (Math.round(figures.eventsPerClient) !== behind) {
    sample.notes.push(
      `expected ${behind} events per client, got ${figures.eventsPerClient.toFixed(1)}`,
    )
  }
}

/** S5: clients reconnecting some events behind, with `Last-Event-ID` (our packages only). */
export async function replay(
  context: BenchContext,
  config: BenchConfig['s5'],
): Promise<ScenarioResult> {
  const { clients, behind, size } = config
  const contenders = context.contenders.filter((contender: ContenderId) => isOurs(contender))
  const samples = await interleave(context, 'S5', config.rounds, contenders, (contender, round) =>
    measure(context, contender, round, {}, async (server, sample) => {
      const figures = await measureReplay(context, server, server, { clients, behind, size })
      recordReplay(sample, figures, behind)
      sample.metrics.connectOnlyMs = await measureConnect(context, server, clients)
    }),
  )
  return {
    id: 'S5',
    title: 'S5 replay',
    params: { clients, 'events behind': behind, 'event bytes': size },
    samples,
    method: [
      `${behind * 2} events are published; then ${clients} clients connect with the Last-Event-ID of the event ${behind} before the newest. Catch-up = first connect → every client holds the newest event. "connect only" is the same number of fresh connections without replay, for scale.`,
    ],
  }
}
