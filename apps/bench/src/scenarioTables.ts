import { CONTENDER_LABELS, type ContenderId, OURS } from './protocol.js'
import { contendersOf, metric, precise, show, sum, vsBaseline, vsFloor } from './reportFormat.js'
import type { ScenarioResult } from './results.js'
import { spread, valuesOf } from './statistics.js'

/** A scenario's table: a header and one row per contender. */
export interface ScenarioTable {
  header: string[]
  rows: string[][]
}

const label = (c: ContenderId): string => CONTENDER_LABELS[c]

function fanOutTable(result: ScenarioResult): ScenarioTable {
  return {
    header: [
      'Contender',
      'deliveries/s',
      '× baseline',
      'server CPU ns/delivery',
      '× baseline',
      'write syscalls/delivery',
      'lost (all rounds)',
      'reordered',
      'p99 while publishing (ms)',
    ],
    rows: contendersOf(result).map((c) => [
      label(c),
      metric(result, c, 'deliveriesPerSec'),
      vsBaseline(result, c, 'deliveriesPerSec'),
      metric(result, c, 'cpuNsPerDelivery'),
      vsBaseline(result, c, 'cpuNsPerDelivery'),
      metric(result, c, 'writeSyscallsPerDelivery', '', precise),
      sum(result, c, 'lost'),
      sum(result, c, 'reordered'),
      metric(result, c, 'p99Ms'),
    ]),
  }
}

function latencyTable(result: ScenarioResult): ScenarioTable {
  return {
    header: [
      'Contender',
      'p50 (ms)',
      'p99 (ms)',
      'p99 × baseline',
      'p99 × framework floor',
      'max (ms)',
      'lost',
      'cut',
    ],
    rows: contendersOf(result).map((c) => [
      label(c),
      metric(result, c, 'p50Ms'),
      metric(result, c, 'p99Ms'),
      vsBaseline(result, c, 'p99Ms'),
      vsFloor(result, c, 'p99Ms'),
      metric(result, c, 'maxMs'),
      sum(result, c, 'lost'),
      sum(result, c, 'cut'),
    ]),
  }
}

function idleTable(result: ScenarioResult): ScenarioTable {
  return {
    header: [
      'Contender',
      'RSS KB/conn',
      '× baseline',
      'RSS × framework floor',
      'heap KB/conn',
      '× baseline',
      'heap × framework floor',
      'connect all (ms)',
    ],
    rows: contendersOf(result).map((c) => [
      label(c),
      metric(result, c, 'rssKB'),
      vsBaseline(result, c, 'rssKB'),
      vsFloor(result, c, 'rssKB'),
      metric(result, c, 'heapKB'),
      vsBaseline(result, c, 'heapKB'),
      vsFloor(result, c, 'heapKB'),
      metric(result, c, 'connectMs'),
    ]),
  }
}

function slowConsumersTable(result: ScenarioResult): ScenarioTable {
  return {
    header: [
      'Contender',
      'healthy deliveries/s',
      '× baseline',
      '× own reference',
      'healthy: cut / events missed',
      'growth MB',
      'held for stalled MB (bound)',
      'peak RSS growth MB',
      'stalled: cut / caught up',
      'replay after reconnect (ms)',
    ],
    rows: contendersOf(result).map((c) => [
      label(c),
      metric(result, c, 'healthyRate'),
      vsBaseline(result, c, 'healthyRate'),
      show(spread(valuesOf(result.samples, c, 'rateVsReference'))),
      `${sum(result, c, 'healthyCut')} / ${sum(result, c, 'healthyMissed')}`,
      metric(result, c, 'growthMB'),
      `${metric(result, c, 'stalledHeldMB')}${OURS.includes(c) ? ` (≤ ${metric(result, c, 'boundMB')})` : ''}`,
      metric(result, c, 'peakRssGrowthMB'),
      `${sum(result, c, 'stalledCut')} / ${sum(result, c, 'stalledCaughtUp')}`,
      metric(result, c, 'replayMs'),
    ]),
  }
}

function replayTable(result: ScenarioResult): ScenarioTable {
  return {
    header: ['Contender', 'catch-up (ms)', 'connect only (ms)', 'events per client'],
    rows: contendersOf(result).map((c) => [
      label(c),
      metric(result, c, 'catchUpMs'),
      metric(result, c, 'connectOnlyMs'),
      metric(result, c, 'eventsPerClient'),
    ]),
  }
}

function singleReaderTable(result: ScenarioResult): ScenarioTable {
  return {
    header: [
      'Contender',
      'MB/s',
      '× pace',
      '× baseline',
      'cut (rounds)',
      'lost events (all rounds)',
      'server CPU ms/MB',
      'write syscalls/event',
      'peak RSS growth MB',
      'publishing took (ms)',
    ],
    rows: contendersOf(result).map((c) => {
      const cuts = valuesOf(result.samples, c, 'cut')
      return [
        label(c),
        metric(result, c, 'MBps'),
        metric(result, c, 'ofPace', '', precise),
        vsBaseline(result, c, 'MBps'),
        cuts.length === 0 ? '—' : `${cuts.filter((n) => n > 0).length} of ${cuts.length}`,
        sum(result, c, 'lost'),
        metric(result, c, 'cpuMsPerMB', '', precise),
        metric(result, c, 'writeSyscallsPerEvent', '', precise),
        metric(result, c, 'peakRssGrowthMB'),
        metric(result, c, 'publishMs'),
      ]
    }),
  }
}

/** The table of one scenario's results (none for the Redis and scale-out pairs). */
export function scenarioTable(result: ScenarioResult): ScenarioTable {
  const id = result.id
  if (id === 'S1' || id === 'S1b') return fanOutTable(result)
  if (id.startsWith('S2')) return latencyTable(result)
  if (id === 'S3') return idleTable(result)
  if (id === 'S4') return slowConsumersTable(result)
  if (id === 'S5') return replayTable(result)
  if (id.startsWith('S6')) return singleReaderTable(result)
  return { header: [], rows: [] }
}
