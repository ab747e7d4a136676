import type { BenchConfig } from '../benchConfig.js'
import {
  type BenchContext,
  connectAll,
  interleave,
  isOurs,
  measure,
  waitForSubscribers,
} from '../benchContext.js'
import { nowMicros, sleep } from '../clock.js'
import { EVENTS_PATH } from '../contenders/contender.js'
import { CONTENDER_LABELS, type ContenderId, type MemorySample } from '../protocol.js'
import type { Sample, ScenarioResult } from '../results.js'
import type { ServerProcess } from '../serverProcess.js'

const MB = 1024 * 1024

interface Drive {
  healthyRate: number
  /** Server CPU time (user + system) per event delivered to a healthy client. */
  cpuNsPerDelivery: number
  lastSeq: number
  complete: boolean
  /** Healthy clients the server ended during the drive. */
  cut: number
  /** Events the healthy clients should have received and did not (summed over them). */
  missed: number
}

/**
 * Publishes `events` in chunks with at most `window` chunks ahead of the slowest healthy client,
 * so healthy clients are never overrun whatever the machine's speed, and returns their rate.
 */
async function drive(
  context: BenchContext,
  server: ServerProcess,
  config: BenchConfig['s4'],
  healthy: number,
): Promise<Drive> {
  const { events, size, chunk, window } = config
  const chunks = Math.ceil(events / chunk)
  await context.load.reset()
  const cpuBefore = await server.call<number>({ op: 'cpu' })
  const start = nowMicros()
  let lastSeq = -1
  let complete = true
  for (let k = 0; k < chunks; k++) {
    if (k >= window) complete &&= await context.load.expectEvents((k - window + 1) * chunk, 30_000)
    const count = Math.min(chunk, events - k * chunk)
    const burst = await server.call<{ lastSeq: number }>({ op: 'burst', count, size, chunk: count })
    lastSeq = burst.lastSeq
  }
  complete &&= await context.load.expectEvents(events, 60_000)
  const report = await context.load.report()
  const stalled = await context.load.stalledState()
  const stalledReceived = stalled.reduce((sum, state) => sum + state.received, 0)
  const healthyReceived = report.received - stalledReceived
  const elapsed = (report.lastReceivedAt - start) / 1e6
  if (healthyReceived < healthy * events) complete = false
  const cpu = (await server.call<number>({ op: 'cpu' })) - cpuBefore
  return {
    healthyRate: healthyReceived / elapsed,
    cpuNsPerDelivery: (cpu * 1000) / healthyReceived,
    lastSeq,
    complete: complete && report.cut === 0,
    cut: report.cut,
    missed: Math.max(0, healthy * events - healthyReceived),
  }
}

/** Why a sample fails S4: any healthy client cut, or short of an event. */
function failureOf(sample: Sample): string | undefined {
  const cut = sample.metrics.healthyCut ?? 0
  const missed = sample.metrics.healthyMissed ?? 0
  if (cut === 0 && missed === 0) return undefined
  return `${CONTENDER_LABELS[sample.contender]}, round ${sample.round}: ${cut} healthy clients cut, ${missed} events missed by healthy clients`
}

function heap(sample: MemorySample): number {
  return sample.heapUsed + sample.external
}

/**
 * S4: some clients stop reading while enough is published to overflow their kernel socket
 * buffers, so the library's own buffering is what is tested.
 */
export async function slowConsumers(
  context: BenchContext,
  config: BenchConfig['s4'],
): Promise<ScenarioResult> {
  const { clients, stalled, events, size, maxBufferedBytes } = config
  const ourConfig = { maxBufferedBytes, historySize: events }
  const runOne = (contender: ContenderId, round: number) =>
    measure(
      context,
      contender,
      round,
      isOurs(contender) ? ourConfig : {},
      async (server, sample) => {
        // Reference: the same load with every client reading.
        await connectAll(context, server, clients)
        const reference = await drive(context, server, config, clients)
        await context.load.closeAll()
        await waitForSubscribers(server, 0)
        sample.metrics.referenceRate = reference.healthyRate

        await connectAll(context, server, clients)
        const paused = await context.load.pause(stalled)
        const before = await server.call<MemorySample>({ op: 'memory' })
        await server.call({ op: 'peakRss', reset: true })
        const run = await drive(context, server, config, clients - paused)
        const peakRss = await server.call<number>({ op: 'peakRss', reset: false })
        const held = await server.call<MemorySample>({ op: 'memory' })
        sample.metrics.healthyRate = run.healthyRate
        sample.metrics.cpuNsPerDelivery = run.cpuNsPerDelivery
        sample.metrics.referenceCpuNsPerDelivery = reference.cpuNsPerDelivery
        sample.metrics.rateVsReference = run.healthyRate / reference.healthyRate
        sample.metrics.peakRssGrowthMB = (peakRss - before.rss) / MB
        sample.metrics.growthMB = (heap(held) - heap(before)) / MB
        sample.metrics.healthyMissed = reference.missed + run.missed
        if (!run.complete || !reference.complete) {
          sample.notes.push('healthy clients did not all receive every event')
        }

        // What happened to the stalled clients: read what the kernel holds, see if they were cut.
        await context.load.resume()
        const deadline = Date.now() + 20_000
        let states = await context.load.stalledState()
        while (
          Date.now() < deadline &&
          states.some((state) => !state.closed && state.lastSeq < run.lastSeq)
        ) {
          await sleep(100)
          states = await context.load.stalledState()
        }
        const cut = states.filter((state) => state.closed && state.lastSeq < run.lastSeq)
        const caughtUp = states.filter((state) => state.lastSeq >= run.lastSeq)
        sample.metrics.stalledCut = cut.length
        sample.metrics.stalledCaughtUp = caughtUp.length
        await context.load.destroyStalled()
        await sleep(200)
        const after = await server.call<MemorySample>({ op: 'memory' })
        // Memory that was held for the stalled clients: released when they went away.
        sample.metrics.stalledHeldMB = (heap(held) - heap(after)) / MB
        sample.metrics.boundMB = (paused * maxBufferedBytes) / MB
        const stats = await server.call<Record<string, number> | undefined>({ op: 'stats' })
        if (stats !== undefined) sample.metrics.slowDisconnects = stats.slowDisconnects ?? 0

        if (isOurs(contender) && cut.length > 0) {
          // They reconnect with Last-Event-ID and must replay up to the last event.
          const start = nowMicros()
          const lastEventIds = cut.map((state) => state.lastId ?? '')
          await context.load.connect({
            port: server.port,
            path: EVENTS_PATH,
            count: cut.length,
            lastEventIds,
          })
          const replayed = await context.load.expectSeq(run.lastSeq, 30_000)
          sample.metrics.replayMs = (nowMicros() - start) / 1000
          const report = await context.load.report()
          sample.metrics.replayGaps = report.gaps
          // A client cut meanwhile also ends the wait: only one that stayed open caught up.
          sample.notes.push(
            replayed && report.cut === run.cut
              ? `${cut.length} cut clients reconnected with Last-Event-ID and replayed to the last event`
              : 'cut clients did NOT all catch up after reconnecting',
          )
        }
        // Every cut of a client that never stopped reading, from the reference run to the
        // replay: counted by the load generator, so no reconnect can stand in for it.
        const final = await context.load.report()
        sample.metrics.healthyCut = reference.cut + final.cut
        if (sample.metrics.healthyCut > 0) {
          sample.notes.push(`${sample.metrics.healthyCut} healthy clients cut by the server`)
        }
      },
    )
  const samples = await interleave(context, 'S4', config.rounds, context.contenders, runOne)
  const failures = samples.flatMap((sample) => failureOf(sample) ?? [])
  return {
    id: 'S4',
    title: 'S4 slow consumers',
    params: {
      clients,
      stalled,
      events,
      'event bytes': size,
      'events per chunk': config.chunk,
      'chunks in flight': config.window,
      'our maxBufferedBytes': maxBufferedBytes,
      'our historySize': events,
    },
    samples,
    ...(failures.length > 0 && { failures }),
    method: [
      `The stalled clients stop reading (socket.pause()) before the publish; ${events} events of ${size} bytes (${((events * size) / MB).toFixed(1)} MB per client) overflow the kernel's socket buffers.`,
      `Publishing is flow-controlled by the healthy clients (at most ${config.window} chunks of ${config.chunk} events ahead of the slowest), the same for every contender, so healthy clients are never overrun and their rate is the server's capacity.`,
      'Healthy clients cut: streams of clients that never stopped reading which the server ended, counted by the load generator over the whole round (the reference run, the run with stalled clients, and the reconnects after it); any cut, or any event a healthy client misses, fails the scenario.',
      'Reference rate: the same run on the same server with no stalled client. Growth = heapUsed + external after GC, stalled clients still connected, minus before the publish. Held for stalled = that memory minus after the stalled clients are gone.',
    ],
  }
}
